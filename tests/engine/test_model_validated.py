"""Rolling-origin validated training on the catalogue and its explanations: choices recorded per fold, the
challenger always fitted, calibrated probabilities and policy grade shares, explanations that add up, carry
their real sign, speak Chinese and never contradict the record."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from functools import lru_cache

import numpy as np
import pyarrow.compute as pc

from foodrisk.engine import load_profile
from foodrisk.engine.model import (
    LabelSpec,
    ModelArtifact,
    artifact_features,
    explain,
    feature_matrix,
    fit_validated,
    model_scores,
)
from foodrisk.engine.model.catalogue import FEATURES
from foodrisk.engine.model.predict import _phrase, contributions
from foodrisk.synth import generate_world

SPEC = load_profile("food_2016")
WORLD_AS_OF = date(2026, 6, 30)
AS_OF = date(2025, 6, 30)
SMALL = {"horizons": (6,), "folds": 2, "lr_C": (0.1,), "threads": 1,
         "lgbm": {"lgbm_small": {"num_leaves": 7, "max_depth": 3, "min_data_in_leaf": 30, "lambda_l2": 5.0,
                                 "learning_rate": 0.1, "num_boost_round": 40}}}


@lru_cache(maxsize=1)
def world():
    return generate_world(700, years=3, seed=5, as_of=WORLD_AS_OF)


@lru_cache(maxsize=1)
def fitted():
    w = world()
    return fit_validated(w.to_snapshot, AS_OF, first_data=w.start, target=LabelSpec(horizon_months=6), **SMALL)


@lru_cache(maxsize=1)
def features():
    return artifact_features(fitted().artifact, world().to_snapshot(AS_OF), SPEC, AS_OF)


def test_folds_challenger_and_choice_are_recorded():
    fit = fitted()
    art = fit.artifact
    assert len(fit.folds) == 2 and all(set(f["auc"]) == {"h6_lgbm_small", "h6_logistic_C0.1"} for f in fit.folds)
    assert fit.chosen["model"] in ("lgbm", "logistic") and art.winner in ("lightgbm", "logistic")
    assert (art.winner == "logistic") == (fit.chosen["model"] == "logistic")
    assert art.logistic is not None and art.model_string  # both are always fitted
    assert fit.chosen["mean_auc_lightgbm"] and fit.chosen["mean_auc_logistic"]
    assert fit.chosen["mean_auc"] == max(fit.chosen["mean_auc_lightgbm"], fit.chosen["mean_auc_logistic"])
    assert art.feature_source == "catalogue" and art.label["training_horizon_months"] == 6
    # every fold's training dates end before its cut-off (no label window reaches into validation)
    grades = art.metrics["validation"]["grades_by_fold"]
    assert [g["cutoff"] for g in grades] == [f["cutoff"] for f in fit.folds]


def test_artifact_round_trip_scores_identically():
    art = fitted().artifact
    again = ModelArtifact.from_json(art.to_json())
    a, b = model_scores(art, features()), model_scores(again, features())
    assert a.equals(b)
    for winner in ("lightgbm", "logistic"):
        p = model_scores(replace(art, winner=winner), features())["probability"].to_numpy()
        assert ((p > 0) & (p < 1)).all()


def test_grade_thresholds_follow_the_policy_shares():
    art = fitted().artifact
    th = art.grade_thresholds
    assert th["grades"] == ["A", "B", "C", "D"] and len(th["probability"]) == 3
    assert th["probability"] == sorted(th["probability"])
    assert sum(th["shares"].values()) == 1.0


def _rows(art, n=60):
    ft = features()
    ids = ft["enterprise_id"].to_pylist()[:n]
    return ft, ids, explain(art, ft, ids, top=3)


def test_listed_contributions_add_up_to_the_distance_from_the_baseline():
    for winner in ("lightgbm", "logistic"):
        art = replace(fitted().artifact, winner=winner)
        ft, ids, ex = _rows(art)
        sub = ft.filter(pc.is_in(ft["enterprise_id"], value_set=ex["enterprise_id"]))
        feat, base = contributions(art, feature_matrix(sub, art.features, art.encodings))
        assert np.allclose(feat.sum(axis=1) + base, ex["raw_score"].to_numpy(), atol=1e-9)
        for raw, cs, b in zip(ex["raw_score"].to_pylist(), ex["contributions"].to_pylist(), base, strict=True):
            cs = json.loads(cs)
            listed = sum(c["contribution"] for c in cs if c["feature"] != "_baseline")
            assert abs(listed - (raw - b)) < 1e-9
            assert next(c for c in cs if c["feature"] == "_baseline")["contribution"] == b


def test_reasons_carry_their_real_sign_in_chinese():
    art = fitted().artifact
    ft, ids, ex = _rows(art)
    seen_up = seen_down = False
    for reasons, cs in zip(ex["reasons"].to_pylist(), ex["contributions"].to_pylist(), strict=True):
        reasons, cs = json.loads(reasons), [c for c in json.loads(cs) if not c["feature"].startswith("_")]
        assert len(reasons) == len(cs) <= 6
        for text, c in zip(reasons, cs, strict=True):
            assert text.startswith("模型：")
            assert ("增加风险" in text) == (c["contribution"] > 0) and ("降低风险" in text) == (c["contribution"] < 0)
            seen_up |= c["contribution"] > 0
            seen_down |= c["contribution"] < 0
            # Chinese values only: no English code, no True/False, no dotted field names
            assert not re.search(r"[A-Za-z]", text), text
    assert seen_up and seen_down


def test_no_reason_contradicts_the_record():
    art = replace(fitted().artifact, winner="logistic")  # every feature contributes: all wordings appear
    ft = features()
    ex = explain(art, ft, None, top=40, min_contribution=0.0)
    by_id = {r["enterprise_id"]: r for r in ft.to_pylist()}
    checked = 0
    for eid, reasons in zip(ex["enterprise_id"].to_pylist(), ex["reasons"].to_pylist(), strict=True):
        rec = by_id[eid]
        for text in json.loads(reasons):
            if "许可证" in text and ("有效" in text):
                assert ("无有效许可证" in text) == (rec["licence_valid"] == 0), (eid, text)
                checked += 1
            m = re.search(r"近(\d+)个月监督检查不符合(\d+)次", text)
            if m:
                assert rec[f"n_insp_fail_{m.group(1)}m"] == int(m.group(2))
                checked += 1
            if text.startswith("模型：主体业态"):
                form = next(f for f in FEATURES if f.startswith("form_") and FEATURES[f].label[5:] in text)
                assert ("不是" in text) == (rec[form] == 0)
                checked += 1
    assert checked > 50


def _row_by_row(art, ft, top, min_contribution):
    """The explanation rules written out one row at a time (stable sort of the whole row, break at the first
    contribution under the minimum), on the same contributions: what explain's column-wise builder must say."""
    X = feature_matrix(ft, art.features, art.encodings)
    feat, base = contributions(art, X)
    texts = {j: ft[f].to_pylist() for j, f in enumerate(art.features) if f in (art.encodings or {})}
    rows = []
    for i in range(len(X)):
        reasons, cs = [], []
        for order, sign in ((np.argsort(-feat[i], kind="stable"), 1), (np.argsort(feat[i], kind="stable"), -1)):
            for j in order[:top].tolist():
                v = float(feat[i, j])
                if sign * v < min_contribution:
                    break
                x = X[i, j]
                val = texts[j][i] if j in texts else None if x != x else float(x)
                f = art.features[j]
                said = _phrase(art.feature_labels.get(f, f), val, art.feature_medians.get(f), f)
                reasons.append(f"模型：{said}（{'增加风险 +' if v > 0 else '降低风险 −'}{abs(v):.2f}）")
                cs.append({"feature": f, "value": val, "contribution": v})
        listed = 0.0
        for c in cs:
            listed += c["contribution"]
        cs += [{"feature": "_other", "value": None, "contribution": float(feat[i].sum()) - listed},
               {"feature": "_baseline", "value": None, "contribution": float(base[i])}]
        rows.append((reasons, cs))
    return rows


def test_column_wise_reasons_say_what_the_row_by_row_rules_say():
    ft = features()
    for winner in ("lightgbm", "logistic"):
        art = replace(fitted().artifact, winner=winner)
        for top, least in ((3, 0.01), (40, 0.0), (2, 0.0)):  # min 0: ties among equal contributions
            ex = explain(art, ft, None, top=top, min_contribution=least)
            want = _row_by_row(art, ft, top, least)
            got = [(json.loads(r), json.loads(c)) for r, c in zip(ex["reasons"].to_pylist(),
                                                                   ex["contributions"].to_pylist(), strict=True)]
            assert got == want, winner
            assert all(isinstance(c["contribution"], float) for _, cs in got for c in cs)


def test_population_inspected_labels_only_the_inspected():
    from foodrisk.engine.model import outcomes

    w = world()
    oc = outcomes(w.to_snapshot(), AS_OF, 2, ("key_items_inspection",), population="inspected")
    ins = w.to_snapshot()["inspections"]
    m = pc.and_(pc.greater(ins["inspected_on"], AS_OF), pc.less_equal(ins["inspected_on"], date(2025, 8, 30)))
    visited = set(ins.filter(m)["enterprise_id"].to_pylist())
    labelled = set(oc.filter(oc["label"].is_valid())["enterprise_id"].to_pylist())
    assert labelled == visited and LabelSpec(("key_items_inspection",), 2, "inspected").to_dict()["population"]
