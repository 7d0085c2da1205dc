"""Indicator-set spec: round trip, profiles, validation errors."""

from __future__ import annotations

import copy
import json

import pytest
from engine_testkit import one_indicator_set

from foodrisk.engine import IndicatorSet, SpecError, list_profiles, load_profile, profile_dict


def _errors(d: dict) -> list[tuple[str, str, str]]:
    with pytest.raises(SpecError) as exc:
        IndicatorSet.from_dict(d)
    return exc.value.issues


def _has(issues, where: str, field: str, text: str = "") -> bool:
    return any(w == where and f.startswith(field) and text in m for w, f, m in issues)


def test_profiles_shipped_and_valid():
    assert set(list_profiles()) >= {"food_2016", "food_2022_draft", "anhui"}
    for name in list_profiles():
        spec = load_profile(name)
        assert spec.code == name
        # every indicator cites its source in regulations.md
        assert all("regulations.md" in i.description for i in spec.indicators), name
        assert all(i.name and i.explanation for i in spec.indicators)


def test_food_2016_shape():
    spec = load_profile("food_2016")
    assert 20 <= len(spec.indicators) <= 40
    assert spec.cutoffs == {"A": 30, "B": 45, "C": 60}
    assert spec.categories["static"].cap == 40 and spec.categories["dynamic"].cap == 60
    types = {r.type for r in spec.rules}
    assert types == {"veto", "raise", "lower", "new_enterprise"}
    sources = {i.source for i in spec.indicators}
    assert sources == {
        "enterprises",
        "licences",
        "inspections",
        "sampling_tests",
        "penalties",
        "complaints",
        "list_entries",
    }


@pytest.mark.parametrize("name", ["food_2016", "food_2022_draft", "anhui"])
def test_round_trip_is_stable_and_json(name):
    d = profile_dict(name)
    spec = IndicatorSet.from_dict(d)
    out = spec.to_dict()
    assert json.loads(json.dumps(out, ensure_ascii=False)) == out
    assert IndicatorSet.from_dict(out).to_dict() == out


def test_unknown_keys_are_reported():
    d = one_indicator_set({"windw_months": 12})
    d["cutof"] = 1
    issues = _errors(d)
    assert _has(issues, "indicator 'x'", "windw_months", "unknown field")
    assert _has(issues, "indicator set", "cutof", "unknown field")


def test_unknown_keys_in_bands_and_conditions_are_reported():
    d = one_indicator_set({"bands": [{"equal": 1, "points": 3}, {"equals": 1, "min": 0, "points": 2}],
                           "filter": [{"field": "severity", "operator": "=", "value": "heavy"}]})
    d["rules"] = [{"code": "r", "name": "r", "type": "veto", "grade": "D",
                   "when": [{"indicator": "x", "op": ">", "val": 1}]}]
    issues = _errors(d)
    assert ("indicator 'x'", "bands[1].equal", "unknown field") in issues
    assert _has(issues, "indicator 'x'", "bands[2]", "either equals or min/max")
    assert ("indicator 'x'", "filter[1].operator", "unknown field") in issues
    assert ("rule 'r'", "when[1].val", "unknown field") in issues


@pytest.mark.parametrize(
    ("indicator", "field", "text"),
    [
        ({"source": "nope"}, "source", "unknown table"),
        ({"aggregation": "median"}, "aggregation", "unknown aggregation"),
        ({"aggregation": "sum"}, "field", "needs a field"),
        ({"aggregation": "sum", "field": "severity"}, "field", "numeric"),
        ({"aggregation": "count", "field": "fine"}, "field", "not used"),
        ({"aggregation": "sum", "field": "fined"}, "field", "no column"),
        (
            {"filter": [{"field": "severity", "op": "=", "value": "heavvy"}]},
            "filter.severity",
            "unknown value",
        ),
        ({"filter": [{"field": "severity", "op": "~", "value": "heavy"}]}, "filter.severity", "unknown op"),
        ({"filter": [{"field": "fine", "op": ">", "value": "big"}]}, "filter.fine", "does not fit"),
        ({"filter": [{"field": "severity", "op": "in", "value": []}]}, "filter.severity", "non-empty list"),
        (
            {"filter": [{"field": "decided_on", "op": ">", "value": "2026-13-01"}]},
            "filter.decided_on",
            "does not fit",
        ),
        ({"filter": [{"field": "fine", "op": "is_null", "value": 1}]}, "filter.fine", "takes no value"),
        ({"filter": [{"field": "bogus", "op": "=", "value": 1}]}, "filter.bogus", "no column"),
        ({"window_months": 0}, "window_months", "integer"),
        ({"window_months": 1.5}, "window_months", "integer"),
        ({"aggregation": "trend", "window_months": 7}, "window_months", "even"),
        ({"bands": [{"min": 5, "max": 5, "points": 1}]}, "bands[1]", "greater than min"),
        ({"bands": [{"min": 1, "points": "ten"}]}, "bands[1]", "points"),
        ({"bands": [{"equals": "yes", "points": 1}]}, "bands[1]", "number"),
        ({"bands": []}, "bands", "at least one band"),
        ({"applies_to": ["bakery"]}, "applies_to", "unknown business form"),
        ({"explanation": "共 {count} 次"}, "explanation", "unknown placeholder"),
        ({"explanation": "共 {value:>10} 次"}, "explanation", "unsupported format"),
        ({"code": "Bad Code"}, "code", "lower-case"),
        ({"category": "Dynamic"}, "category", "dotted"),
        ({"weight": float("nan")}, "weight", "finite"),
        ({"source": "enterprises", "aggregation": "count"}, "source", "record table"),
        ({"aggregation": "value", "field": "scale"}, "source", "enterprises"),
    ],
)
def test_indicator_validation_names_indicator_and_field(indicator, field, text):
    issues = _errors(one_indicator_set(indicator))
    assert _has(
        issues,
        "indicator 'x'" if "code" not in indicator else f"indicator '{indicator['code']}'",
        field,
        text,
    ), issues


def test_value_bands_must_match_type():
    issues = _errors(
        one_indicator_set(
            {
                "source": "enterprises",
                "aggregation": "value",
                "field": "scale",
                "bands": [{"min": 1, "points": 2}],
            }
        )
    )
    assert _has(issues, "indicator 'x'", "bands[1]", "equals")
    issues = _errors(
        one_indicator_set(
            {
                "source": "enterprises",
                "aggregation": "value",
                "field": "scale",
                "bands": [{"equals": "huge", "points": 2}],
            }
        )
    )
    assert _has(issues, "indicator 'x'", "bands[1]", "unknown value")


def test_set_level_validation():
    d = one_indicator_set(
        {}, cutoffs={"A": 50, "B": 40, "C": 60}, blend={"rule": 0, "model": 0}, score_cap=-1
    )
    issues = _errors(d)
    assert _has(issues, "indicator set", "cutoffs", "increase")
    assert _has(issues, "indicator set", "blend")
    assert _has(issues, "indicator set", "score_cap")
    issues = _errors(one_indicator_set({}, cutoffs={"A": 30, "B": 45}))
    assert _has(issues, "indicator set", "cutoffs", "A, B, C")
    d = one_indicator_set({})
    d["indicators"].append(copy.deepcopy(d["indicators"][0]))
    assert _has(_errors(d), "indicator 'x'", "code", "duplicate")


def test_rule_validation():
    base = one_indicator_set({})
    base["indicators"].append(
        {
            "code": "off",
            "name": "停用",
            "category": "dynamic",
            "source": "penalties",
            "aggregation": "count",
            "bands": [],
            "weight": 0,
            "enabled": False,
        }
    )
    base["rules"] = [
        {
            "code": "v",
            "name": "否决",
            "type": "veto",
            "grade": "E",
            "when": [{"indicator": "x", "op": ">=", "value": 1}],
        },
        {
            "code": "r",
            "name": "上调",
            "type": "raise",
            "steps": 5,
            "when": [{"indicator": "nope", "op": "=", "value": 1}],
        },
        {"code": "l", "name": "下调", "type": "lower", "when": [{"indicator": "off", "op": "=", "value": 0}]},
        {"code": "w", "name": "无条件", "type": "raise", "when": []},
        {"code": "t", "name": "类型", "type": "bonus", "when": []},
        {
            "code": "n",
            "name": "新设",
            "type": "new_enterprise",
            "max_age_months": 0,
            "categories": ["static"],
        },
        {
            "code": "s",
            "name": "类型不符",
            "type": "raise",
            "when": [{"indicator": "x", "op": "=", "value": "many"}],
        },
    ]
    issues = _errors(base)
    assert _has(issues, "rule 'v'", "grade")
    assert _has(issues, "rule 'r'", "steps")
    assert _has(issues, "rule 'r'", "when.nope", "unknown indicator")
    assert _has(issues, "rule 'l'", "when.off", "disabled")
    assert _has(issues, "rule 'w'", "when", "at least one")
    assert _has(issues, "rule 't'", "type")
    assert _has(issues, "rule 'n'", "max_age_months")
    assert _has(issues, "rule 'n'", "categories", "static")
    assert _has(issues, "rule 's'", "when.x", "does not fit")


def test_error_message_lists_every_issue():
    d = one_indicator_set({"window_months": -1, "applies_to": ["x"]})
    with pytest.raises(SpecError) as exc:
        IndicatorSet.from_dict(d)
    msg = str(exc.value)
    assert "indicator 'x': window_months" in msg and "indicator 'x': applies_to" in msg
    assert len(exc.value.issues) == 2


def test_signal_only_indicator_needs_no_bands():
    spec = IndicatorSet.from_dict(one_indicator_set({"weight": 0, "bands": []}))
    assert spec.indicators[0].weight == 0
