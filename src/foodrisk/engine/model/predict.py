"""Score with a trained artifact and explain the scores (TreeSHAP, only for the enterprises asked for)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import LABELS
from .catalogue import FEATURES
from .dataset import SCALE_ORDER, feature_matrix, feature_table
from .train import ModelArtifact, apply_calibrator
from .validate import logistic_terms, predict_logistic

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
    if artifact.winner == "logistic":
        return predict_logistic(artifact.logistic, X)
    b = artifact.booster()
    threads = int(artifact.params.get("num_threads", 2))
    out = [b.predict(X[i : i + chunk], raw_score=True, num_threads=threads) for i in range(0, len(X), chunk)]
    return np.concatenate(out) if out else np.empty(0)


def artifact_features(artifact: ModelArtifact, snapshot, spec, as_of, *, threads: int = 2) -> pa.Table:
    """The feature table this artifact was trained on (catalogue or indicator values) at as_of."""
    return feature_table(snapshot, spec, as_of, threads=threads, catalogue=artifact.feature_source == "catalogue")


def model_scores(artifact: ModelArtifact, features_table: pa.Table) -> pa.Table:
    """``enterprise_id, model_score (0–100 = calibrated probability × 100), probability`` — feed it to
    ``score(..., model_scores=…)``."""
    _check_features(artifact, features_table)
    X = feature_matrix(features_table, artifact.features, artifact.encodings)
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
# statements of a flag feature when it is 0 (never the label itself: a valid licence is never "no licence")
_FLAG_OFF = {
    "licence_valid": "无有效许可证",
    "licence_sc": "未持有食品生产许可证",
    "key_supervision": "不是重点监管对象",
    "last_insp_fail": "最近一次检查结论不是不符合",
    "listed_now": "当前未列入经营异常名录或严重违法失信名单",
}
_NONE = {  # statements when a catalogue feature has no value (no such record)
    "days_since": "无{what}记录", "last": "无检查记录", "share": "无可计算{what}的记录",
}
_UNIT_CN = {"days": "天", "months": "个月", "count": "", "amount": "元"}


def describe(feature: str, label: str, value: float | None) -> str:
    """What the record says, in Chinese, with the value in Chinese words and units (catalogue features)."""
    f = FEATURES.get(feature)
    if f is None:
        return label
    if f.kind == "category":
        return f"{label}为{value}" if value is not None else f"{label}未知"
    if f.unit == "flag":
        if feature.startswith("form_"):
            return label if value else label.replace("为", "不是", 1)
        return label if value else _FLAG_OFF.get(feature, f"{label}：否")
    if value is None:
        what = label.replace("距最近一次", "").replace("天数", "").replace("比例", "")
        return _NONE.get(f.kind, "{what}无记录").format(what=what)
    if f.unit == "tier":
        return f"静态风险等级为{LABELS['static_tier'].get(str(int(value)), f'{value:g}')}级"
    if f.unit == "ordinal" and feature == "scale_ord":
        return f"经营规模为{_SCALE_CN.get(int(value), f'{value:g}')}"
    if f.unit == "share":
        return f"{label}为{value * 100:.0f}%"
    if f.kind == "trend":
        return f"{label}：{'增加' if value > 0 else '减少' if value < 0 else '持平'}{abs(value):g}次"
    if feature == "age_months":
        return f"成立{value:g}个月"
    unit = _UNIT_CN.get(f.unit, "")
    if f.unit == "days":
        label = label.removesuffix("天数")
    if f.unit == "count":
        unit = "件" if "件数" in label else "批次" if "批次" in label else "项" if "项数" in label else "次"
        label = label.removesuffix("次数").removesuffix("件数").removesuffix("项数").removesuffix("批次")
    return f"{label}{value:g}{unit}"


def _phrase(name: str, value: float | None, median: float | None, feature: str) -> str:
    """Wording of an indicator-set feature value (artifacts trained on indicator values)."""
    if feature in FEATURES:
        return describe(feature, name, value)
    if value is None:
        return f"{name}无记录"
    if feature in _HIGH_LOW and median is not None and value != median:
        return _HIGH_LOW[feature][0 if value > median else 1]
    if name.startswith(("当前", "曾", "近36个月曾", "属于")):
        return name if value else f"{name}：否"
    if median is None:
        return name
    counts = name.endswith(("次数", "项数", "件数", "月数", "张数")) or "次数" in name
    if value > median:
        return name + ("较多" if counts else "较高")
    if value < median:
        return name + ("较少" if counts else "较低")
    return f"{name}为{value:g}"


def contributions(artifact: ModelArtifact, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(per-feature log-odds contributions, baseline) — TreeSHAP for LightGBM, exact terms for the logistic
    model. For every row the contributions sum to raw score − baseline."""
    if artifact.winner == "logistic":
        terms, base = logistic_terms(artifact.logistic, X)
        return terms, np.full(len(X), base)
    threads = int(artifact.params.get("num_threads", 2))
    c = artifact.booster().predict(X, pred_contrib=True, num_threads=threads)
    return c[:, :-1], c[:, -1]


def explain(
    artifact: ModelArtifact,
    features_table: pa.Table,
    enterprise_ids: Iterable[int] | None = None,
    top: int = 3,
    *,
    min_contribution: float = 0.01,
) -> pa.Table:
    """What raised and, separately, what lowered each enterprise's model risk, as Chinese reasons with their
    real sign, e.g. ``模型：近12个月监督检查不符合2次（增加风险 +0.35）`` /
    ``模型：持有有效许可证（降低风险 −0.12）``.

    Up to ``top`` raising and ``top`` lowering features (|contribution| ≥ ``min_contribution``, log-odds).
    ``contributions`` (JSON) lists those plus one ``_other`` entry for the rest and the ``_baseline``, so
    the listed entries add up exactly to ``raw_score``. Only rows whose enterprise_id is in
    ``enterprise_ids`` are explained (SHAP costs ~100 µs per row); ``None`` explains every row.
    """
    _check_features(artifact, features_table)
    t = features_table
    if enterprise_ids is not None:
        ids = pa.array(sorted({int(i) for i in enterprise_ids}), pa.int64())
        t = t.filter(pc.is_in(t["enterprise_id"].cast(pa.int64()), value_set=ids))
    if t.num_rows == 0:
        return EXPLAIN_SCHEMA.empty_table()
    X = feature_matrix(t, artifact.features, artifact.encodings)
    texts = {j: t[f].to_pylist() for j, f in enumerate(artifact.features) if f in (artifact.encodings or {})}
    reasons, contribs, raws = [], [], []
    names_q = [json.dumps(f, ensure_ascii=False) for f in artifact.features]

    @lru_cache(maxsize=100_000)
    def phrase(j: int, val: float | None) -> str:
        """'模型：…' sentence (without the contribution) for feature j at value val, JSON-escaped."""
        f = artifact.features[j]
        label = artifact.feature_labels.get(f, f)
        text = "模型：" + _phrase(label, val, artifact.feature_medians.get(f), f)
        return json.dumps(text, ensure_ascii=False)[1:-1]

    for lo in range(0, len(X), 200_000):
        xs = X[lo : lo + 200_000]
        feat, base = contributions(artifact, xs)
        raws.append(feat.sum(axis=1) + base)
        up = np.argsort(-feat, axis=1, kind="stable")[:, :top]
        down = np.argsort(feat, axis=1, kind="stable")[:, :top]
        for i in range(len(xs)):
            rs, cs, listed = [], [], 0.0
            for order, sign in ((up[i], 1), (down[i], -1)):
                for j in order.tolist():
                    v = float(feat[i, j])
                    if sign * v < min_contribution:
                        break
                    x = xs[i, j]
                    val = texts[j][lo + i] if j in texts else None if x != x else float(x)  # NaN → None
                    word = "增加风险 +" if v > 0 else "降低风险 −"
                    rs.append(f'"{phrase(j, val)}（{word}{abs(v):.2f}）"')
                    cs.append(f'{{"feature": {names_q[j]}, "value": {json.dumps(val, ensure_ascii=False)}, '
                              f'"contribution": {v!r}}}')
                    listed += v
            rest = float(feat[i].sum()) - listed
            cs.append(f'{{"feature": "_other", "value": null, "contribution": {rest!r}}}')
            cs.append(f'{{"feature": "_baseline", "value": null, "contribution": {float(base[i])!r}}}')
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
