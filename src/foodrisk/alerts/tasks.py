"""Job kinds of alerts. `alerts.scan` runs daily (schedule seeded by migration 0002)."""

from django.utils.translation import gettext_lazy as _

from foodrisk.core import jobs


@jobs.register("alerts.scan", _("Daily alert scan (licences, credit repairs, overdue escalation)"), retry=True)
def scan(job, today=None):
    import datetime as dt

    from . import services

    result = services.scan(dt.date.fromisoformat(today) if today else None)
    job.log(f"raised {result['raised']}, repeated {result['repeated']}, escalated {result['escalated']}")
    return result


@jobs.register("alerts.evaluate", _("Raise alerts for a large batch of events"), retry=True)
def evaluate(job, grade_changes=None, run_id=None, enterprise_ids=None, kind=None):
    """The same evaluation as the event handlers, moved to the worker when a batch is large
    (a full scoring run or a big import), so the run or import that caused it returns at once."""
    from foodrisk.scoring.models import GradeChange, ScoringRun

    from . import services

    run = ScoringRun.objects.filter(pk=run_id).first() if run_id else None
    if run is not None and not grade_changes:  # a run's changes are read from its GradeChange rows
        grade_changes = list(GradeChange.objects.filter(run=run).order_by("pk")
                             .values("enterprise_id", "old_grade", "new_grade", "score", "reasons"))
    if grade_changes:
        services.evaluate_grade_changes(grade_changes, run=run)
        job.log(f"evaluated {len(grade_changes)} grade changes of run {run_id}")
    if enterprise_ids:
        services.evaluate_records(set(enterprise_ids), {kind} if kind else None)
        job.log(f"evaluated records of {len(enterprise_ids)} enterprises ({kind})")
    return {"grade_changes": len(grade_changes or []), "enterprises": len(enterprise_ids or [])}


@jobs.register("alerts.catch_up", _("Catch up alert evaluation of changes not yet evaluated"), retry=True)
def catch_up(job):
    from . import services

    result = services.catch_up()
    job.log(f"evaluated {result['enterprises']} enterprises and {result['grade_changes']} grade changes, "
            f"{result['alerts']} alerts raised or repeated")
    return result
