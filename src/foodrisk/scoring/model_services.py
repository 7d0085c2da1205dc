"""The risk model on the Django side: training candidates from the archive, governance (review, promote,
roll back, retire — two people, one champion, all audited), scoring inputs of the champion, and drift
monitoring with notifications. The maths lives in ``foodrisk.engine.model`` (docs/model.md).

Blend: the combined score uses the active indicator set's ``blend`` when it gives the model a weight;
a set whose blend gives the model no weight (every shipped profile: rule 1 / model 0) uses the blend
stored in the champion's artifact — the blend its model card was evaluated with and its reviewer
approved. Vetoes, raises, lowers, the new-enterprise rule and manual adjustments apply after the blend.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import date, timedelta

import pyarrow as pa
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from foodrisk.core.services import audit
from foodrisk.core.workflow import Transition, Workflow
from foodrisk.engine import IndicatorSet as EngineSpec
from foodrisk.engine import model as M
from foodrisk.engine.compiler import shift_months

from .choices import DriftStatus, ModelStatus, RunKind, RunStatus, TrainingTarget
from .models import DriftReport, ModelVersion, ScoringRun
from .snapshot import snapshot_at

logger = logging.getLogger(__name__)

DRIFT_THRESHOLD = 0.25  # PSI above which model admins are notified (docs/model.md: act / re-fit)
DRIFT_FEATURES_FLAGGED = 3  # … or when this many features each exceed it
DRIFT_TEMPLATE = "model_drift"


def _register_drift_message():
    from foodrisk.core.services.notifications import register_default

    register_default(
        DRIFT_TEMPLATE, channels=("inapp", "email"),
        subject="【模型漂移】{{ version }} 评分分布PSI {{ psi }}（{{ status }}）",
        body="截至 {{ as_of }}，冠军模型 {{ version }} 的模型分PSI为 {{ psi }}（>0.25 需复核或重新训练）。"
             "漂移明显的特征：{{ features|default:'无' }}。请在模型卡片中查看详情。")


_register_drift_message()
ENGINE_THREADS = 2
PROMOTE_PERM = "scoring.promote_modelversion"
TRAIN_PERM = "scoring.add_modelversion"

_ARTIFACTS: dict[tuple[int, str], M.ModelArtifact] = {}


def _date(value):
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _json_safe(value):
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


# --------------------------------------------------------------------------------------------------
# artifacts and the champion
# --------------------------------------------------------------------------------------------------
def load_artifact(mv: ModelVersion) -> M.ModelArtifact:
    """The engine artifact of a version (parsed once per process; the booster is built lazily)."""
    key = (mv.pk, mv.artifact_sha256)
    art = _ARTIFACTS.get(key)
    if art is None:
        art = M.ModelArtifact.from_json(mv.artifact)
        if len(_ARTIFACTS) > 8:
            _ARTIFACTS.clear()
        _ARTIFACTS[key] = art
    return art


def spec_of(mv: ModelVersion) -> EngineSpec:
    """The indicator set the model was trained with (its features are that set's indicator values)."""
    return EngineSpec.from_dict(mv.indicator_set.spec)


def champion(*, artifact=True) -> ModelVersion | None:
    """The champion; artifact=False skips the large artifact text (pages that only show the version)."""
    qs = ModelVersion.objects.select_related("indicator_set")
    return (qs if artifact else qs.defer("artifact")).filter(status=ModelStatus.CHAMPION).first()


def blend_for(set_spec: dict, artifact: M.ModelArtifact) -> tuple[dict, str]:
    """(blend, source): the set's blend if it weights the model, else the artifact's reviewed blend."""
    bl = set_spec.get("blend") or {}
    if float(bl.get("model", 0) or 0) > 0:
        return {"rule": float(bl.get("rule", 1.0)), "model": float(bl["model"])}, "indicator_set"
    return {"rule": float(artifact.blend["rule"]), "model": float(artifact.blend["model"])}, "model"


def spec_with_model(set_spec: dict, artifact: M.ModelArtifact) -> dict:
    """The set's spec with the blend this champion scores it with, and — when the set's blend gives the
    model no weight and the artifact holds them — the grade cut-offs chosen with that blend (the policy's
    grade shares on the validation folds), so grades mean what the model card shows. Both back ends (DuckDB
    here, Spark through engine.spark) score with this spec."""
    blend, source = blend_for(set_spec, artifact)
    out = {**set_spec, "blend": blend}
    points = (artifact.grade_thresholds or {}).get("points")
    grades = (artifact.grade_thresholds or {}).get("grades")
    set_grades = set_spec.get("grades") or ["A", "B", "C", "D"]
    if source == "model" and points and list(grades) == list(set_grades):
        out["cutoffs"] = dict(zip(grades[:-1], points, strict=True))
    return out


@dataclass
class ChampionInputs:
    """What a scoring run needs from the champion for one snapshot."""

    version: ModelVersion
    artifact: M.ModelArtifact
    features: pa.Table  # feature_table on the run's snapshot
    scores: pa.Table  # model_scores: enterprise_id, model_score, probability
    timing: dict

    def spec_for(self, set_spec: dict) -> dict:
        return spec_with_model(set_spec, self.artifact)

    def reasons(self, result_scores: pa.Table, previous: pa.Table | None) -> dict[int, str]:
        """Model reasons (path attributions, top 3) only for enterprises whose score moved or whose grade is not A,
        as the JSON text explain returns (what Score.model_reasons stores)."""
        targets = M.explain_targets(result_scores, previous)
        if not targets:
            return {}
        ex = M.explain(self.artifact, self.features, targets, top=3)
        return dict(zip(ex["enterprise_id"].to_pylist(), ex["reasons"].to_pylist(), strict=True))


def champion_inputs(snapshot, as_of: date, mv: ModelVersion | None = None) -> ChampionInputs | None:
    """Model scores of the champion (or `mv`) on a snapshot; None without a champion."""
    mv = mv or champion()
    if mv is None:
        return None
    t0 = time.perf_counter()
    art = load_artifact(mv)
    ft = M.artifact_features(art, snapshot, spec_of(mv), as_of, threads=ENGINE_THREADS)
    t1 = time.perf_counter()
    ms = M.model_scores(art, ft)
    return ChampionInputs(mv, art, ft, ms, {"model_features_s": round(t1 - t0, 4),
                                            "model_scores_s": round(time.perf_counter() - t1, 4)})


def published_scores(enterprise_ids) -> pa.Table:
    """enterprise_id, grade, total_score of the currently published grades (for explain_targets)."""
    from foodrisk.enterprises.models import Enterprise

    from .snapshot import MAX_IN_LIST, _rows

    qs = Enterprise.objects.order_by().filter(current_score__isnull=False)
    if enterprise_ids is not None and len(enterprise_ids) <= MAX_IN_LIST:
        qs = qs.filter(pk__in=list(enterprise_ids))
    ids, grades, scores = _rows(qs, ["id", "current_grade", "current_score"])
    return pa.table({"enterprise_id": pa.array(ids, pa.int64()), "grade": pa.array(grades, pa.string()),
                     "total_score": pa.array([float(s) for s in scores], pa.float64())})


# --------------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------------
def _primary_set():
    from foodrisk.indicators.services import active_sets

    sets = active_sets()
    if not sets:
        raise ValidationError(_("No active indicator set: activate one in the indicator library first."))
    return next((s for s in sets if s.scope_region_id is None), sets[-1])


def _next_version(iset):
    n = ModelVersion.objects.count() + 1
    while True:
        version = f"{iset.code}-v{iset.version}-m{n:03d}"
        if not ModelVersion.objects.filter(version=version).exists():
            return version
        n += 1


def archive_start():
    """The date of the earliest inspection in the archive (None when there is none)."""
    from django.db.models import Min

    from foodrisk.records.models import Inspection

    return Inspection.objects.aggregate(first=Min("inspected_on"))["first"]


def train_candidate(*, months=60, as_of=None, user=None, job=None, progress=None, target=TrainingTarget.ENTERPRISE,
                    horizon_months=None, kinds=None, seed=0, notes="", indicator_set=None, threads=ENGINE_THREADS,
                    horizons=None, folds=3, population=None, grade_shares=None) -> ModelVersion:
    """Point-in-time monthly snapshots of the archive → catalogue features → rolling-origin validated
    training (engine ``fit_validated``: training horizon, model — LightGBM or the logistic challenger — and
    regularisation chosen on the folds; blend and grade cut-offs chosen so adverse rates rise A < B < C < D)
    → model card → a *candidate* ModelVersion. Nothing is scored with it until a second person promotes it
    after an impact preview.

    ``months`` caps the history used (the archive's first inspection otherwise); ``target`` (the engine's
    TRAINING_TARGETS) gives the label, its horizon (``horizon_months`` overrides it: the window the folds measure) and the
    training horizons tried; ``kinds``, ``population`` and ``horizons`` override them one by one. ``threads`` is LightGBM's num_threads, stored in the artifact and used again
    when scoring and explaining (on a busy host, 1 avoids OpenMP oversubscription)."""
    as_of = _date(as_of) or timezone.localdate()
    progress = progress or (lambda *a, **k: None)
    iset = indicator_set or _primary_set()
    spec = EngineSpec.from_dict(iset.spec)
    label, tried = M.TRAINING_TARGETS[TrainingTarget(target).value]
    horizons = horizons or tried
    target = M.LabelSpec(tuple(kinds or label.kinds), int(horizon_months or label.horizon_months),
                         population or label.population)
    if int(months) < target.horizon_months + 4:
        raise ValidationError(
            _("Training needs at least %(n)d months of history (a %(h)d-month label horizon, validation folds "
              "and training dates before them).") % {"n": target.horizon_months + 4, "h": target.horizon_months})
    start = archive_start()
    if start is None:
        raise ValidationError(_("Training failed: the archive holds no inspections to learn from."))
    first = max(start, shift_months(as_of, -int(months)))
    t0 = time.perf_counter()
    done = []
    snapshots = {}

    def provider(d):
        if d not in snapshots:  # each date once (folds, rule scores and the card share them)
            done.append(d)
            progress(min(0.8, 0.05 + 0.02 * len(done)), 1, f"snapshot {d}")
            snapshots.clear()
            snapshots[d] = snapshot_at(d)
        return snapshots[d]

    full = snapshot_at(as_of)
    try:
        fit = M.fit_validated(provider, as_of, target=target, first_data=first, label_snapshot=full,
                              horizons=tuple(int(h) for h in horizons), folds=int(folds), seed=int(seed),
                              threads=int(threads), spec=spec, spec_code=spec.code, spec_version=spec.version,
                              grade_shares=grade_shares)
    except ValueError as exc:  # too little history / a single class
        logger.warning("training failed: %s", exc)  # the engine's own words, for the operator
        raise ValidationError(_("Training failed: %(e)s") % {"e": training_problem(exc)}) from exc
    art = fit.artifact
    t1 = time.perf_counter()
    progress(0.85, 1, "evaluate")
    # the card's cross-section: the latest validation cut-off (its labels are complete by as_of)
    hold = date.fromisoformat(art.training_window["validation_cutoffs"][-1])
    labels = M.outcomes(full, hold, target.horizon_months, target.kinds, population=target.population,
                        threads=ENGINE_THREADS)
    hold_snapshot = snapshot_at(hold)
    card = M.evaluate(art, spec, hold_snapshot, hold, labels, threads=ENGINE_THREADS,
                      features=M.artifact_features(art, hold_snapshot, spec, hold, threads=ENGINE_THREADS),
                      cutoffs=art.grade_thresholds.get("points"))
    card["validation"] = art.metrics["validation"]
    t2 = time.perf_counter()
    text = art.to_json()
    training = {
        "rows": art.metrics.get("rows"), "params": art.params, "num_trees": art.num_trees, "seed": int(seed),
        "chosen": fit.chosen, "snapshots": len(done),
        "timing": {"train_s": round(t1 - t0, 3), "evaluate_s": round(t2 - t1, 3),
                   **{f"train_{k}": v for k, v in fit.timing.items()}},
    }
    window = {**art.training_window, "holdout": [hold.isoformat(), hold.isoformat()], "as_of": as_of.isoformat(),
              "labels_until": as_of.isoformat(), "months": int(months), "first": first.isoformat()}
    with transaction.atomic():
        mv = ModelVersion.objects.create(
            version=_next_version(iset), indicator_set=iset, artifact=text,
            artifact_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), label=art.label, data_window=window,
            metrics=_json_safe(card), training=_json_safe(training), trained_by=user, job=job, notes=notes or "")
        audit.record("scoring.modelversion.train", mv, user=user, details={
            "version": mv.version, "indicator_set": f"{iset.code} v{iset.version}", "data_window": window,
            "auc": card_auc(card, "combined"), "auc_rules": card_auc(card, "rules"),
            "validation_auc": fit.chosen["mean_auc"], "winner": fit.chosen["model"],
            "sha256": mv.artifact_sha256})
    progress(1.0, 1, "candidate stored")
    return mv


# The engine (a library without translations) says why it could not train; people read it in Chinese.
TRAINING_PROBLEMS = [
    (re.compile(r"not enough history for rolling-origin validation.*", re.S),
     gettext_noop("the archive's history is too short to validate the model on several cut-offs: choose more "
                  "monthly snapshots (at least 24) or shorter horizons.")),
    (re.compile(r"(need at least three as-of dates|not enough as-of dates).*", re.S),
     gettext_noop("too few monthly snapshots to train, calibrate and test the model: choose more.")),
]


def training_problem(exc):
    for pattern, text in TRAINING_PROBLEMS:
        if pattern.match(str(exc)):
            return _(text)
    return _("the engine could not fit a model on this archive (details in the server log).")


def card_auc(card, which):
    """Hold-out AUC of `which` (rules, model, combined, …) in a model card, or None."""
    return ((card or {}).get("metrics") or {}).get(which, {}).get("auc")


def start_train_job(user=None, **params):
    """Queue training of a candidate (the job runs train_candidate with these parameters)."""
    from foodrisk.core.services import jobs

    params = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in params.items() if v is not None}
    return jobs.start("scoring.train", user=user, params=params)


# --------------------------------------------------------------------------------------------------
# governance: review → promote (second person), one champion, rollback, retire
# --------------------------------------------------------------------------------------------------
PREVIEW_MAX_AGE = timedelta(hours=24)  # an older impact preview no longer describes today's archive


def require_preview_permission(user):
    """Who may preview a change of model: whoever may promote one (a preview publishes nothing)."""
    _require(user)


def latest_preview(target, *, current=None):
    """The newest succeeded impact preview of making ``target`` (None: no model) the champion."""
    runs = ScoringRun.objects.filter(kind=RunKind.PREVIEW, status=RunStatus.SUCCEEDED, indicator_set=None,
                                     summary__target__kind="model").order_by("-started_at", "-pk")
    tid = target.pk if target is not None else None
    return next((r for r in runs[:50] if r.summary["target"].get("model_version_id") == tid), None)


def preview_problem(run, target):
    """Why ``run`` cannot carry the change to ``target`` (a Chinese sentence), or "" when it can: it must be a
    succeeded preview of exactly this change, made against the current champion, not older than
    PREVIEW_MAX_AGE, with no full scoring run published and no indicator set activated since."""
    t = (run.summary or {}).get("target") or {} if run is not None else {}
    if run is None or run.kind != RunKind.PREVIEW or run.status != RunStatus.SUCCEEDED or t.get("kind") != "model" \
            or t.get("model_version_id") != (target.pk if target is not None else None):
        return _("Run the impact preview of this change first (grade migration and the enterprises that move).")
    return stale_preview(run)


def stale_preview(run):
    """Why a preview no longer describes what publishing would change ("" when it still does): the champion
    changed since, it is older than PREVIEW_MAX_AGE, or a full run published / a set activated since."""
    from foodrisk.indicators.models import IndicatorSet

    current = champion(artifact=False)
    if (run.summary or {}).get("target", {}).get("champion_id") != (current.pk if current else None):
        return _("The champion changed after the impact preview; run the preview again.")
    if run.started_at < timezone.now() - PREVIEW_MAX_AGE:
        return _("The impact preview is older than 24 hours; run it again.")
    later_run = ScoringRun.objects.filter(kind="full", status=RunStatus.SUCCEEDED, published_at__gt=run.started_at)
    if later_run.exists() or IndicatorSet.objects.filter(activated_at__gt=run.started_at).exists():
        return _("Grades were published or an indicator set activated after the impact preview; run it again.")
    return ""


def check_preview(target, preview, confirmed):
    """A change of model is published only on a fresh impact preview of that change, explicitly confirmed.
    Returns the preview run (its figures go into the audit entry)."""
    try:  # always the stored row: what the preview found, not a caller's copy of it
        run = ScoringRun.objects.filter(pk=preview.pk if isinstance(preview, ScoringRun) else int(preview)).first()
    except (TypeError, ValueError):
        run = None
    problem = preview_problem(run, target)
    if problem:
        raise ValidationError(problem)
    if not confirmed:
        raise ValidationError(_("Confirm that you have checked the impact preview (%(moved)d enterprises change "
                                "grade) before publishing this change.") % {"moved": run.summary.get("moved", 0)})
    return run


def change_of(target):
    """What making ``target`` the champion (None: no model) means in the governance: "promote" (a candidate),
    "rollback" (the version a rollback brings back), "retire" (the champion goes, scoring is rule-only), or
    "" when it is no change the governance offers."""
    current = champion(artifact=False)
    if target is None:
        return "retire" if current is not None else ""
    if target.status == ModelStatus.CANDIDATE:
        return "promote"
    back = previous_champion()
    if back is not None and back.pk == target.pk and target.status != ModelStatus.CHAMPION:
        return "rollback"
    return ""


def publish_change(target, *, user, note="", preview=None, confirmed=False):
    """Carry out the change previewed for ``target`` (see change_of) on that preview."""
    kind = change_of(target)
    if kind == "promote":
        return promote(target, user=user, note=note, preview=preview, confirmed=confirmed)
    if kind == "rollback":
        return rollback(user=user, note=note, preview=preview, confirmed=confirmed)
    if kind == "retire":
        return retire(champion(), user=user, note=note, preview=preview, confirmed=confirmed)
    raise ValidationError(_("This is not a change of model that can be published."))


def start_preview_job(target, *, user, run_now=False):
    """Queue (or run now, for a small archive) the impact preview of making ``target`` the champion."""
    from foodrisk.core.services import jobs

    require_preview_permission(user)
    return jobs.start("scoring.model_preview", user=user, params={"target": target.pk if target else None},
                      run_now=run_now)


def _preview_details(run):
    s = run.summary or {}
    return {"preview_run": run.pk, "population": s.get("population"), "moved": s.get("moved"), "up": s.get("up"),
            "down": s.get("down")}


M_ = ModelStatus
MODELS = Workflow(
    ModelVersion,
    {"review": Transition({M_.CANDIDATE}, PROMOTE_PERM, second_person="trained_by", label=gettext_lazy("review")),
     "promote": Transition({M_.CANDIDATE}, PROMOTE_PERM, second_person="trained_by", label=gettext_lazy("promote")),
     "rollback": Transition({M_.CANDIDATE, M_.RETIRED}, PROMOTE_PERM, label=gettext_lazy("roll back")),
     "retire": Transition({M_.CANDIDATE, M_.CHAMPION}, PROMOTE_PERM, label=gettext_lazy("retire"))},
    audit_as="scoring.modelversion", defer=("artifact",),  # the artifact never changes
    state_fields=("version", "status", "indicator_set", "trained_by", "reviewed_by", "review_note", "promoted_by",
                  "promoted_at", "previous_champion", "retired_at", "notes"))


def _require(user, perm=PROMOTE_PERM):
    if user is None or not user.has_perm(perm):
        raise PermissionDenied(perm)


def _add_note(mv, note):
    if note:
        mv.notes = (mv.notes + "\n" if mv.notes else "") + note


def review(mv, *, user, note):
    """Record the review of a candidate's model card (a second person: not the one who trained it)."""
    _require(user)
    note = (note or "").strip()
    if not note:
        raise ValidationError(_("A review note is required."))
    with MODELS.step(mv, "review", user=user, note=note) as step:
        mv = step.obj
        mv.reviewed_by, mv.reviewed_at, mv.review_note = user, timezone.now(), note
    return mv


def _make_champion(step, *, user, previous, note="", preview=None):
    """Inside the step of mv: the current champion (if any) retires, mv becomes champion."""
    mv, now = step.obj, timezone.now()
    current = ModelVersion.objects.defer("artifact").filter(status=M_.CHAMPION).exclude(pk=mv.pk).first()
    if current is not None:
        with MODELS.step(current, "retire", user=user) as retiring:
            retiring.obj.status, retiring.obj.retired_at = M_.RETIRED, now
            retiring.details = {"replaced_by": mv.version, "by": step.action}
    mv.status, mv.promoted_by, mv.promoted_at, mv.retired_at = M_.CHAMPION, user, now, None
    mv.previous_champion = previous if previous is not None else current
    _add_note(mv, note)
    mv.save()  # one champion: saved after the current one retired
    step.details = {"replaced": current.version if current else None, "note": note,
                    **(_preview_details(preview) if preview is not None else {})}


def promote(mv, *, user, note="", preview=None, confirmed=False):
    """A model admin promotes a reviewed candidate to champion; the old champion retires.

    The promoter must not be the person who trained it. A candidate not yet reviewed can be reviewed
    and promoted in one step by giving the review note here. ``preview``: the impact preview of this
    promotion (services.preview_model), fresh, and ``confirmed`` by the promoter (check_preview)."""
    _require(user)
    with transaction.atomic():
        if not ModelVersion.objects.filter(pk=mv.pk, reviewed_by__isnull=False).exists():  # the stored row decides
            if not (note or "").strip():
                raise ValidationError(_("Review the model card first: a review note is required."))
            review(mv, user=user, note=note)
        with MODELS.step(mv, "promote", user=user) as step:
            _make_champion(step, user=user, previous=None, preview=check_preview(step.obj, preview, confirmed))
    return step.obj


def previous_champion():
    """The version a rollback would bring back (the one the champion replaced), or None.
    Without its artifact: callers show it, and rollback re-reads it locked."""
    versions = ModelVersion.objects.defer("artifact")
    current = versions.filter(status=ModelStatus.CHAMPION).first()
    if current is not None:
        prev_id = current.previous_champion_id
        return versions.filter(pk=prev_id).first() if prev_id else None
    return (versions.filter(status=ModelStatus.RETIRED, promoted_at__isnull=False)
            .order_by("-retired_at", "-pk").first())


def rollback(*, user, note="", preview=None, confirmed=False):
    """The champion retires and the champion it replaced is champion again (audited), on a fresh, confirmed
    impact preview of that change like a promotion. Without a champion (it was retired), the most recently
    retired former champion returns."""
    _require(user)
    with transaction.atomic():
        current = ModelVersion.objects.select_for_update().defer("artifact").filter(status=M_.CHAMPION).first()
        target = current.previous_champion if current else previous_champion()
        if target is None:
            raise ValidationError(_("There is no previous champion to roll back to."))
        with MODELS.step(target, "rollback", user=user, note=note) as step:
            target = step.obj
            _make_champion(step, user=user, previous=target.previous_champion, note=note,
                           preview=check_preview(target, preview, confirmed))
    return target


def retire(mv, *, user, note="", preview=None, confirmed=False):
    """Retire a candidate or the champion (without a champion scoring is rule-only). Retiring the champion
    changes grades: it needs a fresh, confirmed impact preview of scoring without a model."""
    _require(user)
    with MODELS.step(mv, "retire", user=user, note=note) as step:
        mv = step.obj
        run = check_preview(None, preview, confirmed) if mv.status == M_.CHAMPION else None
        mv.status, mv.retired_at = M_.RETIRED, timezone.now()
        _add_note(mv, note)
        step.details = {"note": note, **(_preview_details(run) if run is not None else {})}
    return mv


# --------------------------------------------------------------------------------------------------
# drift monitoring
# --------------------------------------------------------------------------------------------------
def model_admins():
    """Active users who may promote models (directly, through a role such as model_admin, or as superuser)."""
    from foodrisk.core.services.accounts import users_with_perm

    return list(users_with_perm(PROMOTE_PERM).order_by("pk"))


def _drift_status(score_psi, act_features, threshold):
    if score_psi > threshold or len(act_features) >= DRIFT_FEATURES_FLAGGED:
        return DriftStatus.ACT
    if score_psi >= 0.1 or act_features:
        return DriftStatus.WATCH
    return DriftStatus.STABLE


def run_drift(*, as_of=None, user=None, job=None, threshold=DRIFT_THRESHOLD, mv=None) -> DriftReport | None:
    """PSI of the champion's score and features, now vs its training baseline (engine ``stability``).
    Stored as a DriftReport; model admins are notified when PSI > threshold."""
    from foodrisk.core.services.notifications import notify

    as_of = _date(as_of) or timezone.localdate()
    mv = mv or champion()
    if mv is None:
        return None
    art = load_artifact(mv)
    ft = M.artifact_features(art, snapshot_at(as_of), spec_of(mv), as_of, threads=ENGINE_THREADS)
    st = M.stability(art, ft)
    labels = art.feature_labels
    features = {n: {"psi": round(v["psi"], 4), "label": labels.get(n, n)} for n, v in st["features"].items()}
    act = sorted((n for n, v in st["features"].items() if v["psi"] > threshold),
                 key=lambda n: -st["features"][n]["psi"])
    status = _drift_status(st["score_psi"], act, threshold)
    report = {"score_psi": st["score_psi"], "score_status": st["score_status"], "features": features,
              "flagged_features": st["flagged_features"], "act_features": act, "thresholds": st["thresholds"],
              "threshold": threshold}
    with transaction.atomic():
        dr = DriftReport.objects.create(model_version=mv, as_of=as_of, population=ft.num_rows,
                                        score_psi=float(st["score_psi"]), status=status,
                                        flagged_features=st["flagged_features"], report=_json_safe(report),
                                        created_by=user, job=job)
        audit.record("scoring.modelversion.drift", mv, user=user, details={
            "as_of": as_of, "score_psi": round(st["score_psi"], 4), "status": status, "act_features": act})
    if status == DriftStatus.ACT:
        ctx = {"version": mv.version, "psi": f"{st['score_psi']:.3f}", "status": dr.get_status_display(),
               "as_of": as_of.isoformat(), "features": "、".join(labels.get(n, n) for n in act[:8])}
        sent = notify(model_admins(), DRIFT_TEMPLATE, ctx, link=mv.get_absolute_url(), level="warning")
        DriftReport.objects.filter(pk=dr.pk).update(notified=len(sent))
        dr.notified = len(sent)
    return dr
