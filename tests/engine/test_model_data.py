"""Model training data: point-in-time features, forward-looking labels, agreement with synth ground truth."""

from __future__ import annotations

import dataclasses
from datetime import date
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from engine_testkit import snapshot

from foodrisk.engine import load_profile
from foodrisk.engine.model import (
    LabelSpec,
    build_dataset,
    feature_table,
    month_dates,
    outcomes,
)
from foodrisk.engine.model.dataset import OUTCOME_KINDS
from foodrisk.engine.schema import EVENT_DATE
from foodrisk.synth import generate_world

AS_OF = date(2026, 6, 30)
SPEC = load_profile("food_2016")


@lru_cache(maxsize=1)
def world():
    return generate_world(1200, years=4, seed=7, as_of=AS_OF)


def _equal_tables(a: pa.Table, b: pa.Table) -> None:
    assert a.column_names == b.column_names
    assert a.num_rows == b.num_rows
    for n in a.column_names:
        x = a[n].to_numpy(zero_copy_only=False).astype(float)
        y = b[n].to_numpy(zero_copy_only=False).astype(float)
        assert np.array_equal(x, y, equal_nan=True), n


def test_features_ignore_records_after_as_of_hand_made():
    d = date(2026, 6, 30)
    before = snapshot(
        2,
        inspections=[{"inspected_on": date(2026, 3, 1), "result": "fail"}],
        penalties=[{"decided_on": date(2026, 2, 1), "severity": "heavy"}],
    )
    after = snapshot(
        2,
        inspections=[
            {"inspected_on": date(2026, 3, 1), "result": "fail"},
            {"inspected_on": date(2026, 7, 1), "result": "fail"},
            {"enterprise_id": 2, "inspected_on": date(2026, 12, 1), "result": "fail"},
        ],
        penalties=[
            {"decided_on": date(2026, 2, 1), "severity": "heavy"},
            {"decided_on": date(2026, 7, 1), "severity": "serious", "licence_revoked": True},
        ],
        sampling_tests=[{"sampled_on": date(2026, 8, 1), "result": "fail", "level": "national"}],
        complaints=[{"received_on": date(2026, 7, 2), "verified": True}],
        list_entries=[{"listed_on": date(2026, 7, 3), "list_kind": "serious"}],
    )
    a = feature_table(before, SPEC, d)
    b = feature_table(after, SPEC, d)
    _equal_tables(a, b)
    assert a.filter(pc.equal(a["enterprise_id"], 1))["v_d_insp_fail_12m"][0].as_py() == 1
    assert a.filter(pc.equal(a["enterprise_id"], 1))["n_insp_12m"][0].as_py() == 1


def test_features_ignore_records_after_as_of_synth():
    """Adding every later-dated record of the world to a point-in-time snapshot changes no feature."""
    w = world()
    d = date(2024, 12, 31)
    pit = w.to_snapshot(d)
    full = w.to_snapshot()
    mixed = dict(pit)
    for name, dcol in EVENT_DATE.items():
        later = full[name].filter(pc.greater(full[name][dcol], pa.scalar(d, pa.date32())))
        assert later.num_rows > 0 or name == "list_entries"
        mixed[name] = pa.concat_tables(
            [pit[name], later.select(pit[name].column_names).cast(pit[name].schema)]
        )
    _equal_tables(feature_table(pit, SPEC, d), feature_table(mixed, SPEC, d))


def test_labels_only_look_forward():
    d = date(2025, 6, 30)
    snap = snapshot(
        4,
        inspections=[
            {"enterprise_id": 1, "inspected_on": d, "result": "fail"},  # on as_of: the past
            {"enterprise_id": 2, "inspected_on": date(2025, 7, 1), "result": "fail"},  # first day after
            {"enterprise_id": 3, "inspected_on": date(2026, 6, 30), "result": "fail"},  # last day of horizon
            {"enterprise_id": 4, "inspected_on": date(2026, 7, 1), "result": "fail"},  # beyond the horizon
            {"enterprise_id": 4, "inspected_on": date(2025, 9, 1), "result": "pass"},
        ],
        complaints=[{"enterprise_id": 1, "received_on": date(2025, 8, 1), "verified": True}],
    )
    oc = outcomes(snap, d, 12).to_pylist()
    assert [r["label"] for r in oc] == [False, True, True, False]
    assert oc[1]["n_failed_inspection"] == 1
    with_compl = outcomes(snap, d, 12, kinds=("verified_complaint",)).to_pylist()
    assert [r["label"] for r in with_compl] == [True, False, False, False]
    with pytest.raises(ValueError):
        outcomes(snap, d, 12, kinds=("nonsense",))
    assert set(OUTCOME_KINDS) >= {"failed_inspection", "failed_sampling", "penalty", "verified_complaint"}


def test_per_inspection_labels_one_row_per_visit_in_the_horizon():
    """Population "inspections": each visit in (as_of, as_of + h] is a row with its own finding; visits on
    as_of or after the horizon, and enterprises established later, are not."""
    d = date(2025, 6, 30)
    snap = snapshot(
        enterprises=[{"enterprise_id": 1}, {"enterprise_id": 2},
                     {"enterprise_id": 3, "established_on": date(2025, 7, 1)}],  # after as_of
        inspections=[
            {"enterprise_id": 1, "inspected_on": d, "result": "fail", "key_items_failed": 2},  # the past
            {"enterprise_id": 1, "inspected_on": date(2025, 7, 2), "result": "fail", "key_items_failed": 1},
            {"enterprise_id": 1, "inspected_on": date(2025, 8, 2), "result": "pass", "key_items_failed": 0},
            {"enterprise_id": 2, "inspected_on": date(2025, 8, 30), "result": "fail", "key_items_failed": None},
            {"enterprise_id": 2, "inspected_on": date(2025, 9, 1), "result": "fail", "key_items_failed": 3},
            {"enterprise_id": 3, "inspected_on": date(2025, 7, 5), "result": "fail", "key_items_failed": 1},
        ],
    )
    oc = outcomes(snap, d, 2, kinds=("key_items_inspection",), population="inspections")
    assert oc["enterprise_id"].to_pylist() == [1, 1, 2]
    assert oc["label"].to_pylist() == [True, False, False]
    assert oc["n_key_items_inspection"].to_pylist() == [1, 0, 0]
    assert "每次检查" in LabelSpec(("key_items_inspection",), 2, "inspections").to_dict()["description"]
    with pytest.raises(ValueError, match="inspection itself"):
        LabelSpec(("penalty",), 2, "inspections")

    # training rows: each visit carries its enterprise's features at as_of (an enterprise may repeat)
    from foodrisk.engine.model.validate import NUMERIC_FEATURES, FeatureCache

    cache = FeatureCache(lambda _d: snap, snap, LabelSpec(("key_items_inspection",), 2, "inspections"), 1)
    ids, X, _c, y = cache.rows(d, 2)
    assert ids.tolist() == [1, 1, 2] and y.tolist() == [1, 0, 0]
    assert X.shape == (3, len(NUMERIC_FEATURES)) and np.array_equal(X[0], X[1], equal_nan=True)


def test_outcomes_match_synth_ground_truth():
    w = world()
    # a copy of the world whose "now" is the end of the label horizon exposes the 12 months after as_of
    full = dataclasses.replace(w, as_of=w.horizon).to_snapshot(w.horizon)
    oc = outcomes(full, w.as_of, 12)
    gt = w.ground_truth
    alive = gt["active_at_as_of"].to_numpy(zero_copy_only=False)
    idx = pc.index_in(gt["enterprise_id"], oc["enterprise_id"])
    for ours, theirs in (
        ("n_failed_inspection", "future_failed_inspections"),
        ("n_failed_sampling", "future_failed_sampling"),
        ("n_penalty", "future_penalties"),
    ):
        x = oc[ours].take(idx).to_numpy(zero_copy_only=False)[alive]
        assert np.array_equal(x, gt[theirs].to_numpy()[alive]), ours
    lab = oc["label"].take(idx).to_numpy(zero_copy_only=False)[alive]
    assert np.array_equal(lab, gt["future_adverse"].to_numpy(zero_copy_only=False)[alive])


def test_build_dataset_point_in_time_and_label_window():
    w = world()
    calls = []

    def provider(d):
        calls.append(d)
        return w.to_snapshot(d)

    dates = month_dates(date(2024, 3, 31), date(2025, 9, 30), 3)
    ds = build_dataset(
        provider, SPEC, dates, label_snapshot=w.to_snapshot(), labels_until=w.as_of, label=LabelSpec()
    )
    assert calls == sorted(dates)  # each as-of date reads its own snapshot
    assert ds.as_of_dates == sorted(dates)
    lab = ds.table["label"]
    for d in dates:
        part = ds.slice([d])
        known = part["label"].null_count == 0
        assert known == (d <= date(2025, 6, 30)), d  # label needs the full 12 months after d
    assert lab.null_count > 0
    assert {"n_insp_12m", "n_insp_36m", "age_months", "static_tier", "scale_ord", "form_catering"} <= set(
        ds.feature_names
    )
    assert all(not n.startswith("v_s_business_form") for n in ds.feature_names)
    X = ds.X()
    assert X.shape == (ds.table.num_rows, len(ds.feature_names))
