"""Training that uses the history it is given: rolling-origin validation, choices made on the folds.

:func:`fit_validated` builds the catalogue features (catalogue.py) once per monthly as-of date of the whole
history, then for several cut-offs c (the latest ``folds`` dates whose target window is complete) fits every
candidate on the as-of dates whose *training* label window ends by c (expanding window) and scores the
enterprises at c against the *target* outcome in (c, c + target horizon]. Chosen on those folds, not fixed:

* the training label horizon (``horizons``): a shorter horizon gives more, fresher training dates;
* the model: LightGBM (two regularisation settings) or the challenger, an L2 logistic regression on the
  same features (log counts, missing indicators, standardised; ``C`` from ``lr_C``);
* nothing else is tuned, so three folds are enough to choose honestly.

Class weighting: both learners weight the classes to equal total weight (rare events still shape the fit);
the probabilities come from a Platt calibration on the stacked out-of-fold scores of the chosen candidate,
so they are calibrated on data the model did not see. Monotone constraints (LightGBM only): the catalogue's
``direction`` (+1 where the regulation fixes it), nothing else.

Grades: probability thresholds from ``grade_shares`` (a policy, e.g. A 50 % / B 30 % / C 15 % / D 5 %) on the
out-of-fold scores; the card reports each fold's adverse rate per grade and whether A < B < C < D held.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..compiler import shift_months
from ..metrics import auc as auc_of
from .catalogue import (
    CATALOGUE,
    CATALOGUE_LABELS,
    CATALOGUE_MONOTONE,
    CATEGORY_FEATURES,
    FEATURES,
    MODEL_CATEGORIES,
    catalogue_table,
)
from .dataset import LabelSpec, encode, fit_encoding, outcomes

NUMERIC_FEATURES = [f.name for f in CATALOGUE if f.kind != "category"]

SnapshotProvider = Callable[[date], Mapping[str, pa.Table]]

LGBM_CANDIDATES: dict[str, dict] = {
    "lgbm_shallow": {"num_leaves": 7, "max_depth": 3, "min_data_in_leaf": 50, "lambda_l2": 5.0,
                     "learning_rate": 0.05, "num_boost_round": 150},
    "lgbm_deeper": {"num_leaves": 15, "max_depth": 4, "min_data_in_leaf": 100, "lambda_l2": 10.0,
                    "learning_rate": 0.05, "num_boost_round": 250, "feature_fraction": 0.8,
                    "bagging_fraction": 0.8, "bagging_freq": 1},
}
LR_C = (0.01, 0.1, 1.0)
DEFAULT_GRADE_SHARES = {"A": 0.5, "B": 0.3, "C": 0.15, "D": 0.05}
_LOG_UNITS = {"count", "days", "months", "amount"}


# ------------------------------------------------------------------------------------------------ logistic
def fit_logistic(X: np.ndarray, y: np.ndarray, names: Sequence[str], C: float, seed: int = 0) -> dict:
    """L2 logistic regression on transformed features: log1p of counts/days/amounts, NaN → training median
    plus a missing indicator, standardised. JSON-able; :func:`logistic_terms` gives exact contributions."""
    from sklearn.linear_model import LogisticRegression

    spec = _logistic_design_spec(X, names)
    Z = _design(spec, X)
    lr = LogisticRegression(C=C, class_weight="balanced", max_iter=500, random_state=seed).fit(Z, y)
    coef = lr.coef_[0]
    k = len(names)
    return {**spec, "C": float(C), "intercept": float(lr.intercept_[0]),
            "coef": [float(c) for c in coef[:k]], "coef_missing": [float(c) for c in coef[k:]]}


def _logistic_design_spec(X: np.ndarray, names: Sequence[str]) -> dict:
    logs = [FEATURES[n].unit in _LOG_UNITS if n in FEATURES else False for n in names]
    T = _transform(X, logs)
    fill = [float(np.nanmedian(T[:, j])) if np.isfinite(T[:, j]).any() else 0.0 for j in range(T.shape[1])]
    missing = [bool(np.isnan(X[:, j]).any()) for j in range(X.shape[1])]
    F = np.where(np.isnan(T), np.asarray(fill), T)
    M = np.isnan(X)[:, missing].astype(float)
    mean = np.concatenate([F.mean(axis=0), M.mean(axis=0)])
    sd = np.concatenate([F.std(axis=0), M.std(axis=0)])
    sd[sd == 0] = 1.0
    return {"kind": "logistic", "features": list(names), "log1p": logs, "fill": fill, "missing": missing,
            "mean": [float(v) for v in mean], "scale": [float(v) for v in sd]}


def _transform(X: np.ndarray, logs: Sequence[bool]) -> np.ndarray:
    T = X.astype(float).copy()
    for j, lg in enumerate(logs):
        if lg:
            T[:, j] = np.sign(T[:, j]) * np.log1p(np.abs(T[:, j]))
    return T


def _design(spec: dict, X: np.ndarray) -> np.ndarray:
    T = _transform(X, spec["log1p"])
    F = np.where(np.isnan(T), np.asarray(spec["fill"]), T)
    M = np.isnan(X)[:, np.asarray(spec["missing"], bool)].astype(float)
    return (np.hstack([F, M]) - np.asarray(spec["mean"])) / np.asarray(spec["scale"])


def logistic_terms(lr: dict, X: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-feature log-odds contributions (value and its missing indicator together) and the baseline
    (the intercept: the log-odds of a training-average enterprise). Rows sum to raw − baseline exactly."""
    Z = _design(lr, X)
    k = len(lr["features"])
    terms = Z[:, :k] * np.asarray(lr["coef"])
    miss_cols = np.flatnonzero(np.asarray(lr["missing"], bool))
    if len(miss_cols):
        terms[:, miss_cols] += Z[:, k:] * np.asarray(lr["coef_missing"])
    return terms, float(lr["intercept"])


def predict_logistic(lr: dict, X: np.ndarray) -> np.ndarray:
    """Raw log-odds."""
    terms, base = logistic_terms(lr, X)
    return terms.sum(axis=1) + base


# ------------------------------------------------------------------------------------------------ lightgbm
def fit_lgbm(X, y, names, params: dict, monotone: Mapping[str, int], seed: int = 0, threads: int = 2):
    import lightgbm as lgb

    p = {k: v for k, v in params.items() if k != "num_boost_round"}
    pos = max(1, int(y.sum()))
    p.update({"objective": "binary", "verbosity": -1, "seed": seed, "deterministic": True,
              "force_row_wise": True, "num_threads": threads, "max_bin": 63,
              "scale_pos_weight": (len(y) - pos) / pos,
              "monotone_constraints": [int(monotone.get(n, 0)) for n in names],
              "monotone_constraints_method": "advanced"})
    ds = lgb.Dataset(X, y, feature_name=list(names), free_raw_data=True, params={"max_bin": 63})
    return lgb.train(p, ds, num_boost_round=int(params["num_boost_round"]))


# ------------------------------------------------------------------------------------------------ data
@dataclass
class FeatureCache:
    """Catalogue features per as-of date and labels per (date, horizon), each computed once."""

    snapshot_at: SnapshotProvider
    label_snapshot: Mapping[str, pa.Table]
    target: LabelSpec
    threads: int = 2
    features: dict[date, pa.Table] = field(default_factory=dict)
    labels: dict[tuple[date, int], pa.Table] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=lambda: {"features": 0.0, "labels": 0.0})

    def X(self, d: date) -> pa.Table:
        if d not in self.features:
            t0 = time.perf_counter()
            t = catalogue_table(self.snapshot_at(d), d, threads=self.threads)
            t = t.filter(pc.equal(pc.fill_null(t["status"], "active"), "active")).drop_columns(["status"])
            self.features[d] = t
            self.seconds["features"] += time.perf_counter() - t0
        return self.features[d]

    def rows(self, d: date, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(enterprise ids, numeric feature matrix, category values, labels) of the labelled rows at d."""
        key = (d, horizon)
        if key not in self.labels:
            t0 = time.perf_counter()
            self.labels[key] = outcomes(self.label_snapshot, d, horizon, self.target.kinds,
                                        population=self.target.population, threads=self.threads)
            self.seconds["labels"] += time.perf_counter() - t0
        ft, oc = self.X(d), self.labels[key]
        if self.target.population == "inspections":  # one row per inspection: its enterprise's features
            oc = oc.filter(oc["label"].is_valid())
            idx = pc.index_in(oc["enterprise_id"], ft["enterprise_id"])
            found = idx.is_valid().to_numpy(zero_copy_only=False)
            rows = idx.to_numpy(zero_copy_only=False)[found].astype(np.int64)
            y = oc["label"].to_numpy(zero_copy_only=False)[found].astype(np.int8)
        else:  # one row per labelled enterprise
            lab = oc["label"].take(pc.index_in(ft["enterprise_id"], oc["enterprise_id"]))
            rows = np.flatnonzero(lab.is_valid().to_numpy(zero_copy_only=False))
            y = lab.to_numpy(zero_copy_only=False)[rows].astype(np.int8)
        X = np.column_stack([ft[n].to_numpy(zero_copy_only=False).astype(float) for n in NUMERIC_FEATURES])[rows]
        C = np.column_stack([np.asarray(ft[n].to_pylist(), dtype=object) for n in CATEGORY_FEATURES]
                            or [np.empty(ft.num_rows, dtype=object)])[rows][:, : len(CATEGORY_FEATURES)]
        ids = ft["enterprise_id"].to_numpy(zero_copy_only=False)[rows]
        return ids, X, C, y


def _stack(cache: FeatureCache, dates: Sequence[date], horizon: int, max_rows: int, seed: int):
    parts = [cache.rows(d, horizon) for d in dates]
    X = np.vstack([p[1] for p in parts])
    C = np.vstack([p[2] for p in parts])
    y = np.concatenate([p[3] for p in parts])
    if len(y) > max_rows:  # seeded subsample keeps the fit within its time budget and deterministic
        keep = np.sort(np.random.default_rng(seed).choice(len(y), max_rows, replace=False))
        X, C, y = X[keep], C[keep], y[keep]
    return X, C, y


def with_categories(X: np.ndarray, C: np.ndarray, encodings: Mapping[str, dict]) -> np.ndarray:
    """The numeric features followed by the encoded model categories (the model's column order); ``C`` holds
    every category feature (CATEGORY_FEATURES order)."""
    cols = [encode(C[:, CATEGORY_FEATURES.index(n)], encodings[n]) for n in MODEL_CATEGORIES]
    return np.column_stack([X, *cols]) if cols else X


def category_encodings(C: np.ndarray, y: np.ndarray) -> dict[str, dict]:
    """Each model category's encoding, fitted on the training rows."""
    return {n: fit_encoding(C[:, CATEGORY_FEATURES.index(n)], y) for n in MODEL_CATEGORIES}


def grade_thresholds(prob: np.ndarray, shares: Mapping[str, float]) -> list[float]:
    """Probability cut-offs giving the policy's grade shares (A lowest risk … D highest)."""
    grades = list(shares)
    cum = np.cumsum([shares[g] for g in grades])[:-1] / sum(shares.values())
    return [float(np.quantile(prob, q)) for q in cum]


def grade_of(prob: np.ndarray, thresholds: Sequence[float], grades: Sequence[str]) -> np.ndarray:
    return np.asarray(grades, dtype=object)[np.searchsorted(np.asarray(thresholds), prob, side="right")]


def rate_by_grade(y: np.ndarray, g: np.ndarray, grades: Sequence[str]) -> dict:
    rates = {}
    for k in grades:
        m = g == k
        rates[k] = {"n": int(m.sum()), "rate": float(y[m].mean()) if m.any() else None}
    r = [rates[k]["rate"] for k in grades]
    mono = all(a is not None and b is not None and b > a for a, b in zip(r, r[1:], strict=False))
    a, d = r[0], r[-1]
    return {"by_grade": rates, "monotone": mono, "d_over_a": (d / a) if a and d is not None else None}


def segments(X: np.ndarray, C: np.ndarray, y: np.ndarray, g: np.ndarray, raw: np.ndarray,
             grades: Sequence[str]) -> dict:
    """Whom the model targets (out-of-fold rows of the chosen candidate): per business form, scale and
    region the rows, adverse rate, AUC, grade shares and adverse rate per grade."""
    from ..schema import BUSINESS_FORMS, LABELS

    col = {n: j for j, n in enumerate(NUMERIC_FEATURES)}
    groups: dict[str, dict[str, np.ndarray]] = {"business_form": {}, "scale": {}, "region": {}}
    for f in BUSINESS_FORMS:
        groups["business_form"][LABELS["business_form"][f]] = X[:, col[f"form_{f}"]] == 1
    scale_names = {0: "micro", 1: "small", 2: "medium", 3: "large"}
    for k, name in scale_names.items():
        groups["scale"][LABELS["scale"][name]] = X[:, col["scale_ord"]] == k
    groups["scale"]["未知"] = np.isnan(X[:, col["scale_ord"]])
    if "region" in CATEGORY_FEATURES:
        reg = C[:, list(CATEGORY_FEATURES).index("region")].astype(str)
        values, counts = np.unique(reg, return_counts=True)
        for v in values[np.argsort(-counts)][:20]:  # the 20 largest regions
            groups["region"][v] = reg == v
    out: dict[str, list] = {}
    for dim, members in groups.items():
        rows = []
        for value, m in members.items():
            n = int(m.sum())
            if not n:
                continue
            yy = y[m]
            rows.append({
                "value": value, "n": n, "adverse_rate": round(float(yy.mean()), 4),
                "auc": round(auc_of(yy, raw[m]), 4) if 0 < yy.sum() < n else None,
                "grade_share": {k: round(float((g[m] == k).mean()), 4) for k in grades},
                "rate_by_grade": {k: (round(float(yy[g[m] == k].mean()), 4) if (g[m] == k).any() else None)
                                  for k in grades},
            })
        out[dim] = rows
    return out


BLEND_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def choose_blend(spec, snapshot_at, oof_rows, platt, shares, threads):
    """The model's weight in the combined score (rule points and probability × 100) and the points cut-offs
    giving the policy's grade shares, chosen on the out-of-fold rows: the weight with the best mean AUC among
    those whose adverse rates rise A < B < C < D on every fold (the best AUC if none does)."""
    from ..scoring import score

    a, b = platt
    grades = list(shares)
    folds = []
    for cut, raw, yv, _x, _c, ids in oof_rows:
        rs = score(snapshot_at(cut), spec, cut, threads=threads).scores
        idx = pc.index_in(pa.array(ids, pa.int64()), rs["enterprise_id"])
        rule = rs["rule_score"].take(pc.fill_null(idx, 0)).to_numpy(zero_copy_only=False).astype(float)
        folds.append((cut, rule, 100.0 / (1.0 + np.exp(-(a * raw + b))), yv))
    rows, best = [], None
    for w in BLEND_WEIGHTS:
        comb = [(1 - w) * rule + w * model for _, rule, model, _ in folds]
        pooled = np.concatenate(comb)
        cuts = grade_thresholds(pooled, shares)
        per = []
        for (cut, _, _, yv), c in zip(folds, comb, strict=True):
            g = rate_by_grade(yv, grade_of(c, cuts, grades), grades)
            per.append({"cutoff": cut.isoformat(), "auc": round(auc_of(yv, c), 4), "monotone": g["monotone"],
                        "d_over_a": g["d_over_a"]})
        row = {"model_weight": w, "mean_auc": round(float(np.mean([p["auc"] for p in per])), 4),
               "monotone_every_fold": all(p["monotone"] for p in per), "points": cuts, "folds": per}
        rows.append(row)
        key = (row["monotone_every_fold"], row["mean_auc"])
        if best is None or key > best[0]:
            best = (key, row)
    chosen = best[1]
    return ({"rule": 1.0 - chosen["model_weight"], "model": chosen["model_weight"]}, rows,
            [round(p, 4) for p in chosen["points"]])


# ------------------------------------------------------------------------------------------------ fit
@dataclass
class ValidatedFit:
    artifact: object  # ModelArtifact
    folds: list[dict]
    chosen: dict
    timing: dict
    cache: FeatureCache | None = field(default=None, repr=False)

    def summary(self) -> dict:
        return {"chosen": self.chosen, "folds": self.folds, "timing": self.timing}


def fit_validated(
    snapshot_at: SnapshotProvider,
    as_of: date,
    *,
    target: LabelSpec | None = None,
    first_data: date | None = None,
    label_snapshot: Mapping[str, pa.Table] | None = None,
    horizons: Sequence[int] = (3, 6, 12),
    folds: int = 3,
    fold_step_months: int | None = None,
    min_history_months: int = 6,
    min_train_dates: int = 3,
    lr_C: Sequence[float] = LR_C,
    lgbm: Mapping[str, dict] | None = None,
    grade_shares: Mapping[str, float] | None = None,
    max_rows: int = 400_000,
    fold_max_rows: int = 100_000,
    seed: int = 0,
    threads: int = 2,
    spec_code: str = "",
    spec_version: str | int = "",
    shared: FeatureCache | None = None,
    spec=None,
):
    """Rolling-origin validated training on the archive up to ``as_of`` (see the module doc).

    ``first_data``: the date the archive starts (features need ``min_history_months`` of it before the first
    training date). ``target``: what the validation folds measure and the probabilities mean (default:
    the product's label, 12 months). Returns a :class:`ValidatedFit` whose artifact scores like any other.
    ``shared``: a FeatureCache of an earlier fit on the same archive and target (back-tests over several
    as-of dates): features at a date and labels whose window closed before as_of do not change.
    ``fold_max_rows`` / ``max_rows``: seeded subsamples of the training rows for each fold's candidates and
    for the final fits. The folds only rank the candidates, and 45 fits (3 folds × 3 horizons × 5
    candidates) on 400,000 rows each took ~19 of the 21 minutes of a 20,000-enterprise fit; on 100,000 rows
    the synthetic hold-out chose the same candidate (AUC 0.8098 against 0.8097); the final fits keep the
    larger sample.
    """
    from .train import ModelArtifact, distribution, fit_calibrator

    t_start = time.perf_counter()
    target = target or LabelSpec()
    lgbm = dict(LGBM_CANDIDATES if lgbm is None else lgbm)
    shares = dict(grade_shares or DEFAULT_GRADE_SHARES)
    label_snapshot = label_snapshot if label_snapshot is not None else snapshot_at(as_of)
    cache = FeatureCache(snapshot_at, label_snapshot, target, threads)
    if shared is not None:
        cache.features, cache.labels = shared.features, shared.labels
    names = NUMERIC_FEATURES + list(MODEL_CATEGORIES)
    earliest = shift_months(first_data, min_history_months) if first_data else shift_months(as_of, -60)

    def train_dates(cut: date, h: int) -> list[date]:
        out, k = [], h
        while (d := shift_months(cut, -k)) >= earliest:
            out.append(d)
            k += 1
        return sorted(out)

    # fold cut-offs: the target window (c, c + h_target] must be complete by as_of; the latest cut-off is
    # as_of − h_target, earlier ones every ``fold_step_months`` (default: the target horizon, at most 3)
    step = fold_step_months or min(target.horizon_months, 3)
    cuts = [shift_months(as_of, -(target.horizon_months + step * k)) for k in range(folds - 1, -1, -1)]
    candidates = [("lgbm", n, p) for n, p in lgbm.items()] + [("logistic", f"logistic_C{c:g}", {"C": c})
                                                             for c in lr_C]
    fold_rows: list[dict] = []
    oof: dict[tuple[int, str], list] = {}
    for cut in cuts:
        ids_v, Xv_num, Cv, yv = cache.rows(cut, target.horizon_months)
        row = {"cutoff": cut.isoformat(), "validation_rows": int(len(yv)), "events": int(yv.sum()),
               "auc": {}}
        for h in horizons:
            dates = train_dates(cut, h)
            if len(dates) < min_train_dates:
                continue
            X, C, y = _stack(cache, dates, h, fold_max_rows, seed)
            if len(np.unique(y)) < 2 or len(np.unique(yv)) < 2:
                continue
            enc = category_encodings(C, y)
            X, Xv = with_categories(X, C, enc), with_categories(Xv_num, Cv, enc)
            for kind, cname, p in candidates:
                if kind == "lgbm":
                    raw = fit_lgbm(X, y, names, p, CATALOGUE_MONOTONE, seed, threads).predict(
                        Xv, raw_score=True, num_threads=threads)
                else:
                    raw = predict_logistic(fit_logistic(X, y, names, p["C"], seed), Xv)
                key = f"h{h}_{cname}"
                row["auc"][key] = round(auc_of(yv, raw), 4)
                oof.setdefault((h, cname), []).append((cut, raw, yv, Xv_num, Cv, ids_v))
        fold_rows.append(row)
    # choose: best mean AUC over the folds where every candidate ran
    keys = {k for r in fold_rows for k in r["auc"]}
    full = [k for k in keys if all(k in r["auc"] for r in fold_rows if r["auc"])]
    if not full:
        raise ValueError("not enough history for rolling-origin validation (no candidate could be fitted on "
                         f"{folds} folds before {as_of}); give a longer archive or shorter horizons")
    mean_auc = {k: float(np.mean([r["auc"][k] for r in fold_rows if k in r["auc"]])) for k in full}
    best = max(sorted(full), key=lambda k: mean_auc[k])
    best_h = int(best.split("_", 1)[0][1:])
    best_name = best.split("_", 1)[1]
    best_kind, _, best_params = next(c for c in candidates if c[1] == best_name)
    best_lgbm = max((k for k in full if "lgbm" in k), key=lambda k: mean_auc[k], default=None)
    best_lr = max((k for k in full if "logistic" in k), key=lambda k: mean_auc[k], default=None)

    # calibration and grade thresholds from the out-of-fold scores of the chosen candidate
    oof_raw = np.concatenate([o[1] for o in oof[(best_h, best_name)]])
    oof_y = np.concatenate([o[2] for o in oof[(best_h, best_name)]])
    cal = fit_calibrator(oof_raw, oof_y, "platt")
    a, b = cal["a"], cal["b"]
    grades = list(shares)
    grade_folds = []
    oof_prob = 1.0 / (1.0 + np.exp(-(a * oof_raw + b)))
    thresholds = grade_thresholds(oof_prob, shares)
    for cut, raw, yv, _x, _c, _i in oof[(best_h, best_name)]:
        prob = 1.0 / (1.0 + np.exp(-(a * raw + b)))
        gr = rate_by_grade(yv, grade_of(prob, thresholds, grades), grades)
        grade_folds.append({"cutoff": cut.isoformat(), **gr})
    segs = segments(np.vstack([o[3] for o in oof[(best_h, best_name)]]),
                    np.vstack([o[4] for o in oof[(best_h, best_name)]]), oof_y,
                    grade_of(oof_prob, thresholds, grades), oof_raw, grades)

    blend, blend_rows, points = choose_blend(spec, snapshot_at, oof[(best_h, best_name)], (a, b), shares,
                                             threads) if spec is not None else ({"rule": 0.0, "model": 1.0}, [], None)

    # final fits on every date whose training window is complete by as_of: the winner and the challenger
    t_fit = time.perf_counter()
    dates = train_dates(as_of, best_h)
    X, C, y = _stack(cache, dates, best_h, max_rows, seed)
    encodings = category_encodings(C, y)
    X = with_categories(X, C, encodings)
    lgbm_name = best_name if best_kind == "lgbm" else (best_lgbm.split("_", 1)[1] if best_lgbm else
                                                         next(iter(lgbm)))
    lr_name = best_name if best_kind == "logistic" else (best_lr.split("_", 1)[1] if best_lr else
                                                          f"logistic_C{lr_C[0]:g}")
    booster = fit_lgbm(X, y, names, lgbm[lgbm_name], CATALOGUE_MONOTONE, seed, threads)
    lr = fit_logistic(X, y, names, float(lr_name.split("_C", 1)[1]), seed)
    fit_s = time.perf_counter() - t_fit
    raw_tr = booster.predict(X, raw_score=True, num_threads=threads) if best_kind == "lgbm" else \
        predict_logistic(lr, X)
    prob_tr = 1.0 / (1.0 + np.exp(-(a * raw_tr + b)))
    medians = {n: (float(np.nanmedian(X[:, j])) if np.isfinite(X[:, j]).any() else None)
               for j, n in enumerate(names)}
    lp = lgbm[lgbm_name]
    params = {**{k: v for k, v in lp.items()}, "objective": "binary", "seed": seed, "num_threads": threads,
              "max_bin": 63}
    chosen = {"candidate": best, "model": best_kind, "horizon_months": best_h, "params": best_params,
              "mean_auc": round(mean_auc[best], 4),
              "mean_auc_lightgbm": round(mean_auc[best_lgbm], 4) if best_lgbm else None,
              "mean_auc_logistic": round(mean_auc[best_lr], 4) if best_lr else None,
              "lightgbm_candidate": best_lgbm, "logistic_candidate": best_lr,
              "training_dates": [dates[0].isoformat(), dates[-1].isoformat(), len(dates)],
              "training_rows": int(len(y)), "training_event_rate": round(float(y.mean()), 4)}
    timing = {"features_s": round(cache.seconds["features"], 2), "labels_s": round(cache.seconds["labels"], 2),
              "final_fit_s": round(fit_s, 2), "total_s": round(time.perf_counter() - t_start, 2)}
    train_label = LabelSpec(target.kinds, best_h, target.population)
    artifact = ModelArtifact(
        model_string=booster.model_to_string(),
        calibrator=cal,
        features=names,
        feature_labels=dict(CATALOGUE_LABELS),
        monotone={n: v for n, v in CATALOGUE_MONOTONE.items()},
        params=params,
        num_trees=booster.num_trees(),
        training_window={"train": [dates[0].isoformat(), dates[-1].isoformat()],
                         "validation_cutoffs": [c.isoformat() for c in cuts], "as_of": as_of.isoformat()},
        label={**target.to_dict(), "training_horizon_months": best_h,
               "training_description": train_label.to_dict()["description"]},
        spec_code=spec_code,
        spec_version=spec_version,
        blend=blend,
        metrics={"validation": {"folds": fold_rows, "mean_auc": {k: round(v, 4) for k, v in mean_auc.items()},
                                "chosen": chosen, "grades_by_fold": grade_folds, "segments": segs},
                 "rows": {"train": int(len(y))}},
        psi_baseline={"score": distribution(prob_tr * 100.0),
                      "features": {n: distribution(X[:, j]) for j, n in enumerate(names)},
                      "sample": "training"},
        feature_medians=medians,
        challenger=None,
        feature_source="catalogue",
        winner="logistic" if best_kind == "logistic" else "lightgbm",
        logistic=lr,
        grade_thresholds={"grades": grades, "probability": thresholds, "shares": shares, "points": points,
                          "blend_folds": blend_rows},
        encodings=encodings,
    )
    artifact.timing = timing
    return ValidatedFit(artifact, fold_rows, chosen, timing, cache)


def mean_or_none(values) -> float | None:
    v = [x for x in values if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return float(np.mean(v)) if v else None
