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
