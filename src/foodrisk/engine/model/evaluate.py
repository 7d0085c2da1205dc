"""Hold-out evaluation and the model card (regulations.md §6): discrimination, calibration, rank ordering
by grade, operational lift, stability — rules alone vs rules + model."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import metrics as M
from ..scoring import score
from ..spec import IndicatorSet
from .dataset import feature_matrix, feature_table
from .predict import model_scores
from .train import ModelArtifact, predict_woe_logistic, psi_against

TARGETS = {"top10_vs_random": 2.5, "d_over_a": 4.0, "psi_watch": 0.1, "psi_act": 0.25}

LIMITATIONS = (
    "1. 标签只反映“被发现”的不良结果：检查、抽检越多的企业越容易出现标签，模型学到的部分是监管暴露而非真实风险；"
    "特征中已显式包含检查次数，但低检查频次企业的风险可能被低估。\n"
    "2. 模型分数只作为辅助，与规则分按权重融合；分级结果、上调/下调和一票否决仍由规则集决定，须人工复核。\n"
    "3. 训练数据来自历史月度快照，滚动窗口内同一企业多次出现，样本不独立；置信区间偏窄。\n"
    "4. 分布漂移（PSI > 0.25）或业务规则调整后必须重新训练并重新验证；0.1–0.25 须关注。\n"
    "5. 合成数据上的效果不代表真实辖区效果，上线前须在本地历史数据上回测。\n"
    "6. 不得使用企业名称、法定代表人、检查人员等身份信息作为特征，避免歧视和自我强化的检查偏差。"
)


def calibration_curve(prob: np.ndarray, y: np.ndarray, bins: int = 10) -> list[dict]:
    """Quantile bins of predicted probability: n, mean predicted, observed rate (with Wilson CI)."""
    prob = np.asarray(prob, float)
    y = np.asarray(y, int)
    order = np.argsort(prob, kind="stable")
    out = []
    for chunk in np.array_split(order, bins):
        if not len(chunk):
            continue
        ev, n = int(y[chunk].sum()), len(chunk)
        lo, hi = M.wilson_interval(ev, n)
        out.append(
            {
                "n": n,
                "mean_predicted": float(prob[chunk].mean()),
                "observed": ev / n,
                "ci_low": lo,
                "ci_high": hi,
            }
        )
    return out


def _disc(y: np.ndarray, s: np.ndarray) -> dict:
    if len(np.unique(y)) < 2:
        return {"auc": None, "gini": None, "ks": None, "top_decile_lift": None}
    a = M.auc(y, s)
    return {"auc": a, "gini": 2 * a - 1, "ks": M.ks(y, s), "top_decile_lift": M.top_lift(y, s, 0.1)}


def _grades(y: np.ndarray, grades: list[str], order: list[str]) -> dict:
    rates = M.event_rate_by_grade(grades, y, order)
    by = {r["grade"]: r for r in rates}
    a, d = by.get(order[0], {}).get("rate"), by.get(order[-1], {}).get("rate")
    strict = [r["rate"] for r in rates if r["rate"] is not None]
    return {
        "by_grade": rates,
        "monotone": M.is_monotone(rates),
        "strictly_increasing": all(b > a_ for a_, b in zip(strict, strict[1:], strict=False)),
        "d_over_a": (d / a) if a and d is not None else None,
        "distribution": {r["grade"]: r["n"] / max(1, len(y)) for r in rates},
    }


def top_vs_random(y: np.ndarray, s: np.ndarray, fraction: float = 0.1) -> dict:
    """Violations found inspecting the top ``fraction`` by score vs the expectation for a random draw."""
    k = max(1, int(math.ceil(len(y) * fraction)))
    order = np.argsort(-np.asarray(s, float), kind="stable")
    found = int(np.asarray(y)[order[:k]].sum())
    expected = float(np.asarray(y).sum()) * k / len(y)
    return {
        "fraction": fraction,
        "inspected": k,
        "found": found,
        "random_expected": expected,
        "ratio": found / expected if expected else None,
        "share_of_all_events": found / max(1, int(np.asarray(y).sum())),
    }


def feature_psi(artifact: ModelArtifact, features_table: pa.Table) -> dict:
    X = feature_matrix(features_table, artifact.features, artifact.encodings)
    out = {}
    for j, n in enumerate(artifact.features):
        base = artifact.psi_baseline.get("features", {}).get(n)
        if base is None:
            continue
        v = psi_against(base, X[:, j])
        out[n] = {"psi": v, "status": M.psi_status(v)}
    return out


def stability(artifact: ModelArtifact, features_table: pa.Table, scores: pa.Table | None = None) -> dict:
    """PSI of the model score and of every feature now vs the training baseline (0.1 / 0.25 rule)."""
    if scores is None:
        scores = model_scores(artifact, features_table)
    s = scores["model_score"].to_numpy(zero_copy_only=False)
    sp = psi_against(artifact.psi_baseline["score"], s)
    fp = feature_psi(artifact, features_table)
    flagged = sorted((n for n, v in fp.items() if v["status"] != "stable"), key=lambda n: -fp[n]["psi"])
    return {
        "score_psi": sp,
        "score_status": M.psi_status(sp),
        "features": fp,
        "flagged_features": flagged,
        "thresholds": {"watch": TARGETS["psi_watch"], "act": TARGETS["psi_act"]},
    }


def evaluate(
    artifact: ModelArtifact,
    spec: IndicatorSet,
    snapshot: Mapping[str, pa.Table],
    as_of: date,
    labels: pa.Table,
    *,
    blend: dict | None = None,
    features: pa.Table | None = None,
    threads: int = 2,
    cutoffs: list[float] | None = None,
) -> dict:
    """Evaluate on one hold-out cross-section and return a JSON-able model card.

    ``snapshot`` is the point-in-time snapshot at ``as_of`` (nothing after it); ``labels`` is
    ``outcomes(full_snapshot, as_of, …)`` (enterprise_id, label). Compares rules alone with the
    combined score (rule and model blended by ``blend`` or the artifact's blend; grades from the set's
    cut-offs after blending, then the policy rules).
    """
    ft = features if features is not None else feature_table(snapshot, spec, as_of, threads=threads)
    ms = model_scores(artifact, ft)
    bl = blend or artifact.blend
    rules = score(snapshot, spec, as_of, threads=threads).scores
    comb_spec = replace(spec, blend={"rule": float(bl["rule"]), "model": float(bl["model"])})
    if cutoffs:  # the cut-offs chosen with this blend (grade shares as a policy), see validate.choose_blend
        comb_spec = replace(comb_spec, cutoffs=dict(zip(spec.grades[:-1], cutoffs, strict=True)))
    comb = score(snapshot, comb_spec, as_of, model_scores=ms, threads=threads).scores

    # the card is a cross-section of enterprises: per-inspection labels (population "inspections") count an
    # enterprise as adverse when any of its inspections in the horizon was
    if len(pc.unique(labels["enterprise_id"])) < labels.num_rows:
        labels = labels.group_by("enterprise_id").aggregate([("label", "max")]).select(
            ["enterprise_id", "label_max"]).rename_columns(["enterprise_id", "label"])
    # align everything on the enterprises that have features (active at as_of) and a label
    ids = ft["enterprise_id"]
    lab_idx = pc.index_in(ids, labels["enterprise_id"])
    keep = lab_idx.is_valid()
    # a label may be null (population "inspected": not inspected in the horizon) — those rows are left out
    keep = pc.and_(keep, pc.fill_null(labels["label"].take(pc.fill_null(lab_idx, 0)).is_valid(), False))
    ids = ft["enterprise_id"].filter(keep)
    lab_idx = pc.index_in(ids, labels["enterprise_id"])
    y = labels["label"].take(lab_idx).to_numpy(zero_copy_only=False).astype(int)

    def col(t: pa.Table, name: str):
        idx = pc.index_in(ids, t["enterprise_id"])
        return t[name].take(idx)

    p = col(ms, "probability").to_numpy(zero_copy_only=False).astype(float)
    r_score = col(rules, "rule_score").to_numpy(zero_copy_only=False).astype(float)
    c_score = col(comb, "total_score").to_numpy(zero_copy_only=False).astype(float)
    r_grade = col(rules, "grade").to_pylist()
    c_grade = col(comb, "grade").to_pylist()
    order = list(spec.grades)

    result_scores = {"rules": _disc(y, r_score), "model": _disc(y, p), "combined": _disc(y, c_score)}
    if artifact.challenger is not None:
        Xh = feature_matrix(ft.filter(keep), artifact.features, artifact.encodings)
        result_scores["challenger_woe_logistic"] = _disc(y, predict_woe_logistic(artifact.challenger, Xh))
    g_rules, g_comb = _grades(y, r_grade, order), _grades(y, c_grade, order)
    tvr = {"rules": top_vs_random(y, r_score), "combined": top_vs_random(y, c_score)}
    stab = stability(artifact, ft, ms)
    mig = M.migration_matrix(r_grade, c_grade, order).as_dict()

    checks = {
        "combined_auc_beats_rules": bool(
            result_scores["combined"]["auc"] is not None
            and result_scores["combined"]["auc"] > result_scores["rules"]["auc"]
        ),
        "combined_grades_monotone": g_comb["strictly_increasing"],
        "combined_d_over_a_ge_4": bool(
            g_comb["d_over_a"] is not None and g_comb["d_over_a"] >= TARGETS["d_over_a"]
        ),
        "top10_vs_random_ge_2_5": bool(
            tvr["combined"]["ratio"] is not None and tvr["combined"]["ratio"] >= TARGETS["top10_vs_random"]
        ),
        "score_psi_stable": stab["score_status"] == "stable",
    }
    mono_names = {n: artifact.feature_labels.get(n, n) for n in artifact.monotone}
    return {
        "model": {
            "format": artifact.format,
            "kind": ("L2 logistic regression (chosen on validation folds over LightGBM)"
                     if artifact.winner == "logistic" else "LightGBM binary (gradient-boosted trees)")
            + ", calibrated " + artifact.calibrator["method"],
            "num_trees": artifact.num_trees,
            "max_depth": artifact.params.get("max_depth"),
            "num_leaves": artifact.params.get("num_leaves"),
            "spec": {"code": artifact.spec_code, "version": artifact.spec_version},
            "blend": bl,
        },
        "data_window": {**artifact.training_window, "evaluated_as_of": as_of.isoformat()},
        "label": artifact.label,
        "features": [
            {"name": n, "label": artifact.feature_labels.get(n, n), "monotone": artifact.monotone.get(n, 0)}
            for n in artifact.features
        ],
        "monotone_constraints": mono_names,
        "holdout": {
            "n": int(len(y)),
            "events": int(y.sum()),
            "event_rate": float(y.mean()) if len(y) else None,
        },
        "metrics": result_scores,
        "training_metrics": artifact.metrics,
        "rate_by_grade": {"rules": g_rules, "combined": g_comb},
        "top10_vs_random": tvr,
        "calibration_curve": calibration_curve(p, y),
        "grade_migration_rules_to_combined": mig,
        "stability": stab,
        "checks": checks,
        "targets": TARGETS,
        "limitations": LIMITATIONS,
    }
