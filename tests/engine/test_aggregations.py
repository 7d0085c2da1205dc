"""Behaviour of each aggregation, window edge, band edge and derived column."""

from __future__ import annotations

from datetime import date

import pytest
from engine_testkit import AS_OF, one_indicator_set, run, snapshot, value

D = date


# -- windows and point-in-time --------------------------------------------------------------------------------


def test_count_window_is_half_open_and_future_is_ignored():
    # window 12 months before 2026-06-30: (2025-06-30, 2026-06-30]
    snap = snapshot(
        penalties=[
            {"decided_on": D(2025, 6, 30)},  # on the window start: excluded
            {"decided_on": D(2025, 7, 1)},  # first day inside
            {"decided_on": D(2026, 6, 30)},  # as-of itself: included
            {"decided_on": D(2026, 7, 1)},  # after as-of: invisible
        ]
    )
    assert value(snap, {"window_months": 12}) == (2, 10.0)
    assert value(snap, {"window_months": None}) == (3, 10.0)  # all time, still not the future one


def test_window_month_end_is_clamped():
    # as-of 2024-03-31, 1 month → window (2024-02-29, 2024-03-31]
    snap = snapshot(penalties=[{"decided_on": D(2024, 2, 29)}, {"decided_on": D(2024, 3, 1)}])
    assert value(snap, {"window_months": 1}, as_of=D(2024, 3, 31)) == (1, 10.0)


def test_count_with_filters():
    snap = snapshot(
        penalties=[
            {"severity": "heavy", "fine": 5000.0},
            {"severity": "serious", "fine": 50.0},
            {"severity": "minor", "fine": 50000.0},
        ]
    )
    f = [{"field": "severity", "op": "in", "value": ["heavy", "serious"]}]
    assert value(snap, {"filter": f})[0] == 2
    f2 = f + [{"field": "fine", "op": ">=", "value": 5000}]
    assert value(snap, {"filter": f2})[0] == 1
    assert value(snap, {"filter": [{"field": "severity", "op": "not_in", "value": ["minor"]}]})[0] == 2
    assert value(snap, {"filter": [{"field": "severity", "op": "!=", "value": "minor"}]})[0] == 2


def test_not_equal_matches_missing_values():
    snap = snapshot(complaints=[{"channel": None}, {"channel": "12345"}])
    ind = {"source": "complaints", "filter": [{"field": "channel", "op": "!=", "value": "12345"}]}
    assert value(snap, ind)[0] == 1
    ind = {"source": "complaints", "filter": [{"field": "channel", "op": "is_null"}]}
    assert value(snap, ind)[0] == 1


def test_string_literals_are_escaped():
    nasty = "x' OR 1=1 --"
    snap = snapshot(penalties=[{"violation_type": nasty}, {"violation_type": "hygiene"}])
    ind = {
        "filter": [{"field": "violation_type", "op": "=", "value": nasty}],
        "explanation": "类型 '{value}' \"ok\"",
    }
    assert value(snap, ind) == (1, 10.0)
    rows = run(snap, one_indicator_set(ind))
    assert rows[0]["reasons"] == ["类型 '1' \"ok\""]


def test_relative_date_filter():
    snap = snapshot(
        licences=[{"expires_on": D(2026, 8, 1)}, {"expires_on": D(2027, 8, 1)}, {"expires_on": D(2026, 1, 1)}]
    )
    ind = {
        "source": "licences",
        "filter": [
            {"field": "valid", "op": "=", "value": True},
            {"field": "expires_on", "op": "<=", "value": {"as_of_offset_days": 90}},
        ],
    }
    assert value(snap, ind)[0] == 1


# -- aggregations ---------------------------------------------------------------------------------------------


def test_sum_is_exact_and_zero_without_records():
    snap = snapshot(2, penalties=[{"fine": 0.1}, {"fine": 0.2}, {"fine": None}])
    ind = {"aggregation": "sum", "field": "fine", "bands": [{"min": 0.3, "max": None, "points": 5}]}
    assert value(snap, ind) == (0.3, 5.0)  # decimal sum: 0.1 + 0.2 hits the 0.3 band edge exactly
    assert value(snap, ind, eid=2) == (0.0, 0.0)


def test_sum_of_integer_column():
    snap = snapshot(inspections=[{"key_items_failed": 2}, {"key_items_failed": 3}])
    ind = {"source": "inspections", "aggregation": "sum", "field": "key_items_failed"}
    assert value(snap, ind) == (5, 10.0)


def test_max_min_are_null_without_records():
    snap = snapshot(2, penalties=[{"fine": 10.0}, {"fine": 30.0}])
    mx = {
        "aggregation": "max",
        "field": "fine",
        "bands": [{"equals": None, "points": 7}, {"min": 20, "points": 3}],
    }
    assert value(snap, mx) == (30.0, 3.0)
    assert value(snap, mx, eid=2) == (None, 7.0)
    mn = {"aggregation": "min", "field": "fine", "bands": [{"max": 20, "points": 4}]}
    assert value(snap, mn) == (10.0, 4.0)


def test_exists():
    snap = snapshot(2, penalties=[{"licence_revoked": True}, {"licence_revoked": False}])
    ind = {
        "aggregation": "exists",
        "filter": [{"field": "licence_revoked", "op": "=", "value": True}],
        "bands": [{"equals": True, "points": 10}],
    }
    assert value(snap, ind) == (True, 10.0)
    assert value(snap, ind, eid=2) == (False, 0.0)


def test_days_since_last():
    snap = snapshot(
        2,
        inspections=[
            {"inspected_on": D(2026, 6, 20), "result": "fail"},
            {"inspected_on": D(2026, 6, 10), "result": "pass"},
            {"inspected_on": D(2026, 7, 10), "result": "pass"},  # future
        ],
    )
    ind = {
        "source": "inspections",
        "aggregation": "days_since_last",
        "filter": [{"field": "result", "op": "in", "value": ["pass", "basic"]}],
        "bands": [{"equals": None, "points": 6}, {"min": 15, "points": 2}],
    }
    assert value(snap, ind) == (20, 2.0)
    assert value(snap, ind, eid=2) == (None, 6.0)  # never: the null band


def test_rate_and_denominator_filter():
    snap = snapshot(
        2,
        sampling_tests=[
            {"result": "fail", "level": "national"},
            {"result": "pass", "level": "national"},
            {"result": "pass", "level": "city"},
            {"result": "fail", "level": "city"},
        ],
    )
    ind = {
        "source": "sampling_tests",
        "aggregation": "rate",
        "filter": [{"field": "result", "op": "=", "value": "fail"}],
        "bands": [{"min": 0.5, "points": 4}],
        "explanation": "不合格率 {value:.0%}",
    }
    assert value(snap, ind) == (0.5, 4.0)
    assert value(snap, ind, eid=2) == (None, 0.0)  # no tests: undefined, no points
    ind2 = {
        **ind,
        "filter": ind["filter"] + [{"field": "level", "op": "=", "value": "national"}],
        "denominator_filter": [{"field": "level", "op": "=", "value": "national"}],
    }
    assert value(snap, ind2)[0] == 0.5
    rows = run(snap, one_indicator_set(ind))
    assert rows[0]["reasons"] == ["不合格率 50%"]


def test_trend_diff_and_ratio():
    # window 12 → recent (2025-12-30, 2026-06-30] vs previous (2025-06-30, 2025-12-30]
    snap = snapshot(
        complaints=[
            {"received_on": D(2026, 6, 1)},
            {"received_on": D(2026, 1, 1)},
            {"received_on": D(2025, 12, 31)},
            {"received_on": D(2025, 12, 30)},  # previous half (mid-point belongs to the older half)
            {"received_on": D(2025, 6, 30)},  # outside
        ]
    )
    base = {
        "source": "complaints",
        "aggregation": "trend",
        "window_months": 12,
        "bands": [{"min": 2, "points": 3}],
    }
    assert value(snap, base) == (2, 3.0)  # 3 recent − 1 previous
    ratio = {**base, "trend_mode": "ratio"}
    assert value(snap, ratio) == (2.0, 3.0)  # (3 + 1) / (1 + 1)


def test_value_and_age_months():
    snap = snapshot(
        enterprises=[
            {"enterprise_id": 1, "scale": "large", "static_tier": 4, "established_on": D(2025, 7, 1)},
            {"enterprise_id": 2, "scale": "micro", "static_tier": 1, "established_on": D(2025, 6, 30)},
        ]
    )
    scale = {
        "source": "enterprises",
        "aggregation": "value",
        "field": "scale",
        "bands": [{"equals": "large", "points": 5}],
        "explanation": "规模：{label}",
    }
    assert value(snap, scale) == ("large", 5.0)
    assert value(snap, scale, eid=2) == ("micro", 0.0)
    rows = run(snap, one_indicator_set(scale))
    assert rows[0]["reasons"] == ["规模：大型"]
    tier = {
        "source": "enterprises",
        "aggregation": "value",
        "field": "static_tier",
        "bands": [{"equals": 4, "points": 30}],
    }
    assert value(snap, tier) == (4, 30.0)
    age = {"source": "enterprises", "aggregation": "age_months", "bands": [{"max": 12, "points": 1}]}
    assert value(snap, age) == (11, 1.0)  # 2025-07-01 → 2026-06-30: 11 complete months
    assert value(snap, age, eid=2) == (12, 0.0)


def test_enterprises_established_after_as_of_are_not_scored():
    snap = snapshot(
        enterprises=[
            {"enterprise_id": 1},
            {"enterprise_id": 2, "established_on": D(2026, 7, 1)},
            {"enterprise_id": 3, "established_on": None},
        ]
    )
    rows = run(snap, one_indicator_set({}))
    assert [r["enterprise_id"] for r in rows] == [1, 3]


# -- bands, weights, applicability ----------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "points"), [(0, 0.0), (1, 8.0), (2, 14.0), (3, 20.0), (9, 20.0)])
def test_band_edges_min_inclusive_max_exclusive(n, points):
    snap = snapshot(penalties=[{} for _ in range(n)])
    bands = [
        {"min": 1, "max": 2, "points": 8},
        {"min": 2, "max": 3, "points": 14},
        {"min": 3, "max": None, "points": 20},
    ]
    assert value(snap, {"bands": bands}) == (n, points)


def test_first_matching_band_wins_and_weight_multiplies():
    snap = snapshot(penalties=[{}, {}])
    bands = [{"min": 1, "points": 4}, {"min": 2, "points": 9}]
    assert value(snap, {"bands": bands, "weight": 0.5}) == (2, 2.0)


def test_applies_to_gives_null_value_and_no_points():
    snap = snapshot(
        enterprises=[
            {"enterprise_id": 1, "business_form": "catering"},
            {"enterprise_id": 2, "business_form": "sales"},
        ],
        penalties=[{"enterprise_id": 1}, {"enterprise_id": 2}],
    )
    ind = {"applies_to": ["catering"], "bands": [{"equals": None, "points": 3}, {"min": 1, "points": 10}]}
    assert value(snap, ind) == (1, 10.0)
    assert value(snap, ind, eid=2) == (None, 0.0)


# -- derived columns and credit repair -----------------------------------------------------------------------


def test_list_entry_active_at_as_of():
    snap = snapshot(
        4,
        list_entries=[
            {"enterprise_id": 1, "removed_on": None},
            {"enterprise_id": 2, "removed_on": D(2026, 6, 30)},  # removed on as-of: no longer listed
            {"enterprise_id": 3, "removed_on": D(2026, 7, 1)},  # removed later: still listed at as-of
            {"enterprise_id": 4, "listed_on": D(2026, 7, 1)},  # listed later: invisible
        ],
    )
    ind = {
        "source": "list_entries",
        "aggregation": "exists",
        "filter": [{"field": "active", "op": "=", "value": True}],
        "bands": [{"equals": True, "points": 5}],
    }
    assert [value(snap, ind, eid=i)[0] for i in (1, 2, 3, 4)] == [True, False, True, False]
    # a future removal date is not visible to a removed_on filter either
    ind2 = {
        **ind,
        "aggregation": "count",
        "filter": [{"field": "removed_on", "op": "is_null"}],
        "bands": [{"min": 1, "points": 1}],
    }
    assert value(snap, ind2, eid=3)[0] == 1


def test_repaired_records_stop_counting_unless_disabled():
    snap = snapshot(penalties=[{"repaired": True}, {"repaired": False}])
    assert value(snap, {})[0] == 1
    assert value(snap, {}, exclude_repaired=False)[0] == 2


def test_licence_valid_derived_column():
    snap = snapshot(
        3,
        licences=[
            {"enterprise_id": 1, "expires_on": D(2026, 6, 30)},  # valid through as-of
            {"enterprise_id": 2, "expires_on": D(2026, 6, 29)},
            {"enterprise_id": 3, "status": "revoked"},
        ],
    )
    ind = {
        "source": "licences",
        "filter": [{"field": "valid", "op": "=", "value": True}],
        "bands": [{"equals": 0, "points": 8}],
    }
    assert [value(snap, ind, eid=i) for i in (1, 2, 3)] == [(1, 0.0), (0, 8.0), (0, 8.0)]


def test_details_and_subtotals_json():
    snap = snapshot(penalties=[{}])
    rows = run(snap, one_indicator_set({}))
    r = rows[0]
    assert r["details"] == {"x": [1, 10.0]}
    assert r["subtotals"] == {"dynamic": 10.0}
    assert r["rule_score"] == 10.0 and r["total_score"] == 10.0 and r["grade"] == "A"
    assert AS_OF.year == 2026
