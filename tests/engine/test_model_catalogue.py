"""The feature catalogue (declared as data, compiled to plain SQL): values on a hand-made archive, point in
time, engine-neutral SQL (sqlglot → Spark), and the catalogue's own consistency."""

from __future__ import annotations

from datetime import date

import pyarrow.compute as pc
import pytest
import sqlglot
from engine_testkit import snapshot

from foodrisk.engine.model import CATALOGUE, FEATURES, catalogue_table, compile_features
from foodrisk.engine.schema import TABLE_NAMES

AS_OF = date(2026, 6, 30)


def archive(extra_after: bool = False):
    ins = [
        {"inspected_on": date(2024, 1, 10), "result": "fail", "key_items_failed": 2, "general_items_failed": 1},
        {"inspected_on": date(2026, 1, 10), "result": "fail", "key_items_failed": 1, "general_items_failed": 3},
        {"inspected_on": date(2026, 6, 1), "result": "pass"},
    ]
    lic = [
        {"issued_on": date(2021, 1, 1), "expires_on": date(2031, 1, 1)},  # valid at as_of
        {"enterprise_id": 2, "issued_on": date(2015, 1, 1), "expires_on": date(2020, 1, 1)},  # expired
    ]
    comp = [{"received_on": date(2026, 5, 1), "verified": True}, {"received_on": date(2025, 1, 1)}]
    lists = [{"enterprise_id": 2, "listed_on": date(2025, 1, 1), "removed_on": date(2026, 1, 1)}]
    pens = [{"decided_on": date(2025, 8, 1), "severity": "heavy", "fine": 5000.0}]
    if extra_after:  # dated after as_of: must change nothing
        ins.append({"inspected_on": date(2026, 7, 1), "result": "fail", "key_items_failed": 5})
        lic.append({"enterprise_id": 2, "issued_on": date(2026, 7, 1), "expires_on": date(2031, 7, 1)})
        comp.append({"received_on": date(2026, 8, 1), "verified": True})
        lists.append({"listed_on": date(2026, 9, 1)})
        pens.append({"decided_on": date(2026, 7, 2), "severity": "serious"})
    return snapshot(2, inspections=ins, licences=lic, complaints=comp, list_entries=lists, penalties=pens)


def values(snap, eid: int) -> dict:
    t = catalogue_table(snap, AS_OF)
    return t.filter(pc.equal(t["enterprise_id"], eid)).to_pylist()[0]


def test_values_on_a_hand_made_archive():
    v = values(archive(), 1)
    assert v["n_insp_3m"] == 1 and v["n_insp_6m"] == 2 and v["n_insp_12m"] == 2 and v["n_insp_36m"] == 3
    assert v["n_insp_fail_12m"] == 1 and v["n_insp_fail_36m"] == 2 and v["n_insp_key_36m"] == 2
    assert v["key_items_36m"] == 3 and v["general_items_36m"] == 4
    assert v["insp_fail_share_36m"] == pytest.approx(2 / 3)
    assert v["insp_fail_trend_12m"] == 1  # one failure in the last 12 months, none in the 12 before
    assert v["days_since_insp"] == 29 and v["days_since_insp_fail"] == (AS_OF - date(2026, 1, 10)).days
    assert v["last_insp_fail"] == 0 and v["last_insp_key_items"] == 0
    assert v["licence_valid"] == 1 and v["licence_age_days"] == (AS_OF - date(2021, 1, 1)).days
    assert v["n_complaint_3m"] == 1 and v["n_complaint_36m"] == 2 and v["n_complaint_verified_12m"] == 1
    assert v["complaint_verified_share_36m"] == pytest.approx(0.5)
    assert v["n_penalty_12m"] == 1 and v["n_penalty_heavy_36m"] == 1 and v["fine_36m"] == 5000.0
    assert v["listed_now"] == 0 and v["static_tier"] == 1 and v["form_sales"] == 1 and v["form_catering"] == 0
    e2 = values(archive(), 2)
    assert e2["licence_valid"] == 0 and e2["n_insp_36m"] == 0 and e2["days_since_insp"] is None
    assert e2["listed_now"] == 0 and e2["n_listed_ever"] == 1  # removed before as_of


def test_region_shares_are_what_inspectors_of_the_area_found_lately():
    """Every enterprise of a region gets the region's recent share (its own records included); another region's
    records and those before the window or after as-of count for nothing; a region without inspections is NULL."""
    ents = [{"enterprise_id": 1, "region_code": "330102"}, {"enterprise_id": 2, "region_code": "330102"},
            {"enterprise_id": 3, "region_code": "330106"}, {"enterprise_id": 4, "region_code": "330108"}]
    ins = [
        {"enterprise_id": 1, "inspected_on": date(2026, 5, 1), "result": "fail", "key_items_failed": 1},
        {"enterprise_id": 2, "inspected_on": date(2026, 6, 20), "result": "pass"},
        {"enterprise_id": 2, "inspected_on": date(2026, 1, 5), "result": "fail", "key_items_failed": 0},
        {"enterprise_id": 3, "inspected_on": date(2026, 6, 1), "result": "pass"},
        {"enterprise_id": 3, "inspected_on": date(2026, 7, 1), "result": "fail", "key_items_failed": 3},  # after
        {"enterprise_id": 3, "inspected_on": date(2024, 1, 1), "result": "fail", "key_items_failed": 3},  # before
    ]
    t = {r["enterprise_id"]: r for r in catalogue_table(snapshot(enterprises=ents, inspections=ins), AS_OF).to_pylist()}
    assert t[1]["region_insp_key_share_3m"] == t[2]["region_insp_key_share_3m"] == pytest.approx(1 / 2)
    assert t[1]["region_insp_key_share_12m"] == pytest.approx(1 / 3)
    assert t[1]["region_insp_fail_share_12m"] == pytest.approx(2 / 3) and t[1]["region_insp_fail_share_3m"] == 0.5
    assert t[3]["region_insp_key_share_3m"] == 0 and t[3]["region_insp_key_share_12m"] == 0
    assert t[4]["region_insp_key_share_3m"] is None


def test_point_in_time_records_after_as_of_change_nothing():
    a = catalogue_table(archive(), AS_OF)
    b = catalogue_table(archive(extra_after=True), AS_OF)
    assert a.equals(b)


@pytest.mark.parametrize("dialect", ["spark", "postgres"])
def test_compiled_sql_transpiles(dialect):
    sql = compile_features(AS_OF, TABLE_NAMES)
    out = sqlglot.transpile(sql, read="duckdb", write=dialect)[0]
    assert "LEFT JOIN" in out and all(f.name in out for f in CATALOGUE)


def test_catalogue_is_consistent():
    assert len(FEATURES) == len(CATALOGUE)  # unique names
    assert all(f.label and not f.label.isascii() for f in CATALOGUE)  # Chinese labels
    for f in CATALOGUE:
        assert f.kind in {"count", "sum", "share", "trend", "days_since", "last", "attribute", "category",
                          "region_share"}
        assert f.direction in (0, 1)
        if f.direction:  # monotone only where the regulation fixes the direction: adverse records
            assert f.kind in ("count", "sum") and f.table in (
                "inspections", "sampling_tests", "penalties", "complaints", "list_entries")


def test_missing_tables_give_null_features():
    snap = archive()
    del snap["complaints"]
    t = catalogue_table(snap, AS_OF)
    assert t["n_complaint_12m"].null_count == t.num_rows


def test_food_categories_and_licence_flags():
    ents = [{"enterprise_id": 1, "food_categories": "热食类食品制售；冷食类食品制售"},
            {"enterprise_id": 2, "food_categories": None}, {"enterprise_id": 3, "food_categories": "预包装食品"}]
    lic = [{"enterprise_id": 1, "kind": "JY", "issued_on": date(2021, 1, 1), "expires_on": date(2031, 1, 1)},
           {"enterprise_id": 3, "kind": "SC", "issued_on": date(2019, 1, 1), "expires_on": date(2024, 1, 1)},
           {"enterprise_id": 3, "kind": "SC", "issued_on": date(2026, 7, 1), "expires_on": date(2031, 7, 1)}]
    snap = snapshot(enterprises=ents, licences=lic)
    one, two, three = (values(snap, i) for i in (1, 2, 3))
    assert one["n_food_categories"] == 2 and one["food_category"] == "热食类食品制售；冷食类食品制售"
    assert two["n_food_categories"] == 0 and two["food_category"] is None
    assert one["licence_sc"] == 0 and one["n_licences"] == 1 and one["licence_valid"] == 1
    # the SC licence issued after as_of is not there yet: one expired SC licence
    assert three["licence_sc"] == 1 and three["n_licences"] == 1 and three["licence_valid"] == 0
    assert two["licence_sc"] == 0 and two["n_licences"] == 0
