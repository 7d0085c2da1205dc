"""Train the LightGBM risk model (and an interpretable WoE-logistic challenger) on a point-in-time dataset.

Time-based split: train on earlier as-of months, calibrate on a later slice, hold out the latest slice.
Between the training/calibration slices and the hold-out there is an embargo of ``horizon`` months so no
training label window overlaps the hold-out's label window (at the hold-out date those labels would not
yet be known).
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field, fields
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from ..compiler import shift_months
from ..metrics import auc
from ..spec import IndicatorSet
from .attribution import PathTable, path_table
from .dataset import Dataset, LabelSpec, feature_labels

if TYPE_CHECKING:  # LightGBM and scikit-learn are imported where a model is trained or loaded (seconds to
    import lightgbm as lgb  # load; every command and web worker would pay for them otherwise)

ARTIFACT_FORMAT = "foodrisk.model/1"
READABLE_FORMATS = (ARTIFACT_FORMAT,)

DEFAULT_PARAMS: dict = {
    "objective": "binary",
    "learning_rate": 0.1,
    "num_leaves": 7,
    "max_depth": 3,
    "min_data_in_leaf": 100,
    "lambda_l2": 1.0,
    "feature_fraction": 1.0,
    "bagging_fraction": 1.0,
    "max_bin": 63,
    "monotone_constraints_method": "advanced",
    "seed": 0,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 2,
    "verbosity": -1,
}
DEFAULT_ROUNDS = 100
MAX_DEPTH, MAX_LEAVES = 5, 31

# record sources whose counts/sums/flags can only mean more risk, given an "adverse" filter
_ADVERSE_FILTERS = {
    "inspections": ({("result", "fail")}, {"key_items_failed", "general_items_failed"}),
    "sampling_tests": ({("result", "fail")}, set()),
    "complaints": ({("verified", True)}, set()),
}


def default_monotone(spec: IndicatorSet, names: list[str]) -> dict[str, int]:
    """+1 for features whose direction is known: penalty counts, failed inspections / sampling, verified
    complaints, list membership. Derived from each indicator's source, aggregation and filter."""
    out = {}
    for n in names:
        if not n.startswith("v_"):
            continue
        try:
            ind = spec.indicator(n[2:])
        except KeyError:
            continue
        if ind.aggregation not in ("count", "sum", "exists", "rate"):
            continue
        flt = {
            (c.field, c.value if not isinstance(c.value, list) else None) for c in ind.filter if c.op == "="
        }
        if ind.source in ("penalties", "list_entries") and ind.aggregation in ("count", "exists"):
            out[n] = 1
        elif ind.source in _ADVERSE_FILTERS:
            need, fields = _ADVERSE_FILTERS[ind.source]
            if (flt & need) or (ind.field in fields and ind.aggregation == "sum"):
                out[n] = 1
    return out


# ----------------------------------------------------------------------------------------------- calibration


def fit_calibrator(raw: np.ndarray, y: np.ndarray, method: str = "isotonic") -> dict:
    """JSON-able calibrator mapping the booster's raw score (log-odds) to a probability."""
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression

    raw = np.asarray(raw, float)
    y = np.asarray(y, int)
    if method == "isotonic":
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
        return {
            "method": "isotonic",
            "x": [float(v) for v in iso.X_thresholds_],
            "y": [float(v) for v in iso.y_thresholds_],
        }
    if method == "platt":
        lr = LogisticRegression(C=1e6, max_iter=1000).fit(raw.reshape(-1, 1), y)
        return {"method": "platt", "a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}
    if method == "none":
        return {"method": "none"}
    raise ValueError("calibration must be 'isotonic', 'platt' or 'none'")


def apply_calibrator(cal: dict, raw: np.ndarray) -> np.ndarray:
    raw = np.asarray(raw, float)
    m = cal["method"]
    if m == "isotonic":
        return np.clip(np.interp(raw, np.asarray(cal["x"]), np.asarray(cal["y"])), 0.0, 1.0)
    if m == "platt":
        return 1.0 / (1.0 + np.exp(-(cal["a"] * raw + cal["b"])))
    return 1.0 / (1.0 + np.exp(-raw))


# ----------------------------------------------------------------------------------------------- PSI baseline


def distribution(values: np.ndarray, bins: int = 10) -> dict:
    """Quantile bin edges (inner) and fractions — the stored side of a PSI (same rule as metrics.psi)."""
    v = np.asarray(values, float)
    v = v[~np.isnan(v)] if v.size else v
    if v.size == 0:
        return {"edges": [], "fractions": [1.0], "missing": 1.0}
    edges = np.unique(np.quantile(v, np.linspace(0, 1, bins + 1)))
    inner = edges[1:-1] if len(edges) > 2 else edges[:0]
    full = np.concatenate([[-np.inf], inner, [np.inf]])
    frac = np.histogram(v, full)[0] / len(v)
    return {"edges": [float(e) for e in inner], "fractions": [float(f) for f in frac]}


def psi_against(baseline: dict, actual: np.ndarray, eps: float = 1e-4) -> float:
    """PSI of ``actual`` vs a stored :func:`distribution` (NaNs ignored)."""
    a = np.asarray(actual, float)
    a = a[~np.isnan(a)]
    if a.size == 0:
        return 0.0
    full = np.concatenate([[-np.inf], np.asarray(baseline["edges"], float), [np.inf]])
    pa_ = np.histogram(a, full)[0] / len(a)
    pe = np.asarray(baseline["fractions"], float)
    pe, pa_ = np.clip(pe, eps, None), np.clip(pa_, eps, None)
    return float(np.sum((pa_ - pe) * np.log(pa_ / pe)))


# ----------------------------------------------------------------------------------------------- challenger


def fit_woe_logistic(X: np.ndarray, y: np.ndarray, names: list[str], bins: int = 5, C: float = 1.0) -> dict:
    """Interpretable challenger: each feature cut at training quantiles, replaced by its bin's weight of
    evidence, then an L2 logistic regression. Returned as JSON-able edges / WoE / coefficients."""
    y = np.asarray(y, int)
    n_ev, n_non = max(1, y.sum()), max(1, (1 - y).sum())
    feats = []
    W = np.empty_like(X, dtype=float)
    for j, n in enumerate(names):
        col = X[:, j]
        ok = ~np.isnan(col)
        edges = (
            np.unique(np.quantile(col[ok], np.linspace(0, 1, bins + 1))[1:-1]) if ok.any() else np.array([])
        )
        idx = np.where(ok, np.searchsorted(edges, col, side="right"), len(edges) + 1)
        woe = []
        for b in range(len(edges) + 2):  # last bin = missing
            m = idx == b
            ev = y[m].sum() + 0.5
            non = (1 - y[m]).sum() + 0.5
            woe.append(float(np.log((ev / n_ev) / (non / n_non))))
        W[:, j] = np.asarray(woe)[idx]
        feats.append({"name": n, "edges": [float(e) for e in edges], "woe": woe})
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=C, max_iter=2000).fit(W, y)
    return {
        "kind": "woe_logistic",
        "features": feats,
        "coef": [float(c) for c in lr.coef_[0]],
        "intercept": float(lr.intercept_[0]),
    }


def predict_woe_logistic(ch: dict, X: np.ndarray) -> np.ndarray:
    z = np.full(X.shape[0], ch["intercept"])
    for j, (f, c) in enumerate(zip(ch["features"], ch["coef"], strict=True)):
        edges = np.asarray(f["edges"], float)
        col = X[:, j]
        ok = ~np.isnan(col)
        idx = np.where(ok, np.searchsorted(edges, col, side="right"), len(edges) + 1)
        z += c * np.asarray(f["woe"])[idx]
    return 1.0 / (1.0 + np.exp(-z))


# ----------------------------------------------------------------------------------------------- artifact


@dataclass
class ModelArtifact:
    """Everything needed to score, explain and monitor — JSON only, no pickle."""

    model_string: str
    calibrator: dict
    features: list[str]
    feature_labels: dict[str, str]
    monotone: dict[str, int]
    params: dict
    num_trees: int
    training_window: dict  # {"train": [first, last], "calibration": [...], "holdout": [...]} ISO dates
    label: dict  # LabelSpec.to_dict()
    spec_code: str
    spec_version: str | int
    blend: dict  # {"rule": w, "model": w} used for the combined score
    metrics: dict = field(default_factory=dict)
    psi_baseline: dict = field(default_factory=dict)  # {"score": dist, "features": {name: dist}}
    feature_medians: dict = field(default_factory=dict)
    challenger: dict | None = None
    format: str = ARTIFACT_FORMAT
    # issue 17: features from the catalogue (catalogue.py) instead of the set's indicator values; the model
    # that scores ("lightgbm" or "logistic", chosen on rolling-origin folds) and the logistic fit itself;
    # probability cut-offs of the grades from the policy's grade shares
    feature_source: str = "indicators"
    winner: str = "lightgbm"
    logistic: dict | None = None
    grade_thresholds: dict | None = None
    encodings: dict | None = None  # {feature: {"values": {text: number}}} for category features

    # run-time only (not serialised, so the same seed gives byte-identical JSON)
    timing: dict = field(default_factory=dict, repr=False, compare=False)
    _booster: lgb.Booster | None = field(default=None, init=False, repr=False, compare=False)
    _paths: PathTable | None = field(default=None, init=False, repr=False, compare=False)

    def booster(self) -> lgb.Booster:
        if self._booster is None:
            import lightgbm as lgb

            self._booster = lgb.Booster(model_str=self.model_string)
        return self._booster

    def path_table(self) -> PathTable:
        """The booster's per-leaf path credits (explanations), tabulated on first use and kept."""
        if self._paths is None:
            self._paths = path_table(self.booster().dump_model())
        return self._paths

    def to_dict(self) -> dict:
        skip = ("_booster", "_paths", "timing")
        return {f.name: copy.deepcopy(getattr(self, f.name)) for f in fields(self) if f.name not in skip}

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent, sort_keys=True, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> ModelArtifact:
        d = json.loads(text)
        if d.get("format") not in READABLE_FORMATS:
            raise ValueError(f"not a foodrisk model artifact (format {d.get('format')!r})")
        d.pop("_booster", None)
        d.pop("_paths", None)
        return cls(**d)

    @property
    def label_spec(self) -> LabelSpec:
        return LabelSpec.from_dict(self.label)


# ----------------------------------------------------------------------------------------------- split & train


@dataclass
class Split:
    train: list[date]
    calibration: list[date]
    holdout: list[date]

    def as_dict(self) -> dict:
        def rng(ds):
            return [ds[0].isoformat(), ds[-1].isoformat()] if ds else []

        return {"train": rng(self.train), "calibration": rng(self.calibration), "holdout": rng(self.holdout)}


def time_split(
    dates: list[date],
    horizon_months: int = 12,
    calib_months: int = 3,
    holdout_months: int = 1,
    embargo: bool = True,
) -> Split:
    """Latest ``holdout_months`` dates = hold-out; the ``calib_months`` dates before it (at least
    ``horizon_months`` earlier when ``embargo``) = calibration; everything before that = training."""
    ds = sorted(set(dates))
    if len(ds) < 3:
        raise ValueError("need at least three as-of dates for a train / calibration / hold-out split")
    hold = ds[-holdout_months:]
    limit = shift_months(hold[0], -horizon_months) if embargo else ds[-holdout_months - 1]
    before = [d for d in ds if d <= limit]
    cal = before[-calib_months:]
    train = [d for d in before if d < cal[0]] if cal else []
    if not train or not cal:
        raise ValueError(
            f"not enough as-of dates for the split (have {len(ds)}; the embargo before the hold-out is "
            f"{horizon_months} months)"
        )
    return Split(train, cal, hold)


def train_model(
    dataset: Dataset,
    spec: IndicatorSet,
    *,
    split: Split | None = None,
    params: dict | None = None,
    num_boost_round: int = DEFAULT_ROUNDS,
    seed: int = 0,
    calibration: str = "platt",
    monotone: dict[str, int] | None = None,
    blend: dict | None = None,
    challenger: bool = True,
    challenger_max_rows: int = 200_000,
) -> ModelArtifact:
    """Fit the booster on the training slice, the calibrator on the calibration slice; hold-out metrics
    (AUC of the model and the challenger) go into ``artifact.metrics``. Deterministic for a given seed."""
    t0 = time.perf_counter()
    labelled = dataset.table.filter(dataset.table["label"].is_valid())
    dates = sorted(set(labelled["as_of"].to_pylist()))
    split = split or time_split(dates, dataset.label.horizon_months)
    names = list(dataset.feature_names)
    p = {**DEFAULT_PARAMS, **(params or {})}
    p["seed"] = seed
    p["deterministic"] = True
    if int(p.get("max_depth", -1)) < 0 or int(p["max_depth"]) > MAX_DEPTH:
        raise ValueError(f"max_depth must be 1–{MAX_DEPTH}")
    if int(p["num_leaves"]) > MAX_LEAVES:
        raise ValueError(f"num_leaves must be ≤ {MAX_LEAVES}")
    mono = default_monotone(spec, names) if monotone is None else dict(monotone)
    p["monotone_constraints"] = [int(mono.get(n, 0)) for n in names]

    tr, ca, ho = dataset.slice(split.train), dataset.slice(split.calibration), dataset.slice(split.holdout)
    Xtr, ytr = dataset.X(tr), dataset.y(tr)
    Xca, yca = dataset.X(ca), dataset.y(ca)
    t1 = time.perf_counter()
    import lightgbm as lgb

    dtrain = lgb.Dataset(Xtr, ytr, feature_name=names, free_raw_data=True, params={"max_bin": p["max_bin"]})
    booster = lgb.train(p, dtrain, num_boost_round=num_boost_round)
    t2 = time.perf_counter()
    raw_ca = booster.predict(Xca, raw_score=True, num_threads=int(p["num_threads"]))
    cal = fit_calibrator(raw_ca, yca, calibration)
    raw_tr = booster.predict(Xtr, raw_score=True, num_threads=int(p["num_threads"]))
    score_ca = apply_calibrator(cal, raw_ca) * 100.0

    metrics: dict = {
        "rows": {"train": tr.num_rows, "calibration": ca.num_rows, "holdout": ho.num_rows},
        "event_rate": {
            "train": float(ytr.mean()) if len(ytr) else None,
            "calibration": float(yca.mean()) if len(yca) else None,
        },
    }
    if len(np.unique(ytr)) == 2:
        metrics["auc_train"] = auc(ytr, raw_tr)
    if len(np.unique(yca)) == 2:
        metrics["auc_calibration"] = auc(yca, raw_ca)
    t3 = time.perf_counter()
    ch = None
    if challenger:
        # the scorecard challenger needs far fewer rows; a seeded subsample keeps it deterministic
        sub = np.arange(len(ytr))
        if len(sub) > challenger_max_rows:
            sub = np.sort(np.random.default_rng(seed).choice(len(ytr), challenger_max_rows, replace=False))
        ch = fit_woe_logistic(Xtr[sub], ytr[sub], names)
    t4 = time.perf_counter()
    if ho.num_rows:
        Xho, yho = dataset.X(ho), dataset.y(ho)
        metrics["event_rate"]["holdout"] = float(yho.mean())
        if len(np.unique(yho)) == 2:
            metrics["auc_holdout"] = auc(yho, booster.predict(Xho, raw_score=True))
            if ch is not None:
                metrics["auc_holdout_challenger"] = auc(yho, predict_woe_logistic(ch, Xho))
    if ch is not None and len(np.unique(yca)) == 2:
        metrics["auc_calibration_challenger"] = auc(yca, predict_woe_logistic(ch, Xca))

    medians = {}
    base_feats = {}
    for j, n in enumerate(names):
        col = Xtr[:, j]
        ok = col[~np.isnan(col)]
        medians[n] = float(np.median(ok)) if ok.size else None
        base_feats[n] = distribution(Xca[:, j])
    timing = {
        "prepare_s": round(t1 - t0, 3),
        "fit_s": round(t2 - t1, 3),
        "calibrate_s": round(t3 - t2, 3),
        "challenger_s": round(t4 - t3, 3),
        "total_s": round(time.perf_counter() - t0, 3),
    }
    bl = blend or (dict(spec.blend) if float(spec.blend.get("model", 0)) > 0 else {"rule": 0.6, "model": 0.4})
    return ModelArtifact(
        model_string=booster.model_to_string(),
        calibrator=cal,
        features=names,
        feature_labels=feature_labels(spec, names),
        monotone={n: v for n, v in mono.items() if n in names and v},
        params={k: v for k, v in p.items() if k != "monotone_constraints"}
        | {"num_boost_round": num_boost_round},
        num_trees=booster.num_trees(),
        training_window=split.as_dict(),
        label=dataset.label.to_dict(),
        spec_code=spec.code,
        spec_version=spec.version,
        blend=bl,
        metrics=metrics,
        psi_baseline={"score": distribution(score_ca), "features": base_feats, "sample": "calibration"},
        feature_medians=medians,
        challenger=ch,
        timing=timing,
    )
