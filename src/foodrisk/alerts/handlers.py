"""Alerts react to other apps' events (subscribed in AlertsConfig.ready through core.outbox); the reactions run in
the worker, queued in the transaction of the change, retried on an error, and may run twice without harm (an alert
repeats only on evidence not seen before: its fingerprint).

- records_changed → record-driven rules for those enterprises (penalty, inspection, sampling,
  complaints, credit repair rejected, listing, jumps).
- grade_changed → grade-drop rules.
Changes whose reaction never ran (it was suppressed, or failed all its attempts) are caught up by
services.catch_up (job "alerts.catch_up", hourly), from the watermark of the last evaluation.
"""

import logging
from contextlib import contextmanager

from foodrisk.core import outbox

logger = logging.getLogger(__name__)
INLINE_LIMIT = 200  # larger batches are evaluated by a job ("alerts.evaluate", with progress and log)


def _defer(**params):
    from foodrisk.core.services import jobs

    return {"job": jobs.start("alerts.evaluate", params=params).pk}


@contextmanager
def paused():
    """Bulk loads (demo data, benchmarks) queue no alert evaluation inside the block (the catch-up finds them)."""
    with outbox.suppressed(f"{__name__}."):
        yield


def on_records_changed(kind=None, enterprise_ids=()):
    if not enterprise_ids:
        return None
    from . import services

    if len(enterprise_ids) > INLINE_LIMIT:
        return _defer(enterprise_ids=sorted(enterprise_ids), kind=kind)
    return {"alerts": len(services.evaluate_records(set(enterprise_ids), {kind} if kind else None))}


def on_grade_changed(run_id=None, adjustment_id=None, changes=None):
    from foodrisk.scoring.models import GradeAdjustment, GradeChange, ScoringRun

    from . import services

    if run_id is not None:
        if GradeChange.objects.filter(run_id=run_id).count() > INLINE_LIMIT:
            return _defer(run_id=run_id)
        run = ScoringRun.objects.get(pk=run_id)
        changes = list(GradeChange.objects.filter(run=run).order_by("pk")
                       .values("enterprise_id", "old_grade", "new_grade", "score", "reasons"))
        return {"alerts": len(services.evaluate_grade_changes(changes, run=run))}
    adjustment = GradeAdjustment.objects.get(pk=adjustment_id) if adjustment_id is not None else None
    return {"alerts": len(services.evaluate_grade_changes(changes or [], adjustment=adjustment))}
