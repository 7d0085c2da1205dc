"""Score with a trained artifact and explain the scores (per-leaf path attributions, only for the enterprises
asked for)."""

from __future__ import annotations

import json
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..schema import LABELS
from .attribution import path_contributions
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


# rows per pred_leaf + lookup block: a block's credits (features × rows) stay in the CPU caches while every
# tree adds to them; measured on the 250-tree benchmark model, 10,000-row blocks took ~2/3 of the time of
# 100,000-row ones
_LEAF_ROWS = 10_000


def contributions(artifact: ModelArtifact, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(per-feature log-odds contributions, baseline) — per-leaf path attributions for LightGBM
    (attribution.py; TreeSHAP cost 300–470 µs a row here, these ~20 µs: pred_leaf and a lookup per tree),
    exact terms for the logistic model. For every row the contributions sum to raw score − baseline."""
    if artifact.winner == "logistic":
        terms, base = logistic_terms(artifact.logistic, X)
        return terms, np.full(len(X), base)
    table, booster = artifact.path_table(), artifact.booster()
    threads = int(artifact.params.get("num_threads", 2))
    out = np.empty((len(X), table.n_features))
    for lo in range(0, len(X), _LEAF_ROWS):
        leaves = booster.predict(X[lo : lo + _LEAF_ROWS], pred_leaf=True, num_threads=threads)
        out[lo : lo + _LEAF_ROWS] = path_contributions(table, leaves)
    return out, np.full(len(X), table.baseline)


_WORDS = ("降低风险 −", "增加风险 +")  # by contribution > 0: the real sign, never the slot's
_CHUNK = 100_000  # rows per chunk of explain: its strings are built with a few dozen Arrow calls


def _ranked(a: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k smallest values of each row, smallest first, ties by lower index — what
    ``np.argsort(a, kind="stable")[:, :k]`` gives, without sorting whole rows (ties are common: a feature
    no tree splits on, duplicate logistic terms)."""
    if k >= a.shape[1]:
        return np.argsort(a, axis=1, kind="stable")
    kth = np.partition(a, k - 1, axis=1)[:, k - 1 : k]  # the k-th smallest value of each row
    take = a <= kth
    # more than k: values equal to the k-th compete for the places left after those below it, and the
    # lowest-indexed ones win (only these rows pay for the running count)
    over = np.nonzero(take.sum(axis=1) > k)[0]
    if len(over):
        sub = a[over]
        tied = sub == kth[over]
        free = k - (sub < kth[over]).sum(axis=1, keepdims=True)
        take[over] = (sub < kth[over]) | (tied & (np.cumsum(tied, axis=1) <= free))
    idx = np.nonzero(take)[1].reshape(len(a), k)  # ascending index within each row
    order = np.argsort(np.take_along_axis(a, idx, axis=1), axis=1, kind="stable")
    return np.take_along_axis(idx, order, axis=1)


def _take_unique(v: np.ndarray, write) -> pa.Array:
    """``write`` applied to each distinct value of v once, then taken back to v's order (Arrow)."""
    u, inv = np.unique(v, return_inverse=True)
    return write(u).take(pa.array(inv.ravel()))


def _floats(v: np.ndarray) -> pa.Array:
    """JSON numbers that read back as the same float (Arrow's shortest round-trip form; '.0' added to an
    integral one so that it stays a float when parsed, as Python's repr would write it)."""
    s = pc.cast(pa.array(v), pa.string())
    if not (v == np.floor(v)).any():  # the usual case: nothing integral, skip the pattern match
        return s
    return pc.if_else(pc.match_substring_regex(s, r"^-?[0-9]+$"), pc.binary_join_element_wise(s, ".0", ""), s)


def _cents_closed(v: np.ndarray) -> pa.Array:
    """``f"{v:.2f}）\""`` for v ≥ 0 (the end of a reason), vectorised: v × 100 rounded, then one string per
    distinct number of cents; the rare near-halves, where v × 100 may round the other way than the exact
    decimal, are rounded by Python's own formatting."""
    c100 = v * 100.0
    cents = np.rint(c100)
    near = np.nonzero(np.abs(c100 - np.floor(c100) - 0.5) < 1e-6)[0]
    cents[near] = [int(f"{x:.2f}".replace(".", "")) for x in v[near].tolist()]
    return _take_unique(cents.astype(np.int64),
                        lambda u: pa.array([f'{c // 100}.{c % 100:02d}）"' for c in u.tolist()], pa.string()))


def _sentences(artifact, feat, base, xs, category, top, min_contribution, phrases):
    """(reasons, contributions) JSON strings of one chunk, built column-wise: the listed entries of all rows
    are picked with a partition, the text before each number is written once per distinct (feature, value)
    (``phrases``, kept across chunks) and the pieces are joined by Arrow. ``category[j]`` = (codes of the
    chunk's rows, texts) for a text feature, whose value is its text, not the encoded number in xs."""
    m, n = feat.shape
    k = min(top, n)
    if k > 0:
        J = np.concatenate([_ranked(-feat, k), _ranked(feat, k)], axis=1)  # k raising, then k lowering
    else:
        J = np.empty((m, 0), dtype=np.int64)
    V = np.take_along_axis(feat, J, axis=1)
    # each half is sorted by |contribution| first, so this keeps a prefix of it, as the row-wise break did
    M = np.concatenate([np.ones(k), -np.ones(k)]) * V >= min_contribution
    rows = np.nonzero(M)[0]
    j, v = J[M], V[M]
    key = xs[rows, j] + 0.0  # + 0.0: −0 reads as 0
    for f, (codes, _) in category.items():
        at = j == f
        key[at] = codes[rows[at]]
    key[np.isnan(key)] = np.nan  # one bit pattern for every missing value
    bits = key.view(np.int64)
    o = np.lexsort((bits, j))
    first = np.ones(len(o), dtype=bool)
    first[1:] = (j[o][1:] != j[o][:-1]) | (bits[o][1:] != bits[o][:-1])
    inv = np.empty(len(o), dtype=np.int64)
    inv[o] = np.cumsum(first) - 1
    heads, entry_heads = [], []
    for f, b, x in zip(j[o][first].tolist(), bits[o][first].tolist(), key[o][first].tolist(), strict=True):
        if (f, b) not in phrases:  # keyed by the bits: NaN is not equal to itself
            phrases[f, b] = _heads(artifact, f, x, category.get(f))
        lowering, raising, entry = phrases[f, b]
        heads += (lowering, raising)
        entry_heads.append(entry)
    raising = (v > 0).astype(np.int64)  # the real sign of the number, whichever half listed it
    reason = pc.binary_join_element_wise(pa.array(heads, pa.string()).take(pa.array(inv * 2 + raising)),
                                         _cents_closed(np.abs(v)), "")
    entry = pc.binary_join_element_wise(pa.array(entry_heads, pa.string()).take(pa.array(inv)), _floats(v), "")
    counts = M.sum(axis=1)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    # what the listed entries leave of the row's total, added in listing order (cumsum is sequential)
    listed_sum = np.cumsum(np.where(M, V, 0.0), axis=1)[:, -1] if J.shape[1] else np.zeros(m)
    rest = feat.sum(axis=1) - listed_sum
    baseline = _take_unique(base, lambda u: pc.binary_join_element_wise(
        '}, {"feature": "_baseline", "value": null, "contribution": ', _floats(u), "}]", ""))
    reasons = pc.binary_join_element_wise("[", pc.binary_join(pa.ListArray.from_arrays(offsets, reason), ", "),
                                          "]", "")
    # entries end in their number; "}, " between them and after the last one before `_other`
    listed = pc.binary_join(pa.ListArray.from_arrays(offsets, entry), "}, ")
    gap = pc.if_else(pa.array(counts > 0), '}, {"feature": "_other", "value": null, "contribution": ',
                     '{"feature": "_other", "value": null, "contribution": ')
    return reasons, pc.binary_join_element_wise("[", listed, gap, _floats(rest), baseline, "")


def _heads(artifact: ModelArtifact, j: int, x: float, category: tuple | None) -> tuple[str, str, str]:
    """The text before the number of feature j at x (for a text feature x is the code of its text, −1 for
    none): the reason as lowering and as raising (JSON, open), and the contributions entry."""
    val = None if x != x or (category is not None and x < 0) else x  # NaN, no text → None
    if category is not None and val is not None:
        val = category[1][int(x)]
    f = artifact.features[j]
    said = json.dumps("模型：" + _phrase(artifact.feature_labels.get(f, f), val, artifact.feature_medians.get(f), f),
                      ensure_ascii=False)[:-1]
    # a float's JSON is its repr (json.dumps writes it so); None and texts go through json
    value = repr(val) if isinstance(val, float) else json.dumps(val, ensure_ascii=False)
    entry = f'{{"feature": {json.dumps(f, ensure_ascii=False)}, "value": {value}, "contribution": '
    return f"{said}（{_WORDS[0]}", f"{said}（{_WORDS[1]}", entry


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
    ``enterprise_ids`` are explained (~30 µs a row with path attributions); ``None`` explains every row.
    """
    _check_features(artifact, features_table)
    t = features_table
    if enterprise_ids is not None:
        ids = pa.array(sorted({int(i) for i in enterprise_ids}), pa.int64())
        t = t.filter(pc.is_in(t["enterprise_id"].cast(pa.int64()), value_set=ids))
    if t.num_rows == 0:
        return EXPLAIN_SCHEMA.empty_table()
    X = feature_matrix(t, artifact.features, artifact.encodings)
    category = {}  # text features: the text is the value shown, the encoded number only feeds the model
    for j, f in enumerate(artifact.features):
        if f in (artifact.encodings or {}):
            d = pc.dictionary_encode(t[f].combine_chunks())
            codes = pc.fill_null(d.indices, -1).to_numpy(zero_copy_only=False).astype(np.float64)
            category[j] = (codes, d.dictionary.to_pylist())
    phrases: dict = {}
    reasons, contribs, raws = [], [], []
    for lo in range(0, len(X), _CHUNK):
        xs = X[lo : lo + _CHUNK]
        feat, base = contributions(artifact, xs)
        raws.append(feat.sum(axis=1) + base)
        chunk_category = {j: (codes[lo : lo + _CHUNK], texts) for j, (codes, texts) in category.items()}
        r, c = _sentences(artifact, feat, base, xs, chunk_category, top, min_contribution, phrases)
        reasons.append(r)
        contribs.append(c)
    return pa.Table.from_arrays(
        [
            t["enterprise_id"].cast(pa.int64()),
            pa.array(np.concatenate(raws)),
            pa.chunked_array(reasons, pa.string()),
            pa.chunked_array(contribs, pa.string()),
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
