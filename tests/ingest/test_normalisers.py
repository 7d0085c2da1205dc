import datetime as dt
from decimal import Decimal

import pytest

from foodrisk.ingest import normalisers as N


def test_full_width_and_brackets():
    assert N.text("ＡＢＣ　１２３（杭州）") == "ABC 123(杭州)"
    assert N.code(" ９１３３０１０２ ") == "91330102"


def test_name_key_folds_variants():
    base = N.name_key("德正（杭州）便利店有限责任公司")
    assert N.name_key("德正(杭州)便利店有限公司") == base
    assert N.name_key("德正（杭州）便利店 有限公司") == base
    assert N.name_key("德正（杭州）便利店\u3000有限公司") == base
    assert N.company_name("上城 区何记母婴店") == "上城区何记母婴店"


@pytest.mark.parametrize("value", ["2024-03-05", "2024/03/05", "2024年3月5日", "2024/3/5", dt.date(2024, 3, 5),
                                   dt.datetime(2024, 3, 5, 10, 0), "２０２４－０３－０５"])
def test_dates(value):
    assert N.parse_date(value) == dt.date(2024, 3, 5)


@pytest.mark.parametrize("value", ["2024-02-30", "2024-13-01", "202403050", "下月", "2024-03-32"])
def test_bad_dates(value):
    with pytest.raises(N.Invalid):
        N.parse_date(value)


def test_amounts():
    assert N.parse_amount("1,200.5") == Decimal("1200.50")
    assert N.parse_amount("") is None
    for bad in ("-1.00", "1O0.00", "abc"):
        with pytest.raises(N.Invalid):
            N.parse_amount(bad)


def test_failed_items():
    assert N.failed_items("铅(以Pb计)║0.52mg/kg║≤0.2mg/kg") == [
        {"item": "铅(以Pb计)", "result": "0.52mg/kg", "standard": "≤0.2mg/kg"}]


# ------------------------------------------------------------------------------------------- tolerant numbers
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FULL_WIDTH = str.maketrans("0123456789.,", "０１２３４５６７８９．，")
counts = st.integers(min_value=0, max_value=10**15)
cents = st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False)


@settings(deadline=None)  # the machine is shared: timing says nothing here
@given(counts)
def test_a_count_reads_however_it_is_written(n):
    for written in (str(n), f"{n:,}", f"  {n} ", f"{n}.0", f"{n}.00", str(n).translate(FULL_WIDTH), f"{n:,}".translate(FULL_WIDTH)):
        assert N.parse_count(written) == n, written
    assert N.parse_count(n) == n
    if n < 2**53:
        assert N.parse_count(float(n)) == n


@settings(deadline=None)  # the machine is shared: timing says nothing here
@given(counts)
def test_a_count_with_a_fraction_is_not_a_count(n):
    for written in (f"{n}.5", f"{n}.01", n + 0.5 if n < 2**50 else f"{n}.5", f"-{n + 1}"):
        with pytest.raises(N.Invalid):
            N.parse_count(written)


@settings(deadline=None)  # the machine is shared: timing says nothing here
@given(cents)
def test_an_amount_reads_however_it_is_written(amount):
    for written in (str(amount), f"{amount:,}", f" {amount} ", f"{amount}元", f"¥{amount:,}", f"人民币{amount}元",
                    str(amount).translate(FULL_WIDTH), f"{amount / 10000}万元", f"{amount / 10000}万"):
        assert N.parse_amount(written) == amount, written
    assert N.parse_amount(amount) == amount


@settings(deadline=None)  # the machine is shared: timing says nothing here
@given(st.integers(min_value=N.NUMBER_MAX_DIGITS, max_value=400))
def test_numbers_beyond_any_column_are_out_of_range(digits):
    for written in ("9" * (digits + 1), f"1e{digits}", f"1.5e{digits}万元"):
        for parse in (N.parse_amount, N.parse_count):
            with pytest.raises(N.OutOfRange):
                parse(written)


@settings(deadline=None)  # the machine is shared: timing says nothing here
@given(st.one_of(st.text(), st.floats(), st.integers(), st.booleans(), st.none(), st.decimals()))
def test_any_cell_parses_or_is_invalid_never_crashes(value):
    for parse in (N.parse_amount, N.parse_count):
        try:
            result = parse(value)
        except N.Invalid:
            continue
        assert result is None or (result >= 0 and (parse is N.parse_count or result.as_tuple().exponent == -2))
