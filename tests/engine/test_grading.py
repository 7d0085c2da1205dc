"""Score assembly: caps, scale, blend, cut-offs, policy rules, reasons."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest
from engine_testkit import run, snapshot

from foodrisk.engine import SnapshotError, score


def _ind(code, points_per_record, *, source="penalties", category="dynamic", weight=1.0, **kw):
    """count indicator: points = points_per_record × count for counts 1..10 (linear bands)."""
    bands = [{"min": n, "max": n + 1, "points": n * points_per_record} for n in range(1, 11)]
    return {
        "code": code,
        "name": code,
        "category": category,
        "source": source,
        "aggregation": "count",
        "bands": bands,
        "weight": weight,
        "explanation": f"{code} {{value}} 次",
        **kw,
    }


def _set(indicators, **kw):
    d = {
        "code": "t",
        "name": "测试",
        "version": 1,
        "cutoffs": {"A": 30, "B": 45, "C": 60},
        "indicators": indicators,
    }
    d.update(kw)
    return d


def _penalties(n, **kw):
    return [dict(kw) for _ in range(n)]


@pytest.mark.parametrize(("n", "grade"), [(3, "A"), (4, "B"), (6, "C"), (7, "D")])
def test_cutoffs_are_inclusive_upper_bounds(n, grade):
    # 10 points per penalty: 30 → A, 40 → B, 60 → C, 70 → D
    rows = run(snapshot(penalties=_penalties(n)), _set([_ind("p", 10)]))
    assert rows[0]["grade"] == grade == rows[0]["base_grade"]


def test_half_points_use_le_cutoffs():
    rows = run(snapshot(penalties=_penalties(1)), _set([_ind("p", 30.5)]))
    assert rows[0]["total_score"] == 30.5 and rows[0]["grade"] == "B"


def test_category_cap_score_cap_and_scale():
    spec = _set(
        [_ind("s", 10, category="static.a", source="complaints"), _ind("d", 10, category="dynamic.x")],
        categories={"static": {"name": "静态", "cap": 40}, "dynamic": {"name": "动态", "cap": 60}},
        score_cap=90,
    )
    snap = snapshot(penalties=_penalties(9), complaints=[{} for _ in range(5)])
    r = run(snap, spec)[0]
    assert r["subtotals"] == {"static": 40.0, "dynamic": 60.0}
    assert r["rule_score"] == 90.0
    r = run(snap, {**spec, "scale": 0.5, "score_cap": 100})[0]
    assert r["rule_score"] == 50.0


def test_model_blend_and_missing_model_score():
    spec = _set([_ind("p", 10)], blend={"rule": 1.0, "model": 1.0})
    snap = snapshot(2, penalties=_penalties(2))
    model = pa.table({"enterprise_id": pa.array([1], pa.int64()), "model_score": [80.0]})
    rows = run(snap, spec, model_scores=model)
    assert rows[0]["model_score"] == 80.0 and rows[0]["total_score"] == 50.0 and rows[0]["grade"] == "C"
    assert rows[1]["model_score"] is None and rows[1]["total_score"] == rows[1]["rule_score"] == 0.0
    # model weight 0: reported, not used
    rows = run(snap, _set([_ind("p", 10)]), model_scores=model)
    assert rows[0]["model_score"] == 80.0 and rows[0]["total_score"] == 20.0


def test_model_scores_are_validated():
    snap = snapshot()
    spec = _set([_ind("p", 10)])
    with pytest.raises(SnapshotError, match="0–100"):
        score(
            snap,
            spec,
            date(2026, 6, 30),
            model_scores=pa.table({"enterprise_id": [1], "model_score": [120.0]}),
        )
    with pytest.raises(SnapshotError, match="model_score"):
        score(snap, spec, date(2026, 6, 30), model_scores=pa.table({"enterprise_id": [1]}))


def _rules_set(rules, **kw):
    inds = [
        _ind("p", 10),
        _ind("sig", 0, source="complaints", weight=0),
        _ind("lst", 0, source="list_entries", weight=0),
        {
            "code": "age",
            "name": "成立月数",
            "category": "signal",
            "source": "enterprises",
            "aggregation": "age_months",
            "bands": [],
            "weight": 0,
        },
        _ind("st", 5, source="inspections", category="static"),
    ]
    return _set(inds, rules=rules, **kw)


VETO = {
    "code": "veto",
    "name": "否决",
    "type": "veto",
    "grade": "D",
    "explanation": "列入名单直接D级",
    "when": [{"indicator": "lst", "op": ">=", "value": 1}],
}
RAISE1 = {
    "code": "up1",
    "name": "上调一级",
    "type": "raise",
    "steps": 1,
    "when": [{"indicator": "sig", "op": ">=", "value": 1}],
}
RAISE2 = {
    "code": "up2",
    "name": "上调两级",
    "type": "raise",
    "steps": 2,
    "when": [{"indicator": "sig", "op": ">=", "value": 2}],
}
LOWER = {
    "code": "down",
    "name": "下调一级",
    "type": "lower",
    "steps": 1,
    "explanation": "三年无违法下调",
    "when": [{"indicator": "p", "op": "=", "value": 0}, {"indicator": "age", "op": ">=", "value": 36}],
}
NEW = {
    "code": "new",
    "name": "新设企业",
    "type": "new_enterprise",
    "max_age_months": 12,
    "categories": ["static"],
    "factor": 2.0,
    "explanation": "新设企业按静态折算",
}


def test_raise_steps_take_the_largest_and_clamp():
    spec = _rules_set([RAISE1, RAISE2])
    r = run(snapshot(penalties=_penalties(4), complaints=[{}, {}]), spec)[0]
    assert r["base_grade"] == "B" and r["grade"] == "D" and r["rule_hits"] == ["up1", "up2"]
    r = run(snapshot(penalties=_penalties(7), complaints=[{}]), spec)[0]
    assert r["base_grade"] == "D" and r["grade"] == "D"


def test_lower_rule_and_raise_suppresses_lower():
    spec = _rules_set([RAISE1, LOWER])
    snap = snapshot(inspections=[{} for _ in range(7)])  # 35 points from static → B
    r = run(snap, spec)[0]
    assert r["base_grade"] == "B" and r["grade"] == "A" and r["rule_hits"] == ["down"]
    assert r["reasons"][0] == "三年无违法下调"
    snap = snapshot(inspections=[{} for _ in range(7)], complaints=[{}])
    r = run(snap, spec)[0]
    assert r["grade"] == "C" and r["rule_hits"] == ["up1"]


def test_veto_wins_over_everything():
    spec = _rules_set([VETO, RAISE1, LOWER])
    r = run(snapshot(list_entries=[{}]), spec)[0]
    assert r["base_grade"] == "A" and r["grade"] == "D" and "veto" in r["rule_hits"]
    assert r["reasons"][0] == "列入名单直接D级"
    # a veto to a *lower* grade still fixes the grade
    spec = _rules_set([{**VETO, "grade": "B"}, RAISE2])
    r = run(snapshot(list_entries=[{}], complaints=[{}, {}], penalties=_penalties(7)), spec)[0]
    assert r["base_grade"] == "D" and r["grade"] == "B"


def test_new_enterprise_graded_on_static_only():
    spec = _rules_set([NEW])
    ents = [{"enterprise_id": 1, "established_on": date(2026, 1, 1)}, {"enterprise_id": 2}]
    recs = [{"enterprise_id": e} for e in (1, 2) for _ in range(3)]
    snap = snapshot(
        enterprises=ents, inspections=recs, penalties=[{"enterprise_id": e} for e in (1, 2) for _ in range(3)]
    )
    new, old = run(snap, spec)
    assert new["new_enterprise"] is True and old["new_enterprise"] is False
    assert new["rule_score"] == 30.0  # 15 static × 2.0, penalties ignored
    assert old["rule_score"] == 45.0  # 15 static + 30 dynamic
    assert new["rule_hits"] == ["new"] and new["reasons"][0] == "新设企业按静态折算"


def test_top_reasons_by_points_then_spec_order():
    inds = [
        _ind("a", 1),
        _ind("b", 5, source="complaints"),
        _ind("c", 5, source="inspections"),
        _ind("d", 2, source="sampling_tests"),
    ]
    snap = snapshot(penalties=[{}], complaints=[{}], inspections=[{}], sampling_tests=[{}])
    r = run(snap, _set(inds))[0]
    assert r["reasons"] == ["b 1 次", "c 1 次", "d 1 次"]
    r = run(snap, _set(inds, top_reasons=1))[0]
    assert r["reasons"] == ["b 1 次"]
    r = run(snapshot(), _set(inds))[0]
    assert r["reasons"] == []


def test_custom_grades():
    spec = _set(
        [_ind("p", 10)], grades=["A", "B", "C", "D", "E"], cutoffs={"A": 10, "B": 20, "C": 30, "D": 40}
    )
    assert [run(snapshot(penalties=_penalties(n)), spec)[0]["grade"] for n in (1, 2, 3, 4, 5)] == list(
        "ABCDE"
    )
