"""Score with a trained artifact and explain the scores (TreeSHAP, only for the enterprises asked for)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import LABELS
from .dataset import SCALE_ORDER, feature_matrix
from .train import ModelArtifact, apply_calibrator

MODEL_SCORE_SCHEMA = pa.schema(
    [("enterprise_id", pa.int64()), ("model_score", pa.float64()), ("probability", pa.float64())]
)
EXPLAIN_SCHEMA = pa.schema(
    [
        ("enterprise_id", pa.int64()),
        ("raw_score", pa.float64()),
        ("reasons", pa.string()),  # JSON [Chinese sentence, …]
        ("contributions", pa.string()),  # JSON [{feature, value, contribution}, …]
    ]
)


def _check_features(artifact: ModelArtifact, table: pa.Table) -> None:
    missing = [n for n in artifact.features if n not in table.schema.names]
    if "enterprise_id" not in table.schema.names:
        raise ValueError("features table has no enterprise_id column")
    if missing:
        raise ValueError(f"features table is missing model features: {', '.join(missing)}")


def _predict_raw(artifact: ModelArtifact, X: np.ndarray, chunk: int = 500_000) -> np.ndarray:
    b = artifact.booster()
    threads = int(artifact.params.get("num_threads", 2))
    out = [b.predict(X[i : i + chunk], raw_score=True, num_threads=threads) for i in range(0, len(X), chunk)]
    return np.concatenate(out) if out else np.empty(0)


def model_scores(artifact: ModelArtifact, features_table: pa.Table) -> pa.Table:
    """``enterprise_id, model_score (0–100 = calibrated probability × 100), probability`` — feed it to
    ``score(..., model_scores=…)``."""
    _check_features(artifact, features_table)
    X = feature_matrix(features_table, artifact.features)
    prob = apply_calibrator(artifact.calibrator, _predict_raw(artifact, X))
    return pa.Table.from_arrays(
        [
            features_table["enterprise_id"].cast(pa.int64()),
            pa.array(np.round(prob * 100.0, 4)),
            pa.array(prob),
        ],
        schema=MODEL_SCORE_SCHEMA,
    )


_SCALE_CN = {v: LABELS["scale"][k] for k, v in SCALE_ORDER.items()}
_HIGH_LOW = {
    "scale_ord": ("经营规模较大", "经营规模较小"),
    "static_tier": ("静态风险等级较高", "静态风险等级较低"),
    "age_months": ("成立时间较长", "成立时间较短"),
    "v_d_days_since_ok_inspection": ("距最近一次合格检查时间较长", "距最近一次合格检查时间较短"),
}


def _phrase(name: str, value: float | None, median: float | None, feature: str) -> str:
    """Plain wording of a feature value relative to the training median."""
    if feature.startswith("form_"):
        return name if value else name.replace("为", "不是", 1)
    if value is None:
        return f"{name}无记录"
    if feature in _HIGH_LOW and median is not None and value != median:
        return _HIGH_LOW[feature][0 if value > median else 1]
    if feature == "key_supervision" or name.startswith(("当前", "曾", "近36个月曾", "属于")):
        return name if value else f"{name}：否"
    if median is None:
        return name
    counts = name.endswith(("次数", "项数", "件数", "月数", "张数")) or "次数" in name
    if value > median:
        return name + ("较多" if counts else "较高")
    if value < median:
        return name + ("较少" if counts else "较低")
    if feature == "scale_ord" and int(value) in _SCALE_CN:
        return f"经营规模为{_SCALE_CN[int(value)]}"
    if feature == "static_tier" and str(int(value)) in LABELS["static_tier"]:
        return f"静态风险等级为{LABELS['static_tier'][str(int(value))]}级"
    return f"{name}为{value:g}"


def explain(
    artifact: ModelArtifact,
    features_table: pa.Table,
    enterprise_ids: Iterable[int] | None = None,
    top: int = 3,
    *,
    min_contribution: float = 0.01,
) -> pa.Table:
    """Top positive TreeSHAP contributions (log-odds) per enterprise as Chinese reasons, e.g.
    ``模型：近12个月监督检查不符合次数较多（+0.35）``.

    Only rows whose enterprise_id is in ``enterprise_ids`` are explained (SHAP costs ~100 µs per row);
    ``None`` explains every row. ``raw_score`` = Σ contributions + expected value (TreeSHAP additivity).
    """
    _check_features(artifact, features_table)
    t = features_table
    if enterprise_ids is not None:
        ids = pa.array(sorted({int(i) for i in enterprise_ids}), pa.int64())
        t = t.filter(pc.is_in(t["enterprise_id"].cast(pa.int64()), value_set=ids))
    if t.num_rows == 0:
        return EXPLAIN_SCHEMA.empty_table()
    X = feature_matrix(t, artifact.features)
    b = artifact.booster()
    threads = int(artifact.params.get("num_threads", 2))
    k = len(artifact.features)
    reasons, contribs, raws = [], [], []
    names_q = [json.dumps(f, ensure_ascii=False) for f in artifact.features]

    @lru_cache(maxsize=100_000)
    def phrase(j: int, val: float | None) -> str:
        """JSON-quoted '模型：…' sentence (without the contribution) for feature j at value val."""
        f = artifact.features[j]
        label = artifact.feature_labels.get(f, f)
        return json.dumps(
            "模型：" + _phrase(label, val, artifact.feature_medians.get(f), f), ensure_ascii=False
        )

    for lo in range(0, len(X), 200_000):
        xs = X[lo : lo + 200_000]
        c = b.predict(xs, pred_contrib=True, num_threads=threads)
        feat = c[:, :k]
        raws.append(c.sum(axis=1))
        order = np.argsort(-feat, axis=1, kind="stable")[:, :top]
        top_c = np.take_along_axis(feat, order, axis=1)
        top_x = np.take_along_axis(xs, order, axis=1)
        for oi, ci, xi in zip(order.tolist(), top_c.tolist(), top_x.tolist(), strict=True):
            rs, cs = [], []
            for j, v, x in zip(oi, ci, xi, strict=True):
                if v < min_contribution:
                    break
                val = None if x != x else x  # NaN → None
                rs.append(f'{phrase(j, val)[:-1]}（+{v:.2f}）"')
                cs.append(
                    f'{{"feature": {names_q[j]}, "value": {"null" if val is None else repr(val)}, '
                    f'"contribution": {round(v, 4)!r}}}'
                )
            reasons.append("[" + ", ".join(rs) + "]")
            contribs.append("[" + ", ".join(cs) + "]")
    return pa.Table.from_arrays(
        [
            t["enterprise_id"].cast(pa.int64()),
            pa.array(np.concatenate(raws)),
            pa.array(reasons, pa.string()),
            pa.array(contribs, pa.string()),
        ],
        schema=EXPLAIN_SCHEMA,
    )


def explain_targets(
    scores: pa.Table, previous: pa.Table | None = None, *, tolerance: float = 0.5
) -> list[int]:
    """Enterprises worth explaining: grade not A, or total score moved by more than ``tolerance`` since
    ``previous`` (both ScoreResult.scores-like tables with enterprise_id, grade, total_score)."""
    ids = scores["enterprise_id"].to_numpy(zero_copy_only=False)
    grade = np.asarray(scores["grade"].to_pylist(), dtype=object)
    want = grade != "A"
    if previous is not None and previous.num_rows:
        idx = pc.index_in(scores["enterprise_id"], previous["enterprise_id"])
        prev = previous["total_score"].take(pc.fill_null(idx, 0)).to_numpy(zero_copy_only=False).astype(float)
        known = idx.is_valid().to_numpy(zero_copy_only=False)
        now = scores["total_score"].to_numpy(zero_copy_only=False).astype(float)
        want |= ~known | (np.abs(now - prev) > tolerance)
    elif previous is not None:  # nothing published yet (take() cannot index an empty table): all new
        want = np.ones(len(ids), dtype=bool)
    return [int(i) for i in ids[want]]
