"""Scoring writes: runs (full, incremental, event-triggered), atomic publishing, impact previews and
manual grade adjustments. Views, API, jobs, commands and event handlers all call these functions.

Publishing is one transaction: Score rows, GradeChange rows and Enterprise.current_grade/score/graded_at
(one UPDATE … FROM scoring_score, same SQL on SQLite ≥ 3.33 and PostgreSQL). Readers see the old grades
until commit; if anything fails the run is marked failed and nothing is published. A run row left
`running` (a killed worker) has published nothing.

Publishing cost is kept proportional to what changes: Score rows carry compact details (values and
points as arrays in indicator order, the codes stored once in the run's summary), and only enterprises
whose published grade or score changes are updated, so graded_at is when the published grade/score was
set. An enterprise that a run published after this run started (an event run with fresher data) keeps
that grade: the guard looks for its Score in such a run, not at graded_at.

Every run's outcome is one audit entry: scoring.run.publish (with how many enterprises a newer run had
already published), scoring.run.preview, or scoring.run.fail (written after the rollback; also for a run
marked stale).
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections import Counter
from datetime import date, timedelta

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodrisk import engine
from foodrisk.core.querysets import region_prefix
from foodrisk.core.services import audit, notifications
from foodrisk.core.workflow import InvalidTransition, Transition, Workflow, unique_or
from foodrisk.enterprises.models import Enterprise
from foodrisk.indicators.services import active_sets

from . import events, model_services
from .choices import GRADES, AdjustmentStatus, RunKind, RunStatus
from .models import GradeAdjustment, GradeChange, Score, ScoringRun
from .snapshot import MAX_IN_LIST, build_snapshot

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(hours=6)
STALE_ERROR = "worker stopped before the run finished (marked stale)"
ABANDONED_ERROR = "the worker running this run stopped responding (heartbeat lost); nothing was published"
ENGINE_THREADS = 2
PUBLISH_SLICE = 50_000  # score rows turned into Python rows and written per step


class NoActiveIndicatorSet(ValidationError):
    pass


def _now_ms(t0):
    return round(time.perf_counter() - t0, 4)


# --------------------------------------------------------------------------------------------------
# engine calls
# --------------------------------------------------------------------------------------------------
def score_snapshot(snapshot, sets, as_of, model=None):
    """Score each enterprise with the most specific active set of its region.

    sets: IndicatorSet rows, most specific first (a null scope = everywhere). model: the champion's
    ChampionInputs (model scores blended in; policy rules still apply after the blend) or None
    (rule-only). Returns [(set, ScoreResult)]; details are compact (see Score.indicator_details).
    """
    ents = snapshot["enterprises"]
    if len(sets) == 1 and sets[0].scope_region_id is None:
        return [(sets[0], _score_with(snapshot, sets[0], as_of, model))]
    taken = pa.array([False] * ents.num_rows, pa.bool_())
    parts = []
    for iset in sets:
        prefix = region_prefix(iset.scope_region_id or "")
        mask = pc.starts_with(ents["region_code"], pattern=prefix) if prefix else pa.array(
            [True] * ents.num_rows, pa.bool_())
        mask = pc.and_(pc.fill_null(mask, False), pc.invert(taken))
        taken = pc.or_(taken, mask)
        sub = dict(snapshot, enterprises=ents.filter(mask))
        if sub["enterprises"].num_rows:
            parts.append((iset, _score_with(sub, iset, as_of, model)))
    return parts


def _score_with(snapshot, iset, as_of, model):
    """engine.score with one set, the champion's scores blended in when there is one (compact details)."""
    if model is None:
        return engine.score(snapshot, iset.spec, as_of, threads=ENGINE_THREADS, compact_details=True)
    return engine.score(snapshot, model.spec_for(iset.spec), as_of, model_scores=model.scores,
                        threads=ENGINE_THREADS, compact_details=True)


def _model_reasons(model, parts, enterprise_ids):
    """{enterprise_id: JSON text of its model reasons} for enterprises whose score moved or whose grade
    is not A."""
    if model is None or not parts:
        return {}
    previous = model_services.published_scores(enterprise_ids)
    out = {}
    for _iset, result in parts:
        out.update(model.reasons(result.scores, previous))
    return out


def _ids_rows(qs, fields):
    from .snapshot import _rows

    return _rows(qs, fields)


def _current_grades(enterprise_ids):
    qs = Enterprise.objects.order_by()
    if enterprise_ids is not None and len(enterprise_ids) <= MAX_IN_LIST:
        qs = qs.filter(pk__in=list(enterprise_ids))
    ids, grades = _ids_rows(qs, ["id", "current_grade"])
    return dict(zip(ids, grades, strict=True))


def _active_adjustments(as_of):
    rows = (GradeAdjustment.objects.filter(status=AdjustmentStatus.APPROVED)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=as_of))
            .order_by("decided_at").values_list("enterprise_id", "id", "proposed_grade"))
    return {e: (pk, g) for e, pk, g in rows}


# --------------------------------------------------------------------------------------------------
# runs
# --------------------------------------------------------------------------------------------------
def last_successful_run():
    return (ScoringRun.objects.filter(status=RunStatus.SUCCEEDED, kind__in=[RunKind.FULL, RunKind.INCREMENTAL])
            .order_by("-started_at").first())


def changed_enterprise_ids():
    """Enterprises whose data changed since the last successful full/incremental run started
    (plus never-graded ones); None when there was no such run (= everyone)."""
    last = last_successful_run()
    if last is None:
        return None
    return set(Enterprise.objects.filter(Q(data_change__changed_at__gt=last.started_at) | Q(graded_at__isnull=True))
               .values_list("id", flat=True))


def _run_details(run, **extra):
    return {"run": run.pk, "kind": run.kind, "as_of": run.as_of, **extra}


def _mark_failed(run, message, *, error=None, user=None, **fields):
    """The run becomes failed with one audit entry, in their own transaction (the caller's work is rolled back
    already). False when another process marked it first (no second entry)."""
    with transaction.atomic():
        marked = ScoringRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, error=(error or message)[-20000:], finished_at=timezone.now(), **fields)
        if marked:
            audit.record("scoring.run.fail", run, user=user, details=_run_details(run, error=message[:2000]))
    run.status = RunStatus.FAILED
    return bool(marked)


def mark_abandoned(run):
    """The run of a job whose worker died (core's recovery found its heartbeat stale) becomes failed."""
    return _mark_failed(run, ABANDONED_ERROR)


def fail_stale_runs(older_than=STALE_AFTER):
    """Runs left `running` by a killed worker are marked failed (they never published anything)."""
    cutoff = timezone.now() - older_than
    stale = ScoringRun.objects.filter(status=RunStatus.RUNNING, started_at__lt=cutoff).only("pk", "kind", "as_of")
    return sum(_mark_failed(run, STALE_ERROR) for run in stale)


def run_scoring(kind, as_of=None, user=None, enterprise_ids=None, *, job=None, progress=None, engine=None):
    """Build the snapshot, score, publish atomically. Returns the ScoringRun (succeeded), or raises
    after marking it failed. `progress(done, total, message)` is the job's progress callback.

    ``engine``: "duckdb" (this process), "spark" (scoring.spark: the same indicator sets and model on a
    Spark master) or None = by size (settings.SPARK_THRESHOLD). Either way the run publishes here, the same
    way (audit entry, stale-run guard, grade changes, events)."""
    as_of = as_of or timezone.localdate()
    if isinstance(as_of, str):
        as_of = date.fromisoformat(as_of)
    sets = active_sets()
    if not sets:
        raise NoActiveIndicatorSet(_("No active indicator set: activate one in the indicator library first."))
    if kind == RunKind.INCREMENTAL and enterprise_ids is None:
        enterprise_ids = changed_enterprise_ids()
    if kind == RunKind.FULL:
        enterprise_ids = None
        fail_stale_runs()
    primary = next((s for s in sets if s.scope_region_id is None), sets[-1])
    expire_adjustments(as_of)
    champ = model_services.champion()
    summary = {"indicator_sets": {s.pk: f"{s.code} v{s.version}" for s in sets}}
    if champ is not None:
        summary["model"] = {"version": champ.version, "id": champ.pk,
                            "trained_for": f"{champ.indicator_set.code} v{champ.indicator_set.version}"}
    run = ScoringRun.objects.create(kind=kind, as_of=as_of, indicator_set=primary, started_by=user, job=job,
                                    model_version=champ.version if champ else None, summary=summary)
    progress = progress or (lambda *a, **k: None)
    timing, model_reasons = {}, None
    try:
        t0 = time.perf_counter()
        if enterprise_ids is not None and not enterprise_ids:
            parts = []
        else:
            progress(0.1, 1, "snapshot")
            snapshot = build_snapshot(as_of, enterprise_ids)
            timing["snapshot_s"] = _now_ms(t0)
            timing["snapshot_rows"] = {k: t.num_rows for k, t in snapshot.items()}
            engine_name = choose_engine(kind, engine, snapshot["enterprises"].num_rows)
            run.summary = {**run.summary, "engine": engine_name}
            if engine_name == "spark":
                from . import spark

                parts, artifact, n_model, model_reasons = spark.score(run, snapshot, sets, as_of, champ,
                                                                      enterprise_ids, timing, progress)
            else:
                parts, artifact, n_model, model_reasons = _score_here(snapshot, sets, as_of, champ, enterprise_ids,
                                                                      timing, progress)
            if artifact is not None:
                blends = {s.pk: model_services.blend_for(s.spec, artifact) for s in sets}
                run.summary = {**run.summary, "model": {
                    **run.summary["model"], "scored": n_model, "explained": len(model_reasons),
                    "blend": {str(pk): {"weights": bl, "source": src} for pk, (bl, src) in blends.items()},
                    "same_indicator_set": champ.indicator_set_id == primary.pk}}
            del snapshot  # publishing needs only the scores (1M: ~1.5 GB of Arrow freed)
        t2 = time.perf_counter()
        progress(0.6, 1, "publish")
        with transaction.atomic():
            changes = _publish(run, parts, as_of, enterprise_ids, timing, model_reasons=model_reasons)
            if changes:
                events.run_changed_grades(run)
            t4 = time.perf_counter()
        timing["commit_s"] = _now_ms(t4)  # includes the deferred foreign-key checks of the Score rows
        timing["publish_s"] = _now_ms(t2)
        timing["total_s"] = _now_ms(t0)
        ScoringRun.objects.filter(pk=run.pk).update(timing=timing)
        run.timing = timing
    except Exception as exc:
        _fail(run, exc, user=user, timing=timing)
        raise
    return run


def choose_engine(kind, engine, n_enterprises):
    """"duckdb" or "spark": as asked, else Spark for a full run over more than settings.SPARK_THRESHOLD
    enterprises (0 = never by size)."""
    if engine not in (None, "auto", "duckdb", "spark"):
        raise ValueError(f"unknown scoring engine {engine!r}")
    if engine in ("duckdb", "spark"):
        return engine
    threshold = settings.SPARK_THRESHOLD
    return "spark" if kind == RunKind.FULL and threshold and n_enterprises > threshold else "duckdb"


def _score_here(snapshot, sets, as_of, champ, enterprise_ids, timing, progress):
    """DuckDB in this process: (parts, artifact or None, model-scored count, model reasons)."""
    t1 = time.perf_counter()
    model = None
    if champ is not None:
        progress(0.2, 1, "model")
        model = model_services.champion_inputs(snapshot, as_of, champ)
        timing.update(model.timing)
        t1 = time.perf_counter()
    progress(0.3, 1, "engine")
    parts = score_snapshot(snapshot, sets, as_of, model)
    timing["engine_s"] = _now_ms(t1)
    if model is None:
        return parts, None, 0, None
    t3 = time.perf_counter()
    progress(0.5, 1, "explain")
    model_reasons = _model_reasons(model, parts, enterprise_ids)
    timing["explain_s"] = _now_ms(t3)
    timing["explained"] = len(model_reasons)
    return parts, model.artifact, model.scores.num_rows, model_reasons


def _fail(run, exc, *, user, **fields):
    try:
        _mark_failed(run, f"{type(exc).__name__}: {exc}", error=f"{exc}\n\n{traceback.format_exc()}", user=user,
                     **fields)
    except Exception:  # e.g. the database is gone: keep the original error; fail_stale_runs marks it later
        logger.exception("could not mark scoring run %s failed", run.pk)


SCORE_COLUMNS = ["run_id", "enterprise_id", "as_of", "indicator_set_id", "indicator_set_version", "model_version",
                 "rule_score", "model_score", "total_score", "base_grade", "engine_grade", "grade",
                 "previous_grade", "new_enterprise", "adjusted", "adjustment_id", "subtotals", "rule_hits",
                 "reasons", "details", "model_reasons"]
JSON_COLUMNS = {"subtotals", "rule_hits", "reasons", "details", "model_reasons"}
CHANGE_COLUMNS = ["enterprise_id", "run_id", "adjustment_id", "old_grade", "new_grade", "score", "at", "reasons"]


def _placeholders(columns):
    json_cast = "::jsonb" if connection.vendor == "postgresql" else ""
    return ", ".join(f"%s{json_cast}" if c in JSON_COLUMNS else "%s" for c in columns)


def _insert(table, columns, rows, batch=5000):
    """Bulk insert: COPY on PostgreSQL (psycopg 3), executemany elsewhere (same transaction either way)."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        return
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({_placeholders(columns)})"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            cursor.executemany(sql, rows[start:start + batch])


def _publish(run, parts, as_of, enterprise_ids, timing, *, model_reasons=None):
    """Inside the caller's transaction: Score rows, GradeChange rows, Enterprise grades, run status.
    model_reasons: {enterprise_id: JSON text} from _model_reasons (none without a champion)."""
    t0 = time.perf_counter()
    now = timezone.now()
    ops = connection.ops
    as_of_db, now_db = ops.adapt_datefield_value(as_of), ops.adapt_datetimefield_value(now)
    current = _current_grades(enterprise_ids)
    adjustments = _active_adjustments(as_of)
    superseded = superseded_ids(run)
    timing["read_state_s"] = _now_ms(t0)
    changes = []
    n_scores = n_changes = 0
    dist, adjusted = Counter(), 0
    prepare_s = write_s = 0.0
    model_reasons = model_reasons or {}
    for iset, result in parts:
        # slices of the Arrow result: Python rows exist for one slice at a time (1M scores: bounded memory)
        for batch in result.scores.to_batches(max_chunksize=PUBLISH_SLICE):
            t1 = time.perf_counter()
            cols = batch.to_pydict()
            score_rows, change_rows = [], []
            for i, eid in enumerate(cols["enterprise_id"]):
                if eid in superseded:
                    continue
                engine_grade = cols["grade"][i]
                adj = adjustments.get(eid)
                grade, adj_id = (adj[1], adj[0]) if adj else (engine_grade, None)
                adjusted += adj is not None
                prev = current.get(eid) or ""
                dist[grade] += 1
                total = cols["total_score"][i]
                score_rows.append((
                    run.pk, eid, as_of_db, iset.pk, iset.version, run.model_version, cols["rule_score"][i],
                    cols["model_score"][i], total, cols["base_grade"][i], engine_grade, grade, prev,
                    bool(cols["new_enterprise"][i]), adj is not None, adj_id, cols["subtotals"][i],
                    cols["rule_hits"][i], cols["reasons"][i], cols["details"][i],
                    model_reasons.get(eid, "[]")))
                if grade != prev:
                    change_rows.append((eid, run.pk, adj_id, prev, grade, total, now_db, cols["reasons"][i]))
                    changes.append({"enterprise_id": eid, "old_grade": prev, "new_grade": grade, "score": total})
            del cols
            t2 = time.perf_counter()
            _insert(Score._meta.db_table, SCORE_COLUMNS, score_rows)
            _insert(GradeChange._meta.db_table, CHANGE_COLUMNS, change_rows)
            n_scores, n_changes = n_scores + len(score_rows), n_changes + len(change_rows)
            prepare_s, write_s = prepare_s + (t2 - t1), write_s + (time.perf_counter() - t2)
    timing["prepare_s"] = round(prepare_s, 4)
    timing["write_scores_s"] = round(write_s, 4)
    t2 = time.perf_counter()
    timing["enterprises_updated"] = publish_grades(run, now_db)
    timing["update_enterprises_s"] = _now_ms(t2)
    run.status, run.finished_at, run.published_at = RunStatus.SUCCEEDED, timezone.now(), now
    run.enterprise_count, run.changed_count, run.adjusted_count = n_scores, n_changes, adjusted
    run.grade_distribution = {g: dist.get(g, 0) for g in GRADES}
    n_superseded = len(superseded & set(current))
    if parts:
        run.timing = timing
        run.summary = {**run.summary, "engine_timing": [r.timing for _s, r in parts],
                       "indicator_codes": {str(s.pk): r.indicator_codes for s, r in parts},
                       "warnings": sorted({w for _s, r in parts for w in r.warnings}),
                       "superseded": n_superseded}
    run.save()
    audit.record("scoring.run.publish", run, user=run.started_by,
                 details=_run_details(run, enterprises=run.enterprise_count, changed=run.changed_count,
                                      adjusted=adjusted, distribution=run.grade_distribution,
                                      superseded=n_superseded))
    return changes


def superseded_ids(run):
    """Enterprises that a run published after `run` started (fresher data, e.g. an event run): they keep
    that grade. Read from the Scores of those runs (few rows: scoring_score_run_ent), not from
    Enterprise.graded_at, which only moves when the published grade or score changes."""
    return set(Score.objects.order_by().filter(run__status=RunStatus.SUCCEEDED, run__published_at__gt=run.started_at)
               .exclude(run_id=run.pk).values_list("enterprise_id", flat=True).distinct())


def publish_grades(run, now_db):
    """Copy the run's grades onto the enterprises whose published grade or score it changes (one
    statement; an unchanged enterprise row is not rewritten). Returns the number of rows updated."""
    ent, score = Enterprise._meta.db_table, Score._meta.db_table
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"  # null-safe on both
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ent} AS e SET current_grade = s.grade, current_score = s.total_score, graded_at = %s "
            f"FROM {score} AS s WHERE s.run_id = %s AND s.enterprise_id = e.id "
            f"AND (e.current_grade {differs} s.grade OR e.current_score {differs} s.total_score)", [now_db, run.pk])
        return cursor.rowcount


# --------------------------------------------------------------------------------------------------
# impact preview (for a draft or any version): score without publishing
# --------------------------------------------------------------------------------------------------
MOVERS_KEPT = 5000  # movers a preview stores (largest moves first); its counts and matrices cover everyone


def _add(matrix, old, new):
    row = matrix.setdefault(old, {})
    row[new] = row.get(new, 0) + 1


def impact(parts, snapshot, enterprise_ids, as_of, *, sample_size=30):
    """What publishing these engine results would change against the published grades.

    The migration matrix (rows: current grade, "" = ungraded; columns: new grade) overall and per region
    code of the enterprises, so each viewer sees the matrix of their own region (:func:`impact_in_scope`);
    the movers, largest moves first (at most MOVERS_KEPT, each with its region), and a sample of them
    with names and rule reasons. Approved manual adjustments apply as they would in a real run."""
    current = _current_grades(enterprise_ids)
    adjustments = _active_adjustments(as_of)
    ents = snapshot["enterprises"]
    region_of = dict(zip(ents["enterprise_id"].to_pylist(), ents["region_code"].to_pylist(), strict=True))
    matrix = {old: {new: 0 for new in GRADES} for old in ["", *GRADES]}
    regions: dict[str, dict] = {}
    movers, dist = [], Counter()
    order = {g: i for i, g in enumerate(GRADES)}
    for _iset, result in parts:
        cols = result.scores.to_pydict()
        for i, eid in enumerate(cols["enterprise_id"]):
            adj = adjustments.get(eid)
            new = adj[1] if adj else cols["grade"][i]
            old = current.get(eid) or ""
            region = region_of.get(eid) or ""
            matrix[old][new] += 1
            _add(regions.setdefault(region, {}), old, new)
            dist[new] += 1
            if old and old != new:
                movers.append((abs(order[new] - order[old]), eid, region, old, new, cols["total_score"][i],
                               cols["reasons"][i]))
    movers.sort(key=lambda m: (-m[0], m[1]))
    names = dict(Enterprise.objects.filter(pk__in=[m[1] for m in movers[:sample_size]]).values_list("id", "name"))
    sample = [{"enterprise_id": eid, "name": names.get(eid, ""), "region": region, "old": old, "new": new,
               "score": round(score, 2), "reasons": json.loads(reasons)[:3]}
              for _d, eid, region, old, new, score, reasons in movers[:sample_size]]
    up = sum(1 for m in movers if order[m[4]] > order[m[3]])
    summary = {
        "matrix": matrix, "grades": list(GRADES), "population": sum(dist.values()), "moved": len(movers),
        "up": up, "down": len(movers) - up, "ungraded": sum(matrix[""].values()), "sample": sample,
        "adjusted": len(adjustments), "regions": regions,
        "movers": [[eid, region, old, new, round(score, 2)] for _d, eid, region, old, new, score, _r in
                   movers[:MOVERS_KEPT]],
    }
    return summary, {g: dist.get(g, 0) for g in GRADES}


def impact_in_scope(summary, user):
    """A preview's summary as ``user`` may see it: a user whose data scope is narrower than everywhere gets
    the matrix, counts, movers and sample of the enterprises in their scope only (a district sees its
    district); nobody sees enterprises outside their scope."""
    prefix = user.scope_prefix
    if prefix == "" or not summary:
        return summary
    order = {g: i for i, g in enumerate(GRADES)}
    matrix = {old: {new: 0 for new in GRADES} for old in ["", *GRADES]}
    for region, cells in (summary.get("regions") or {}).items():
        if prefix is not None and region.startswith(prefix):
            for old, row in cells.items():
                for new, n in row.items():
                    matrix[old][new] += n
    moves = [(old, new, n) for old, row in matrix.items() if old for new, n in row.items() if new != old]
    up = sum(n for old, new, n in moves if order[new] > order[old])
    moved = sum(n for _o, _n, n in moves)

    def mine(region):
        return prefix is not None and (region or "").startswith(prefix)

    return {**summary, "matrix": matrix, "population": sum(sum(r.values()) for r in matrix.values()),
            "moved": moved, "up": up, "down": moved - up, "ungraded": sum(matrix[""].values()),
            "regions": {k: v for k, v in (summary.get("regions") or {}).items() if mine(k)},
            "movers": [m for m in summary.get("movers") or [] if mine(m[1])],
            "sample": [m for m in summary.get("sample") or [] if mine(m.get("region"))], "scoped": True}


def _preview_run(*, as_of, indicator_set, model_version, target, user, job, progress, scorer, sample_size):
    """A preview run: ``scorer(as_of, progress)`` gives (enterprise ids or None, snapshot, engine parts,
    seconds the snapshot took); the impact against the published grades is stored in the run's summary and
    audited (scoring.run.preview). Publishes nothing."""
    as_of = as_of or timezone.localdate()
    if isinstance(as_of, str):
        as_of = date.fromisoformat(as_of)
    progress = progress or (lambda *a, **k: None)
    run = ScoringRun.objects.create(kind=RunKind.PREVIEW, as_of=as_of, indicator_set=indicator_set,
                                    model_version=model_version, started_by=user, job=job,
                                    summary={"target": target})
    try:
        t0 = time.perf_counter()
        ids, snapshot, parts, snapshot_s = scorer(as_of, progress)
        t1 = time.perf_counter()
        summary, distribution = impact(parts, snapshot, ids, as_of, sample_size=sample_size)
        summary["target"] = target
        timing = {"snapshot_s": round(snapshot_s, 4), "engine_s": round(t1 - t0 - snapshot_s, 4),
                  "total_s": _now_ms(t0)}
        with transaction.atomic():
            ScoringRun.objects.filter(pk=run.pk).update(
                status=RunStatus.SUCCEEDED, finished_at=timezone.now(), enterprise_count=summary["population"],
                changed_count=summary["moved"], grade_distribution=distribution, timing=timing, summary=summary)
            named = {"indicator_set": target["label"]} if target["kind"] == "indicator_set" else {}
            audit.record("scoring.run.preview", run, user=user, details=_run_details(
                run, target=target, **named, enterprises=summary["population"], moved=summary["moved"],
                up=summary["up"], down=summary["down"], distribution=distribution))
    except Exception as exc:
        _fail(run, exc, user=user)
        raise
    run.refresh_from_db()
    return run


def preview(indicator_set, *, as_of=None, user=None, job=None, sample_size=30, progress=None):
    """Score the population the set would grade with it, compare to the published grades."""

    def scorer(as_of, progress):
        t0 = time.perf_counter()
        ids = None
        prefix = region_prefix(indicator_set.scope_region_id or "")
        if prefix:
            ids = set(Enterprise.objects.filter(region__code__startswith=prefix).values_list("id", flat=True))
        progress(0.1, 1, "snapshot")
        snapshot = build_snapshot(as_of, ids)
        snapshot_s = time.perf_counter() - t0
        progress(0.4, 1, "engine")
        model = model_services.champion_inputs(snapshot, as_of)  # like with like: published grades use it
        return ids, snapshot, [(indicator_set, _score_with(snapshot, indicator_set, as_of, model))], snapshot_s

    current = model_services.champion(artifact=False)
    target = {"kind": "indicator_set", "indicator_set": indicator_set.pk,
              "label": f"{indicator_set.code} v{indicator_set.version}", "champion_id": current.pk if current else None}
    return _preview_run(as_of=as_of, indicator_set=indicator_set, model_version=None, target=target, user=user,
                        job=job, progress=progress, scorer=scorer, sample_size=sample_size)


def set_preview_problem(indicator_set):
    """Why ``indicator_set`` cannot be activated on its latest impact preview ("" when it can): a set that
    changes the blend or the grade cut-offs of its scope is activated only on a preview of that version made
    after its approval and still fresh (model_services.stale_preview)."""
    run = (ScoringRun.objects.filter(kind=RunKind.PREVIEW, status=RunStatus.SUCCEEDED, indicator_set=indicator_set)
           .order_by("-started_at", "-pk").first())
    if run is None or (indicator_set.approved_at and run.started_at < indicator_set.approved_at):
        return _("This version changes the blend or the grade cut-offs: run its impact preview (after approval) "
                 "before activating it.")
    return model_services.stale_preview(run)


def preview_model(target, *, as_of=None, user=None, job=None, sample_size=30, progress=None):
    """The impact of a change of model: every enterprise scored by the active sets with ``target`` as the
    champion (None: without a model, as after retiring the champion), against the published grades.
    Promotion, rollback and retiring the champion are published only on a fresh preview of that very change
    (model_services.check_preview). The target's own blend and grade cut-offs apply, as they would."""
    model_services.require_preview_permission(user)
    current = model_services.champion(artifact=False)

    def scorer(as_of, progress):
        t0 = time.perf_counter()
        progress(0.1, 1, "snapshot")
        snapshot = build_snapshot(as_of, None)
        snapshot_s = time.perf_counter() - t0
        sets = active_sets()
        if not sets:
            raise NoActiveIndicatorSet(_("No active indicator set: activate one in the indicator library first."))
        progress(0.4, 1, "engine")
        model = model_services.champion_inputs(snapshot, as_of, mv=target) if target is not None else None
        return None, snapshot, score_snapshot(snapshot, sets, as_of, model), snapshot_s

    spec = {"kind": "model", "model_version_id": target.pk if target else None,
            "label": target.version if target else "", "champion_id": current.pk if current else None,
            "champion": current.version if current else ""}
    return _preview_run(as_of=as_of, indicator_set=None, model_version=target.version if target else None,
                        target=spec, user=user, job=job, progress=progress, scorer=scorer,
                        sample_size=sample_size)


# --------------------------------------------------------------------------------------------------
# manual grade adjustments (人工复核), two-person approval
# --------------------------------------------------------------------------------------------------
A = AdjustmentStatus
APPROVER = "scoring.approve_gradeadjustment"
ADJUSTMENTS = Workflow(
    GradeAdjustment,
    {"approve": Transition({A.PENDING}, APPROVER, second_person="proposed_by", label=gettext_lazy("approve")),
     "reject": Transition({A.PENDING}, APPROVER, second_person="proposed_by", label=gettext_lazy("reject")),
     "supersede": Transition({A.APPROVED}, APPROVER),  # an approval ends the enterprise's earlier adjustment
     "withdraw": Transition({A.PENDING, A.APPROVED}, label=gettext_lazy("withdraw")),  # proposer or approver
     "expire": Transition({A.APPROVED})},  # the system, when valid_until has passed
    audit_as="scoring.gradeadjustment", related=("enterprise",),
    state_fields=("enterprise", "proposed_grade", "grade_at_proposal", "reason", "evidence", "valid_until", "status",
                  "proposed_by", "decided_by", "decision_note"))


def _set_grade(enterprise_id, grade, *, adjustment, reasons):
    """Publish a grade outside a run (adjustment approved/ended); returns the change or None."""
    ent = Enterprise.objects.select_for_update().only("id", "current_grade", "current_score").get(pk=enterprise_id)
    old = ent.current_grade or ""
    if not grade or grade == old:
        return None
    Enterprise.objects.filter(pk=enterprise_id).update(current_grade=grade)
    GradeChange.objects.create(enterprise_id=enterprise_id, adjustment=adjustment, old_grade=old, new_grade=grade,
                               score=ent.current_score, at=timezone.now(), reasons=reasons)
    return {"enterprise_id": enterprise_id, "old_grade": old, "new_grade": grade, "score": ent.current_score}


def _emit(adjustment, change):
    if change:
        events.adjustment_changed_grade(adjustment, change)


def computed_grade(enterprise_id):
    """The engine's grade in the enterprise's latest published score (None if never scored)."""
    return (Score.objects.filter(enterprise_id=enterprise_id).order_by("-run_id")
            .values_list("engine_grade", flat=True).first())


def propose_adjustment(enterprise, proposed_grade, reason, *, user, valid_until=None, evidence=None):
    if proposed_grade not in GRADES:
        raise ValidationError(_("Unknown grade."))
    if not (reason or "").strip():
        raise ValidationError(_("A reason is required."))
    if valid_until is not None and valid_until < timezone.localdate():
        raise ValidationError(_("The end date lies in the past."))
    with transaction.atomic():
        adj = GradeAdjustment(enterprise=enterprise, proposed_grade=proposed_grade, reason=reason.strip(),
                              valid_until=valid_until, proposed_by=user,
                              grade_at_proposal=enterprise.current_grade or "")
        if evidence:
            adj.evidence = evidence
        # one pending per enterprise is a constraint: of two simultaneous proposals one wins
        with unique_or(ValidationError(_("This enterprise already has an adjustment awaiting approval."))):
            adj.save()
        audit.record("scoring.gradeadjustment.propose", adj, after=ADJUSTMENTS.snapshot(adj), user=user)
        notifications.ask_approval(adj, APPROVER, requester=user, region_code=enterprise.region_id)
    return adj


def approve_adjustment(adj, *, user, note=""):
    """Second person approves; the grade is published at once and survives rescoring until it ends."""
    with ADJUSTMENTS.step(adj, "approve", user=user, note=note) as step:
        adj = step.obj
        now = timezone.now()
        for pk in GradeAdjustment.objects.filter(enterprise_id=adj.enterprise_id, status=A.APPROVED) \
                .values_list("pk", flat=True):
            with ADJUSTMENTS.step(GradeAdjustment(pk=pk), "supersede", user=user) as ending:
                old = ending.obj
                old.status, old.ended_at = A.WITHDRAWN, now
                old.decision_note = (old.decision_note + "\n" if old.decision_note else "") + f"superseded by #{adj.pk}"
                ending.action = "withdraw"
        adj.status, adj.decided_by, adj.decided_at, adj.decision_note = A.APPROVED, user, now, note
        adj.save()  # one approved per enterprise: saved after the earlier one ended
        change = _set_grade(adj.enterprise_id, adj.proposed_grade, adjustment=adj,
                            reasons=[f"人工复核：{adj.reason}"])
        step.details = {"published": change}
        _emit(adj, change)
    return adj


def reject_adjustment(adj, *, user, note=""):
    with ADJUSTMENTS.step(adj, "reject", user=user, note=note) as step:
        adj = step.obj
        adj.status, adj.decided_by, adj.decided_at, adj.decision_note = A.REJECTED, user, timezone.now(), note
    return adj


def _end(step, status, *, note):
    """An adjustment ends (withdrawn, expired): an approved one returns the enterprise to its computed grade."""
    adj = step.obj
    was_approved = adj.status == A.APPROVED
    adj.status, adj.ended_at = status, timezone.now()
    if note:
        adj.decision_note = (adj.decision_note + "\n" if adj.decision_note else "") + note
    adj.save()
    change = None
    if was_approved:
        change = _set_grade(adj.enterprise_id, computed_grade(adj.enterprise_id), adjustment=adj,
                            reasons=[f"人工复核调整结束（{adj.get_status_display()}）"])
    step.details = {"published": change}
    _emit(adj, change)
    return adj


def withdraw_adjustment(adj, *, user, note=""):
    """The proposer withdraws a pending one; an approver (or the proposer) ends an approved one early.
    An approved adjustment that ends returns the enterprise to its computed grade."""
    with ADJUSTMENTS.step(adj, "withdraw", user=user, note=note) as step:
        if step.obj.proposed_by_id != user.pk and not user.has_perm(APPROVER):
            raise PermissionDenied(_("Only the proposer or an approver can withdraw an adjustment."))
        return _end(step, A.WITHDRAWN, note=note)


def expire_adjustments(as_of=None):
    """Approved adjustments whose end date lies before as_of expire; their enterprises return to the
    computed grade. Runs before every scoring run and daily as a job."""
    as_of = as_of or timezone.localdate()
    due = list(GradeAdjustment.objects.filter(status=AdjustmentStatus.APPROVED, valid_until__lt=as_of)
               .values_list("pk", flat=True))
    for pk in due:
        try:
            with ADJUSTMENTS.step(GradeAdjustment(pk=pk), "expire", user=None) as step:
                _end(step, A.EXPIRED, note="")
        except InvalidTransition:  # ended meanwhile
            continue
    return len(due)


def start_run_job(kind, *, user=None, as_of=None, run_now=False, engine=None):
    from foodrisk.core.services import jobs

    params = {"as_of": as_of.isoformat() if isinstance(as_of, date) else as_of} if as_of else {}
    if engine:
        params["engine"] = engine
    return jobs.start(f"scoring.{kind}", user=user, params=params, run_now=run_now)



RUN_FIGURES = ("enterprise_count", "changed_count", "adjusted_count", "grade_distribution")


def run_in_scope(run, user):
    """The run as `user` may see it: a user with a data scope narrower than everywhere gets the run's counts
    and grade distribution recomputed over the scores in their scope (a district sees its district, not the
    city); the snapshot row counts of the whole run are dropped. The instance is changed in memory only."""
    if user.scope_prefix == "":
        return run
    if run.kind == RunKind.PREVIEW:  # no Score rows: the stored impact, cut down to the scope
        run.summary = impact_in_scope(run.summary, user)
        run.enterprise_count, run.changed_count = run.summary.get("population", 0), run.summary.get("moved", 0)
        dist = Counter()
        for row in (run.summary.get("matrix") or {}).values():
            dist.update(row)
        run.grade_distribution = {g: dist.get(g, 0) for g in GRADES}
        run.scoped = True
        return run
    from django.db.models import Count

    scores = Score.objects.restrict(user, "view").filter(run=run)
    run.enterprise_count = scores.count()
    run.adjusted_count = scores.filter(adjusted=True).count()
    run.changed_count = GradeChange.objects.restrict(user, "view").filter(run=run).count()
    run.grade_distribution = dict(scores.order_by().values_list("grade").annotate(n=Count("pk")))
    run.timing = {k: v for k, v in (run.timing or {}).items() if not isinstance(v, dict)}
    run.summary = {}
    run.scoped = True
    return run
