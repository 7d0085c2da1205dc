"""Model training, artifact, scoring and explanations: determinism, monotone constraints, JSON round trip,
path-attribution additivity, explanation subset, PSI."""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foodrisk.engine import load_profile
from foodrisk.engine.model import (
    ModelArtifact,
    apply_calibrator,
    explain,
    explain_targets,
    feature_matrix,
    fit_calibrator,
    model_scores,
    psi_against,
    stability,
    time_split,
    train_model,
)
from foodrisk.engine.model.predict import contributions
from foodrisk.engine.model.synthetic import synth_dataset
from foodrisk.engine.model.train import default_monotone, distribution
from foodrisk.synth import generate_world

AS_OF = date(2026, 6, 30)
SPEC = load_profile("food_2016")
FAST = {"num_boost_round": 60}


@lru_cache(maxsize=1)
def dataset():
    w = generate_world(1500, years=4, seed=11, as_of=AS_OF)
    return synth_dataset(w, SPEC)


@lru_cache(maxsize=1)
def artifact() -> ModelArtifact:
    return train_model(dataset(), SPEC, seed=3, **FAST)


@lru_cache(maxsize=1)
def holdout() -> pa.Table:
    ds = dataset()
    return ds.slice([ds.as_of_dates[-1]])


@lru_cache(maxsize=1)
def holdout_X() -> np.ndarray:
    return feature_matrix(holdout(), artifact().features)


def test_split_is_time_ordered_with_embargo():
    ds = dataset()
    sp = time_split(ds.as_of_dates, 12)
    assert max(sp.train) < min(sp.calibration)
    assert sp.holdout == [ds.as_of_dates[-1]]
    # no training or calibration label window reaches into the hold-out's label window
    assert max(sp.calibration) <= date(sp.holdout[0].year - 1, sp.holdout[0].month, sp.holdout[0].day)
    w = artifact().training_window
    assert w["train"][0] == sp.train[0].isoformat() and w["holdout"][0] == sp.holdout[0].isoformat()


def test_params_are_bounded_and_monotone_defaults():
    art = artifact()
    assert art.params["max_depth"] <= 5 and art.params["num_leaves"] <= 31
    assert art.params["deterministic"] is True and art.params["num_threads"] == 2
    mono = default_monotone(SPEC, dataset().feature_names)
    for n in (
        "v_d_pen_heavy_36m",
        "v_d_pen_general_12m",
        "v_d_insp_fail_12m",
        "v_d_sampling_fail_np_12m",
        "v_d_complaints_verified_12m",
        "v_d_abnormal_listed",
        "v_x_serious_listed",
    ):
        assert mono.get(n) == 1, n
    for n in ("v_d_complaints_all_12m", "n_insp_12m", "age_months", "v_d_no_valid_licence"):
        assert n not in mono, n
    with pytest.raises(ValueError):
        train_model(dataset(), SPEC, params={"max_depth": 8}, **FAST)


def test_determinism_same_seed_same_model_and_scores():
    a = artifact()
    b = train_model(dataset(), SPEC, seed=3, **FAST)
    assert a.model_string == b.model_string
    assert a.to_json() == b.to_json()
    ho = holdout()
    assert model_scores(a, ho).equals(model_scores(b, ho))


def test_artifact_json_round_trip():
    a = artifact()
    text = a.to_json()
    assert "pickle" not in text
    b = ModelArtifact.from_json(text)
    assert b.to_json() == text
    assert b.features == a.features and b.monotone == a.monotone and b.calibrator == a.calibrator
    ho = holdout()
    assert model_scores(b, ho).equals(model_scores(a, ho))
    d = json.loads(text)
    assert {
        "model_string",
        "calibrator",
        "features",
        "monotone",
        "training_window",
        "label",
        "metrics",
    } <= set(d)
    assert {"score", "features"} <= set(d["psi_baseline"])
    with pytest.raises(ValueError):
        ModelArtifact.from_json(json.dumps({**d, "format": "other"}))


def test_model_scores_range_and_calibrators():
    ms = model_scores(artifact(), holdout())
    s = ms["model_score"].to_numpy()
    p = ms["probability"].to_numpy()
    assert ms.column_names == ["enterprise_id", "model_score", "probability"]
    assert s.min() >= 0 and s.max() <= 100
    assert np.allclose(s, np.round(p * 100, 4))
    raw = np.linspace(-4, 2, 50)
    y = (np.random.default_rng(0).random(50) < 1 / (1 + np.exp(-raw))).astype(int)
    for method in ("platt", "isotonic"):
        cal = json.loads(json.dumps(fit_calibrator(raw, y, method)))
        out = apply_calibrator(cal, raw)
        assert np.all(np.diff(out) >= -1e-12), method  # calibration keeps the ranking
        assert out.min() >= 0 and out.max() <= 1


ROWS = st.integers(0, 10_000)
MONO = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@MONO
@given(row=ROWS, which=st.integers(0, 100), delta=st.floats(0.5, 20), base_zero=st.booleans())
def test_monotone_constraint_respected(row, which, delta, base_zero):
    """Raising a constrained feature (penalties, failed inspections …) never lowers the prediction."""
    art = artifact()
    X = holdout_X()
    x = X[row % len(X)].copy()
    names = sorted(art.monotone)
    j = art.features.index(names[which % len(names)])
    if base_zero:
        x[j] = 0.0
    up = x.copy()
    up[j] = (0.0 if np.isnan(x[j]) else x[j]) + delta
    b = art.booster()
    lo_raw, hi_raw = b.predict(np.vstack([x, up]), raw_score=True)
    assert hi_raw >= lo_raw - 1e-12
    lo_p, hi_p = apply_calibrator(art.calibrator, np.array([lo_raw, hi_raw]))
    assert hi_p >= lo_p - 1e-12


def test_path_attributions_add_up_and_reasons():
    art = artifact()
    ho = holdout()
    ids = ho["enterprise_id"].to_pylist()[:50]
    ex = explain(art, ho, ids, top=3)
    assert ex["enterprise_id"].to_pylist() == sorted(ids)
    sub = ho.filter(pc.is_in(ho["enterprise_id"], value_set=pa.array(ids, pa.int64())))
    X = feature_matrix(sub, art.features)
    raw = art.booster().predict(X, raw_score=True)  # the booster's own raw score
    assert np.allclose(ex["raw_score"].to_numpy(), raw, atol=1e-9)
    feat, base = contributions(art, X)
    assert np.abs(feat.sum(axis=1) + base - raw).max() < 1e-9  # exactly additive, row by row
    # the baseline is TreeSHAP's expected value: `_baseline` means what it meant before the switch
    shap = art.booster().predict(X, pred_contrib=True)
    assert np.abs(base - shap[:, -1]).max() < 1e-9
    # a feature no tree splits on is credited nothing; the attributions differ from SHAP's but agree on
    # the direction of the largest contribution in most rows (both follow the same trees)
    used = {int(c) for t in art.path_table().features for c in t}
    unused = [j for j in range(len(art.features)) if j not in used]
    assert unused and (feat[:, unused] == 0).all() and (np.abs(feat[:, list(used)]) > 0).any()
    top = np.argmax(np.abs(feat), axis=1)
    same_sign = np.sign(feat[np.arange(len(X)), top]) == np.sign(shap[np.arange(len(X)), top])
    assert same_sign.mean() > 0.8
    texts = [json.loads(r) for r in ex["reasons"].to_pylist()]
    assert all(len(t) <= 6 for t in texts)  # up to 3 raising and 3 lowering
    flat = [s for t in texts for s in t]
    assert flat and all(s.startswith("模型：") and ("增加风险 +" in s or "降低风险 −" in s) for s in flat)
    labels = set(art.feature_labels.values())
    assert any(any(lbl[:4] in s for lbl in labels) for s in flat)
    for t, c, r in zip(texts, ex["contributions"].to_pylist(), raw, strict=True):
        cs = json.loads(c)
        listed = [x for x in cs if not x["feature"].startswith("_")]
        assert len(listed) == len(t)
        ups = [x["contribution"] for x in listed if x["contribution"] > 0]
        downs = [x["contribution"] for x in listed if x["contribution"] < 0]
        assert ups == sorted(ups, reverse=True) and downs == sorted(downs) and len(ups) <= 3 >= len(downs)
        assert abs(sum(x["contribution"] for x in cs) - r) < 1e-9  # listed + _other + _baseline = raw


def test_explanations_only_for_requested_subset():
    art = artifact()
    ho = holdout()
    ids = ho["enterprise_id"].to_pylist()
    want = ids[5:12] + [10**9]  # an unknown id is simply absent
    ex = explain(art, ho, want)
    assert ex["enterprise_id"].to_pylist() == sorted(ids[5:12])
    assert explain(art, ho, []).num_rows == 0
    assert explain(art, ho).num_rows == ho.num_rows
    scores = pa.table(
        {
            "enterprise_id": pa.array([1, 2, 3], pa.int64()),
            "grade": ["A", "B", "A"],
            "total_score": [10.0, 40.0, 20.0],
        }
    )
    prev = pa.table({"enterprise_id": pa.array([1, 2], pa.int64()), "total_score": [10.0, 40.0]})
    assert explain_targets(scores) == [2]
    assert explain_targets(scores, prev) == [2, 3]  # 3 is new, 2 is not A


def test_psi_flags_shifted_distribution():
    rng = np.random.default_rng(0)
    base = rng.normal(0, 1, 20_000)
    d = distribution(base)
    assert psi_against(d, rng.normal(0, 1, 20_000)) < 0.1
    assert 0.1 <= psi_against(d, rng.normal(0.4, 1, 20_000)) <= 0.25
    assert psi_against(d, rng.normal(1.0, 1, 20_000)) > 0.25
    # on the model: a population whose penalty / failure counts doubled is flagged
    art = artifact()
    ho = holdout()
    same = stability(art, ho)
    assert same["score_status"] == "stable"
    shifted = ho
    for n in ("v_d_insp_fail_12m", "v_x_insp_fail_36m", "n_insp_36m", "v_d_pen_general_12m", "age_months"):
        col = pc.add(pc.multiply(ho[n], 3.0), 2.0)
        shifted = shifted.set_column(shifted.schema.get_field_index(n), n, col)
    st_ = stability(art, shifted)
    assert st_["score_psi"] > same["score_psi"]
    assert st_["score_status"] != "stable"
    assert "n_insp_36m" in st_["flagged_features"] and st_["features"]["n_insp_36m"]["status"] == "major"
