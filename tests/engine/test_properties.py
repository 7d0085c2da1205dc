"""Hypothesis properties: monotone in bad records, point-in-time, windows, veto, determinism."""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc
from engine_testkit import table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foodrisk.engine import IndicatorSet, load_profile, sample_snapshot, score
from foodrisk.engine.sample import VIOLATION_TYPES

AS_OF = date(2026, 11, 1)
SEEDS = st.integers(0, 2)
GRADE = {"A": 0, "B": 1, "C": 2, "D": 3}
PROPS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@lru_cache(maxsize=8)
def base(seed: int) -> dict[str, pa.Table]:
    return sample_snapshot(60, 1500, as_of=AS_OF, seed=seed)


@lru_cache(maxsize=4)
def profile(name: str) -> IndicatorSet:
    return load_profile(name)


@lru_cache(maxsize=32)
def base_scores(seed: int, name: str) -> pa.Table:
    return score(base(seed), profile(name), AS_OF).scores


def with_record(seed: int, name: str, row: dict) -> dict[str, pa.Table]:
    snap = dict(base(seed))
    snap[name] = pa.concat_tables([snap[name], table(name, [row])])
    return snap


def by_id(t: pa.Table) -> dict[int, dict]:
    rows = {r["enterprise_id"]: r for r in t.to_pylist()}
    for r in rows.values():
        for k in ("subtotals", "rule_hits", "reasons", "details"):
            r[k] = json.loads(r[k])
    return rows


def days_before(max_days: int = 2000):
    return st.integers(0, max_days).map(lambda d: AS_OF - timedelta(days=d))


penalty = st.fixed_dictionaries(
    {
        "decided_on": days_before(),
        "severity": st.sampled_from(["minor", "general", "heavy", "serious"]),
        "violation_type": st.sampled_from(list(VIOLATION_TYPES)),
        "fine": st.integers(0, 2_000_000_00).map(lambda c: c / 100),
        "confiscation": st.integers(0, 5_000_000).map(lambda c: c / 100),
        "licence_revoked": st.booleans(),
        "repaired": st.booleans(),
    }
)
failed_inspection = st.fixed_dictionaries(
    {
        "inspected_on": days_before(),
        "kind": st.sampled_from(["routine", "special", "random", "flight"]),
        "result": st.just("fail"),
        "key_items_failed": st.integers(0, 6),
        "general_items_failed": st.integers(0, 15),
        "rectification_ordered": st.booleans(),
    }
)
verified_complaint = st.fixed_dictionaries(
    {
        "received_on": days_before(),
        "channel": st.sampled_from(["12315", "12345", "letter", "visit", "online"]),
        "verified": st.just(True),
    }
)
BAD_RECORDS = {"penalties": penalty, "inspections": failed_inspection, "complaints": verified_complaint}


def _assert_never_better(seed: int, prof: str, name: str, eid_index: int, row: dict) -> None:
    before = by_id(base_scores(seed, prof))
    eid = sorted(before)[eid_index % len(before)]
    after = by_id(score(with_record(seed, name, {**row, "enterprise_id": eid}), profile(prof), AS_OF).scores)
    b, a = before[eid], after[eid]
    assert a["rule_score"] >= b["rule_score"], (prof, name, row, b["details"], a["details"])
    assert a["total_score"] >= b["total_score"]
    assert GRADE[a["grade"]] >= GRADE[b["grade"]], (prof, name, row, b["rule_hits"], a["rule_hits"])
    # nobody else moves
    assert all(after[k] == before[k] for k in before if k != eid)


@PROPS
@given(
    seed=SEEDS,
    eid=st.integers(0, 10_000),
    row=penalty,
    prof=st.sampled_from(["food_2016", "food_2022_draft", "anhui"]),
)
def test_adding_a_penalty_never_lowers_score_or_grade(seed, eid, row, prof):
    _assert_never_better(seed, prof, "penalties", eid, row)


@PROPS
@given(
    seed=SEEDS,
    eid=st.integers(0, 10_000),
    row=failed_inspection,
    prof=st.sampled_from(["food_2016", "food_2022_draft", "anhui"]),
)
def test_adding_a_failed_inspection_never_lowers_score_or_grade(seed, eid, row, prof):
    _assert_never_better(seed, prof, "inspections", eid, row)


@PROPS
@given(
    seed=SEEDS,
    eid=st.integers(0, 10_000),
    row=verified_complaint,
    prof=st.sampled_from(["food_2016", "anhui"]),
)
def test_adding_a_verified_complaint_never_lowers_score_or_grade(seed, eid, row, prof):
    # food_2022_draft is excluded on purpose: its complaint-growth trend rewards older complaints
    _assert_never_better(seed, prof, "complaints", eid, row)


@PROPS
@given(
    seed=SEEDS,
    eid=st.integers(1, 60),
    kind=st.sampled_from(sorted(BAD_RECORDS)),
    data=st.data(),
    later=st.integers(1, 2000),
)
def test_records_after_as_of_change_nothing(seed, eid, kind, data, later):
    row = data.draw(BAD_RECORDS[kind])
    date_col = {"penalties": "decided_on", "inspections": "inspected_on", "complaints": "received_on"}[kind]
    row = {**row, date_col: AS_OF + timedelta(days=later), "enterprise_id": eid}
    after = score(with_record(seed, kind, row), profile("food_2016"), AS_OF).scores
    assert after.equals(base_scores(seed, "food_2016"))


@PROPS
@given(seed=SEEDS, eid=st.integers(1, 60), row=verified_complaint, older=st.integers(1, 3000))
def test_complaints_outside_every_window_change_nothing(seed, eid, row, older):
    # every complaint indicator of food_2016 looks back 12 months: (as-of − 12 months, as-of]
    row = {**row, "received_on": date(2025, 11, 1) - timedelta(days=older - 1), "enterprise_id": eid}
    after = score(with_record(seed, "complaints", row), profile("food_2016"), AS_OF).scores
    assert after.equals(base_scores(seed, "food_2016"))


@PROPS
@given(
    window=st.integers(1, 60),
    agg=st.sampled_from(["count", "sum", "max", "exists", "days_since_last"]),
    row=penalty,
    extra_days=st.integers(0, 1000),
)
def test_windowed_indicator_ignores_records_before_the_window(window, agg, row, extra_days):
    from foodrisk.engine.compiler import shift_months

    field = "fine" if agg in ("sum", "max") else None
    bands = [{"equals": True, "points": 5}] if agg == "exists" else [{"min": 1, "points": 5}]
    spec = {
        "code": "w",
        "name": "窗口",
        "version": 1,
        "cutoffs": {"A": 30, "B": 45, "C": 60},
        "indicators": [
            {
                "code": "x",
                "name": "x",
                "category": "dynamic",
                "source": "penalties",
                "aggregation": agg,
                "field": field,
                "window_months": window,
                "bands": bands,
            }
        ],
    }
    start = shift_months(AS_OF, -window)  # window is (start, as-of]
    snap = dict(base(0))
    pen = snap["penalties"]
    snap["penalties"] = pen.filter(pc.not_equal(pen["enterprise_id"], 3))  # enterprise 3 starts clean
    row = {**row, "repaired": False, "decided_on": start - timedelta(days=extra_days), "enterprise_id": 3}
    before = score(snap, spec, AS_OF).scores
    outside = {**snap, "penalties": pa.concat_tables([snap["penalties"], table("penalties", [row])])}
    assert score(outside, spec, AS_OF).scores.equals(before)
    # control: the same record one day inside the window is seen
    inside_row = {**row, "decided_on": start + timedelta(days=1)}
    inside = {**snap, "penalties": pa.concat_tables([snap["penalties"], table("penalties", [inside_row])])}
    changed = by_id(score(inside, spec, AS_OF).scores)[3]["details"]["x"]
    if not (agg == "sum" and row["fine"] == 0):
        assert changed != by_id(before)[3]["details"]["x"]


@PROPS
@given(
    seed=SEEDS,
    eid=st.integers(0, 10_000),
    listed=days_before(3000),
    removed_after=st.one_of(st.none(), st.integers(1, 500)),
    extra=st.lists(penalty, max_size=3),
    prof=st.sampled_from(["food_2016", "food_2022_draft", "anhui"]),
)
def test_serious_list_veto_always_wins(seed, eid, listed, removed_after, extra, prof):
    ids = sorted(by_id(base_scores(seed, prof)))
    eid = ids[eid % len(ids)]
    removed = None if removed_after is None else AS_OF + timedelta(days=removed_after)
    snap = with_record(
        seed,
        "list_entries",
        {
            "enterprise_id": eid,
            "list_kind": "serious",
            "listed_on": listed,
            "removed_on": removed,
            "repaired": False,
        },
    )
    if extra:
        snap["penalties"] = pa.concat_tables(
            [snap["penalties"], table("penalties", [{**p, "enterprise_id": eid} for p in extra])]
        )
    r = by_id(score(snap, profile(prof), AS_OF).scores)[eid]
    assert r["grade"] == "D"
    assert "veto_serious_list" in r["rule_hits"]
    assert r["reasons"][0].startswith("当前列入严重违法失信名单")


@settings(max_examples=10, deadline=None)
@given(
    seed=SEEDS,
    prof=st.sampled_from(["food_2016", "food_2022_draft", "anhui"]),
    threads=st.sampled_from([1, 2]),
)
def test_determinism(seed, prof, threads):
    a = score(base(seed), profile(prof), AS_OF, threads=threads).scores
    b = score(base(seed), profile(prof), AS_OF, threads=2).scores
    assert a.equals(b)
    assert a.equals(base_scores(seed, prof))
