"""Job kinds of scoring (and the indicator library's impact preview, which needs the snapshot builder)."""

from django.utils.translation import gettext_lazy as _

from foodrisk.core import jobs

# the stages that scoring and training report (their services speak in codes); the job page shows them
STAGES = {
    "snapshot": _("Reading the archive"),
    "model": _("Loading the model"),
    "engine": _("Computing the scores"),
    "explain": _("Explaining the grades"),
    "publish": _("Publishing the results"),
    "evaluate": _("Evaluating the model"),
    "candidate stored": _("Candidate model stored"),
}


def stage_label(message):
    """A stage code as the person reads it: 'snapshot 2026-03-31' → '读取 2026-03-31 的档案快照'."""
    if message in STAGES:
        return str(STAGES[message])
    code, _sep, day = message.partition(" ")
    if code == "snapshot" and day:
        return str(_("Reading the archive as of %(date)s") % {"date": day})
    return message


def _progress(job):
    return lambda done, total=None, message="": job.progress(done, total, stage_label(message))


def _run(job, kind, as_of=None, enterprise_ids=None, engine=None):
    from . import services

    run = services.run_scoring(kind, as_of, job.user, enterprise_ids, job=job.job, progress=_progress(job),
                               engine=engine)
    job.log(f"run #{run.pk}: {run.enterprise_count} scored, {run.changed_count} grades changed, "
            f"distribution {run.grade_distribution}, timing {run.timing}")
    return {"run": run.pk, "enterprises": run.enterprise_count, "changed": run.changed_count,
            "distribution": run.grade_distribution, "timing": run.timing}


@jobs.register("scoring.full", _("Full scoring run"), queue="scoring", permission="scoring.add_scoringrun",
               retry=True)  # publishes in one transaction: a run that died published nothing
def full_run(job, as_of=None, engine=None):
    return _run(job, "full", as_of, engine=engine)


@jobs.register("scoring.incremental", _("Incremental scoring run"), queue="scoring", retry=True,
               permission="scoring.add_scoringrun")
def incremental_run(job, as_of=None, enterprise_ids=None, engine=None):
    return _run(job, "incremental", as_of, enterprise_ids, engine=engine)


@jobs.register("indicators.preview", _("Indicator set impact preview"), queue="scoring", retry=True,
               permission="indicators.preview_indicatorset")
def impact_preview(job, indicator_set, as_of=None):
    from foodrisk.indicators.models import IndicatorSet

    from . import services

    run = services.preview(IndicatorSet.objects.get(pk=indicator_set), as_of=as_of, user=job.user, job=job.job,
                           progress=_progress(job))
    job.log(f"preview run #{run.pk}: {run.summary.get('moved')} of {run.enterprise_count} would change grade")
    return {"run": run.pk, **run.summary}


@jobs.register("scoring.model_preview", _("Impact preview of a change of model"), queue="scoring",
               permission="scoring.promote_modelversion", retry=True)  # a preview publishes nothing
def model_preview(job, target=None, as_of=None):
    from . import services
    from .models import ModelVersion

    mv = ModelVersion.objects.get(pk=target) if target is not None else None
    run = services.preview_model(mv, as_of=as_of, user=job.user, job=job.job, progress=_progress(job))
    job.log(f"preview run #{run.pk}: {run.summary.get('moved')} of {run.enterprise_count} would change grade")
    return {"run": run.pk, "moved": run.summary.get("moved"), "population": run.enterprise_count}


@jobs.register("scoring.expire_adjustments", _("Expire grade adjustments"), queue="scoring", retry=True)
def expire_adjustments(job):
    from . import services

    return {"expired": services.expire_adjustments()}


@jobs.register("scoring.train", _("Train a candidate risk model"), queue="scoring",
               permission="scoring.add_modelversion")
def train_model(job, months=24, as_of=None, horizon_months=None, seed=0, threads=2, target="enterprise"):
    from . import model_services

    mv = model_services.train_candidate(months=int(months), as_of=as_of, user=job.user, job=job.job,
                                        progress=_progress(job), target=target,
                                        horizon_months=int(horizon_months) if horizon_months else None,
                                        seed=int(seed), threads=int(threads))
    auc = model_services.card_auc(mv.metrics, "combined")
    job.log(f"candidate {mv.version}: hold-out AUC combined {auc}, window {mv.data_window}")
    return {"model_version": mv.pk, "version": mv.version, "auc_combined": auc,
            "auc_rules": model_services.card_auc(mv.metrics, "rules")}


@jobs.register("scoring.drift", _("Model drift monitoring (PSI)"), queue="scoring",
               permission="scoring.view_modelversion")
def model_drift(job, as_of=None):
    from . import model_services

    report = model_services.run_drift(as_of=as_of, user=job.user, job=job.job)
    if report is None:
        job.log("no champion model: nothing to monitor")
        return {"model_version": None}
    job.log(f"{report.model_version}: score PSI {report.score_psi:.4f} ({report.status}), "
            f"{report.notified} notified")
    return {"drift_report": report.pk, "model_version": report.model_version.version,
            "score_psi": report.score_psi, "status": report.status, "notified": report.notified}
