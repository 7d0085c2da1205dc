"""Validity benchmark on two worlds, side by side (issue 17).

    .venv/bin/python benchmarks/bench_validity.py                 # both worlds
    .venv/bin/python benchmarks/bench_validity.py --world chicago --method before

Protocol (Chicago's own, Schenk et al. 2014): for each D = 2013-07-01, 2013-09-01, …, 2014-05-01, train only
on data before D, rank the inspections done in [D, D + 2 months) by each enterprise's risk as of D, and
report the AUC for "a critical violation was found", the share of the critical-found inspections that lie
in the first half of the ranked list against the first half in the order the inspections were actually
done ("date order"), and the lift of the first half / first decile. Ties in risk keep date order.

The synthetic city runs the same protocol on its own inspections (critical = key items failed), windows
at the same offsets from its last year, plus the enterprise-level hold-out of bench_model.py.

Methods: ``before`` = today's product as shipped before issue 17 (the food_2016 rule score, and the
default model training — 24 monthly dates, 12-month horizon, embargo — blended 0.6/0.4 when it trains);
``after`` = the issue-17 model (`foodrisk.engine.model.fit_validated`). Results: benchmarks/results/validity.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parent))

from validity_worlds import ChicagoDirect, ChicagoIngested, chicago_available  # noqa: E402

from foodrisk.engine import load_profile, score  # noqa: E402
from foodrisk.engine.compiler import shift_months  # noqa: E402
from foodrisk.engine.metrics import auc  # noqa: E402
from foodrisk.engine.model import (  # noqa: E402
    TRAINING_TARGETS,
    artifact_features,
    build_dataset,
    feature_table,
    fit_validated,
    model_scores,
    month_dates,
    time_split,
    train_model,
)
from foodrisk.engine.model.validate import grade_of, rate_by_grade  # noqa: E402

HERE = Path(__file__).resolve().parent
CHICAGO_WINDOWS = [date(2013, 7, 1), date(2013, 9, 1), date(2013, 11, 1), date(2014, 1, 1), date(2014, 3, 1),
                   date(2014, 5, 1)]
TARGETS = {"chicago_first_half_mean": 0.63, "chicago_auc_mean": 0.60, "d_over_a_synthetic": 4.0,
           "d_over_a_chicago": 2.0}


def log(msg: str) -> None:
    print(msg, flush=True)


# ------------------------------------------------------------------------------------------------ metrics
def window_metrics(window: pa.Table, risk: pa.Table, thresholds: dict | None = None) -> dict:
    """Rank the window's inspections by the enterprise's risk as of D (ties keep date order)."""
    idx = pc.index_in(window["enterprise_id"], risk["enterprise_id"])
    r = risk["risk"].take(pc.fill_null(idx, 0)).to_numpy(zero_copy_only=False).astype(float)
    r[~idx.is_valid().to_numpy(zero_copy_only=False)] = np.nan
    lowest = np.nanmin(r) if np.isfinite(r).any() else 0.0
    r = np.where(np.isnan(r), lowest - 1.0, r)  # not scored (e.g. not yet established) → last
    y = window["critical"].to_numpy(zero_copy_only=False).astype(int)
    day = window["inspected_on"].cast(pa.int32()).to_numpy(zero_copy_only=False)
    by_date = np.lexsort((np.arange(len(day)), day))
    ranked = by_date[np.argsort(-r[by_date], kind="stable")]
    n, events = len(y), max(1, int(y.sum()))
    half, tenth = n // 2, max(1, n // 10)
    first_half = y[ranked[:half]].sum() / events
    date_half = y[by_date[:half]].sum() / events
    rate = y.mean()
    return {
        "inspections": n, "critical_rate": round(float(rate), 4),
        "auc": round(auc(y, r), 4) if 0 < y.sum() < n else None,
        "first_half": round(float(first_half), 4), "date_order_first_half": round(float(date_half), 4),
        "beats_date_order": bool(first_half > date_half),
        "lift_first_half": round(float(y[ranked[:half]].mean() / rate), 3),
        "lift_top_decile": round(float(y[ranked[:tenth]].mean() / rate), 3),
        "distinct_risk_values": int(len(np.unique(r))),
        **({"grades": rate_by_grade(y, grade_of(r, thresholds["probability"], thresholds["grades"]),
                                    thresholds["grades"])} if thresholds else {}),
    }


def d_over_a_interval(by_grade: dict, reps: int = 20_000, seed: int = 0) -> list[float] | None:
    """95 % interval of D/A (parametric bootstrap: D's and A's adverse counts redrawn as binomials of their own
    size and rate). A window has ~1,300 inspections, D ~5 % of them: one window's D/A is a rough figure."""
    a, d = by_grade.get("A") or {}, by_grade.get("D") or {}
    if not a.get("n") or not d.get("n") or not a.get("rate"):
        return None
    rng = np.random.default_rng(seed)
    ra = rng.binomial(a["n"], a["rate"], reps) / a["n"]
    rd = rng.binomial(d["n"], d["rate"], reps) / d["n"]
    ok = ra > 0
    lo, hi = np.percentile(rd[ok] / ra[ok], [2.5, 97.5])
    return [round(float(lo), 2), round(float(hi), 2)]


def pooled_grades(rows: list[dict]) -> dict | None:
    """Every window's inspections together, each graded by its own window's cut-offs: the adverse rate per
    grade, whether it rises A < B < C < D, and D/A with its interval."""
    graded = [r["grades"] for r in rows if r.get("grades")]
    if not graded:
        return None
    grades = list(graded[0]["by_grade"])
    y, g = [], []  # the pooled outcomes, rebuilt from each window's counts, through the same rate_by_grade
    for w in graded:
        for k, v in w["by_grade"].items():
            events = round(v["n"] * (v["rate"] or 0))
            y += [1] * events + [0] * (v["n"] - events)
            g += [k] * v["n"]
    pooled = rate_by_grade(np.array(y), np.array(g), grades)
    return {"by_grade": {k: {"n": v["n"], "rate": round(v["rate"], 4) if v["rate"] is not None else None}
                         for k, v in pooled["by_grade"].items()},
            "monotone": pooled["monotone"],
            "d_over_a": round(pooled["d_over_a"], 2) if pooled["d_over_a"] else None,
            "d_over_a_95": d_over_a_interval(pooled["by_grade"]),
            "d_over_a_by_window": [round(w["d_over_a"], 2) if w["d_over_a"] else None for w in graded],
            "d_over_a_95_by_window": [d_over_a_interval(w["by_grade"]) for w in graded],
            "monotone_windows": sum(bool(w["monotone"]) for w in graded)}


def summarise(rows: list[dict]) -> dict:
    def mean(k):
        v = [r[k] for r in rows if r.get(k) is not None]
        return round(float(np.mean(v)), 4) if v else None

    return {"windows": len(rows), "auc_mean": mean("auc"), "first_half_mean": mean("first_half"),
            "date_order_first_half_mean": mean("date_order_first_half"),
            "beats_date_order_all": all(r["beats_date_order"] for r in rows),
            "lift_first_half_mean": mean("lift_first_half"), "lift_top_decile_mean": mean("lift_top_decile"),
            **({"grades_pooled": pooled} if (pooled := pooled_grades(rows)) else {})}


def folds_monotone(details: list[dict]) -> dict:
    """Per window, on how many of the chosen model's validation folds the grades rose A < B < C < D."""
    per = [r["validation_folds_monotone"] for r in details if "validation_folds_monotone" in r]
    return {"validation_folds_monotone": {"by_window": [f"{sum(f)}/{len(f)}" for f in per],
                                          "every_fold": all(all(f) for f in per)}} if per else {}


# ------------------------------------------------------------------------------------------------ rankers
def risk_table(ids, values) -> pa.Table:
    return pa.table({"enterprise_id": pa.array(ids, pa.int64()), "risk": pa.array(values, pa.float64())})


def before_rankers(snapshot_at, spec, d: date, first_data: date) -> tuple[dict[str, pa.Table], dict]:
    """Today's product at D: rules alone; the default model training (as train_candidate: 24 monthly
    dates ending 12 months before D, labels up to D, time split with embargo) blended with the rules."""
    snap = snapshot_at(d)
    rules = score(snap, spec, d).scores
    out = {"rules": risk_table(rules["enterprise_id"], rules["total_score"])}
    info: dict = {}
    last = shift_months(d, -12)
    dates = [x for x in month_dates(shift_months(last, -23), last)]
    info["train_dates_with_data"] = sum(1 for x in dates if x >= first_data)
    try:
        ds = build_dataset(snapshot_at, spec, dates, label_snapshot=snap, labels_until=d)
        art = train_model(ds, spec, split=time_split(ds.as_of_dates, 12), params={"num_threads": 1})
        ms = model_scores(art, feature_table(snap, spec, d))
        comb = score(snap, replace(spec, blend=art.blend), d, model_scores=ms).scores
        out["model"] = risk_table(ms["enterprise_id"], ms["model_score"])
        out["combined"] = risk_table(comb["enterprise_id"], comb["total_score"])
    except ValueError as exc:
        info["model_error"] = str(exc)
        out["combined"] = out["rules"]
    return out, info


# what an inspector choosing whom to visit in the next two months needs: at each inspection in the horizon,
# was a key item (critical violation) found — the product's "inspection" training target, its horizons
WINDOW_TARGET, WINDOW_HORIZONS = TRAINING_TARGETS["inspection"]


_SHARED: dict = {}  # one feature cache per world across the windows (features at a date never change)


def after_rankers(snapshot_at, spec, d: date, first_data: date) -> tuple[dict[str, pa.Table], dict]:
    """The model alone (calibrated probability, grades by its probability cut-offs) and what the product
    publishes: the combined score — rule points and the model blended with the weight and points cut-offs
    chosen on the folds (validate.choose_blend)."""
    snap = snapshot_at(d)
    fit = fit_validated(snapshot_at, d, target=WINDOW_TARGET, horizons=WINDOW_HORIZONS, first_data=first_data,
                        threads=1, shared=_SHARED.get(snapshot_at), spec=spec)
    _SHARED[snapshot_at] = fit.cache
    art = fit.artifact
    ms = model_scores(art, artifact_features(art, snap, spec, d))
    rules = score(snap, spec, d).scores
    th = art.grade_thresholds
    comb_spec = replace(spec, blend=art.blend, cutoffs=dict(zip(spec.grades[:-1], th["points"], strict=True)))
    comb = score(snap, comb_spec, d, model_scores=ms).scores
    out = {"rules": risk_table(rules["enterprise_id"], rules["total_score"]),
           "model": risk_table(ms["enterprise_id"], ms["probability"]),
           "combined": risk_table(comb["enterprise_id"], comb["total_score"])}
    cuts = {"model": th, "combined": {"grades": th["grades"], "probability": th["points"]}}
    # the "grades monotone on every fold": the chosen model's validation folds, graded by its cut-offs
    folds = art.metrics["validation"]["grades_by_fold"]
    return out, {**fit.summary(), "blend": art.blend, "grade_thresholds": cuts,
                 "validation_folds_monotone": [bool(f["monotone"]) for f in folds]}


# ------------------------------------------------------------------------------------------------ worlds
def run_chicago(method: str, windows: list[date] | None = None, path: str = "ingest") -> dict:
    world = ChicagoIngested() if path == "ingest" else ChicagoDirect()
    spec = load_profile("food_2016")
    rankers = before_rankers if method == "before" else after_rankers
    per: dict[str, list] = {}
    details = []
    for d in windows or CHICAGO_WINDOWS:
        t0 = time.perf_counter()
        ranks, info = rankers(world.snapshot_at, spec, d, world.first_date)
        win = world.window(d, shift_months(d, 2))
        row = {"D": d.isoformat(), "seconds": round(time.perf_counter() - t0, 1), **info}
        for name, r in ranks.items():
            m = window_metrics(win, r, (info.get("grade_thresholds") or {}).get(name))
            per.setdefault(name, []).append(m)
            row[name] = m
        details.append(row)
        log(json.dumps(row, ensure_ascii=False))
    where = ("ingest path: REST API, built-in profiles (benchmarks/chicago_import.py), snapshots from the archive; "
             f"import {world.import_seconds} s") if path == "ingest" else "direct loader (benchmarks/validity_worlds.py)"
    return {"path": where, "method": method,
            "summary": {k: summarise(v) for k, v in per.items()}, **folds_monotone(details), "windows": details}


def synthetic_world(n: int, seed: int):
    from foodrisk.synth import generate_world

    return generate_world(n, years=5, seed=seed, as_of=date(2026, 6, 30))


def run_synthetic(method: str, n: int, seed: int) -> dict:
    """The same window protocol on the synthetic city: six two-month windows in its last year."""
    w = synthetic_world(n, seed)
    spec = load_profile("food_2016")
    rankers = before_rankers if method == "before" else after_rankers
    full = w.to_snapshot()
    ins = full["inspections"]
    per: dict[str, list] = {}
    details = []
    for k in range(6):
        d = shift_months(w.as_of, -12 + 2 * k)
        t0 = time.perf_counter()
        ranks, info = rankers(w.to_snapshot, spec, d, w.start)
        a, b = pa.scalar(d, pa.date32()), pa.scalar(shift_months(d, 2), pa.date32())
        m = pc.and_(pc.greater(ins["inspected_on"], a), pc.less_equal(ins["inspected_on"], b))
        win = ins.filter(m)
        win = pa.table({"enterprise_id": win["enterprise_id"], "inspected_on": win["inspected_on"],
                        "critical": pc.greater(pc.fill_null(win["key_items_failed"], 0), 0)})
        row = {"D": d.isoformat(), "seconds": round(time.perf_counter() - t0, 1), **info}
        for name, r in ranks.items():
            mm = window_metrics(win, r, (info.get("grade_thresholds") or {}).get(name))
            per.setdefault(name, []).append(mm)
            row[name] = mm
        details.append(row)
        log(json.dumps(row, ensure_ascii=False))
    return {"enterprises": n, "method": method, "summary": {k: summarise(v) for k, v in per.items()},
            **folds_monotone(details), "windows": details}


def run_synthetic_holdout(n: int, seed: int) -> dict:
    """bench_model.py's enterprise-level hold-out (12-month label, as of 2025-06-30) with the issue-17
    training: the same figures (AUC, top-decile lift, adverse rate by grade, D/A) to compare with before."""
    from foodrisk.engine.model import evaluate, outcomes

    w = synthetic_world(n, seed)
    spec = load_profile("food_2016")
    hold = date(2025, 6, 30)
    t0 = time.perf_counter()
    fit = fit_validated(w.to_snapshot, hold, first_data=w.start, spec=spec, threads=1,
                        label_snapshot=w.to_snapshot(hold))
    t1 = time.perf_counter()
    art = fit.artifact
    snap = w.to_snapshot(hold)
    card = evaluate(art, spec, snap, hold, outcomes(w.to_snapshot(), hold, 12), threads=1,
                    features=artifact_features(art, snap, spec, hold), cutoffs=art.grade_thresholds["points"])
    m, g = card["metrics"], card["rate_by_grade"]["combined"]
    return {
        "enterprises": n, "holdout": hold.isoformat(), "chosen": fit.chosen, "blend": art.blend,
        "auc": {k: round(v["auc"], 4) for k, v in m.items()},
        "top_decile_lift": {k: round(v["top_decile_lift"], 3) for k, v in m.items()},
        "rate_by_grade_combined": {r["grade"]: [r["n"], round(r["rate"] or 0, 4)] for r in g["by_grade"]},
        "d_over_a_combined": round(g["d_over_a"], 2) if g["d_over_a"] else None,
        "monotone_combined": g["strictly_increasing"],
        "grades_by_fold": art.metrics["validation"]["grades_by_fold"],
        "blend_folds": [{k: r[k] for k in ("model_weight", "mean_auc", "monotone_every_fold")}
                        for r in art.grade_thresholds["blend_folds"]],
        "timing_s": {"fit_validated": round(t1 - t0, 1), **fit.timing},
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--world", choices=["both", "chicago", "synthetic"], default="both")
    ap.add_argument("--method", choices=["before", "after"], default="after")
    # the city size: on 5,000 a validation fold holds ~1,450 inspections, D ~70 of them — too few to read whether
    # grades rise on every fold (12 of 18 folds at 5,000; 18 of 18 at 20,000)
    ap.add_argument("--synthetic-n", type=int, default=20_000)
    ap.add_argument("--holdout-n", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out", default=str(HERE / "results" / "validity.json"))
    ap.add_argument("--windows", default="", help="Chicago windows to run, e.g. 2014-05-01 (default: all six)")
    ap.add_argument("--chicago-path", choices=["ingest", "direct"], default="ingest",
                    help="Chicago through the product's ingest path (default) or the direct loader")
    args = ap.parse_args(argv)
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    out: dict = {"method": args.method, "targets": TARGETS, "uptime_start": uptime,
                 "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "cpus": os.cpu_count()}
    if args.world in ("both", "synthetic") and args.method == "after" and args.holdout_n:  # 0: windows only
        log(f"(a0) synthetic city hold-out (as bench_model.py (a)), {args.holdout_n:,} enterprises …")
        out["synthetic_holdout"] = run_synthetic_holdout(args.holdout_n, args.seed)
        log(json.dumps(out["synthetic_holdout"], ensure_ascii=False))
    if args.world in ("both", "synthetic"):
        log(f"(a) synthetic city, {args.synthetic_n:,} enterprises, method {args.method} …")
        out["synthetic"] = run_synthetic(args.method, args.synthetic_n, args.seed)
    if args.world in ("both", "chicago"):
        if chicago_available():
            log(f"(b) Chicago, method {args.method} …")
            windows = [date.fromisoformat(x) for x in args.windows.split(",") if x] or None
            out["chicago"] = run_chicago(args.method, windows, args.chicago_path)
        else:
            log("(b) Chicago: ../shared/data/chicago not present — skipped")
            out["chicago"] = {"skipped": "data not present"}
    out["uptime_end"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    out["summary"] = {w: out[w].get("summary") for w in ("synthetic", "chicago") if w in out}
    if "synthetic_holdout" in out:
        h = out["synthetic_holdout"]
        out["summary"]["synthetic_holdout"] = {k: h[k] for k in ("auc", "top_decile_lift", "d_over_a_combined",
                                                                 "monotone_combined", "blend")}
    Path(args.out).parent.mkdir(exist_ok=True)
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    log(json.dumps(out["summary"], ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
