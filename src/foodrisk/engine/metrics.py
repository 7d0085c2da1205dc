"""Evaluation metrics for scores and grades (regulations.md §6).

AUC, KS, Gini = 2·AUC − 1, top-decile lift, PSI (< 0.1 stable, 0.1–0.25 minor shift, > 0.25 major shift),
grade migration matrix, event rate by grade with Wilson confidence intervals.
Higher score = higher risk = more likely event, throughout.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def _xy(y_true, score) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true).astype(int)
    s = np.asarray(score, dtype=float)
    if y.shape != s.shape:
        raise ValueError("y_true and score must have the same length")
    if len(np.unique(y)) != 2:
        raise ValueError("need both events and non-events")
    return y, s


def auc(y_true, score) -> float:
    y, s = _xy(y_true, score)
    from sklearn.metrics import roc_auc_score  # imported when used: scikit-learn takes seconds to load

    return float(roc_auc_score(y, s))


def gini(y_true, score) -> float:
    """Accuracy ratio = 2·AUC − 1."""
    return 2.0 * auc(y_true, score) - 1.0


def ks(y_true, score) -> float:
    """Kolmogorov–Smirnov statistic: max |TPR − FPR| over thresholds."""
    y, s = _xy(y_true, score)
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(y, s)
    return float(np.max(np.abs(tpr - fpr)))


def top_lift(y_true, score, fraction: float = 0.1) -> float:
    """Event rate among the top ``fraction`` by score ÷ overall event rate (ties broken by order)."""
    y, s = _xy(y_true, score)
    k = max(1, int(math.ceil(len(y) * fraction)))
    order = np.argsort(-s, kind="stable")
    return float(y[order[:k]].mean() / y.mean())


def psi(expected, actual, bins: int = 10, eps: float = 1e-4) -> float:
    """Population stability index of ``actual`` vs ``expected`` over quantile bins of ``expected``."""
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    edges = np.unique(np.quantile(e, np.linspace(0, 1, bins + 1)))
    if len(edges) < 2:
        edges = np.array([e.min() - 0.5, e.min() + 0.5])
    edges[0], edges[-1] = -np.inf, np.inf
    pe = np.histogram(e, edges)[0] / len(e)
    pa = np.histogram(a, edges)[0] / len(a)
    pe, pa = np.clip(pe, eps, None), np.clip(pa, eps, None)
    return float(np.sum((pa - pe) * np.log(pa / pe)))


def psi_categorical(expected: Sequence, actual: Sequence, eps: float = 1e-4) -> float:
    """PSI over categories (e.g. grade distributions)."""
    cats = sorted(set(expected) | set(actual), key=str)
    e = np.array([list(expected).count(c) for c in cats], dtype=float) / len(expected)
    a = np.array([list(actual).count(c) for c in cats], dtype=float) / len(actual)
    e, a = np.clip(e, eps, None), np.clip(a, eps, None)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_status(value: float) -> str:
    """Rule of thumb: stable < 0.1 ≤ minor ≤ 0.25 < major."""
    if value < 0.1:
        return "stable"
    if value <= 0.25:
        return "minor"
    return "major"


@dataclass
class Migration:
    grades: list[str]
    matrix: np.ndarray  # rows = before, columns = after (counts)
    stable_share: float  # diagonal share
    up_share: float  # moved to a higher-risk grade
    down_share: float  # moved to a lower-risk grade

    def as_dict(self) -> dict:
        return {
            "grades": self.grades,
            "matrix": self.matrix.tolist(),
            "stable_share": self.stable_share,
            "up_share": self.up_share,
            "down_share": self.down_share,
        }


def migration_matrix(
    before: Sequence[str], after: Sequence[str], grades: Sequence[str] = ("A", "B", "C", "D")
) -> Migration:
    """Grade transition counts between two runs (pairs aligned by position)."""
    if len(before) != len(after):
        raise ValueError("before and after must be aligned")
    idx = {g: i for i, g in enumerate(grades)}
    m = np.zeros((len(grades), len(grades)), dtype=np.int64)
    for b, a in zip(before, after, strict=True):
        m[idx[b], idx[a]] += 1
    n = m.sum()
    if n == 0:
        return Migration(list(grades), m, 0.0, 0.0, 0.0)
    return Migration(
        grades=list(grades),
        matrix=m,
        stable_share=float(np.trace(m) / n),
        up_share=float(np.triu(m, 1).sum() / n),
        down_share=float(np.tril(m, -1).sum() / n),
    )


def wilson_interval(events: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (well-behaved at 0 and small n)."""
    if n == 0:
        return (0.0, 1.0)
    p = events / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def event_rate_by_grade(
    grades: Sequence[str], y_true: Sequence[int], order: Sequence[str] = ("A", "B", "C", "D"), z: float = 1.96
) -> list[dict]:
    """Per grade: n, events, rate, Wilson CI — and whether rates rise monotonically A < B < C < D."""
    g = np.asarray(grades)
    y = np.asarray(y_true).astype(int)
    out = []
    for label in order:
        mask = g == label
        n = int(mask.sum())
        ev = int(y[mask].sum())
        lo, hi = wilson_interval(ev, n, z)
        out.append(
            {"grade": label, "n": n, "events": ev, "rate": ev / n if n else None, "ci_low": lo, "ci_high": hi}
        )
    return out


def is_monotone(rates: list[dict]) -> bool:
    """True when the event rate never falls from a lower-risk to a higher-risk grade (empty grades skipped)."""
    r = [x["rate"] for x in rates if x["rate"] is not None]
    return all(b >= a for a, b in zip(r, r[1:], strict=False))
