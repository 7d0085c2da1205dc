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
