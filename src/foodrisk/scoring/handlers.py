"""Scoring reacts to other apps' events (subscribed in ScoringConfig.ready through core.outbox); the reactions
run in the worker, queued in the transaction of the change, and may run more than once (they are idempotent: a
rescoring of unchanged data changes no grade; a run already queued is not queued twice).

- records_changed: rescore those enterprises. A small set (≤ EVENT_INLINE_LIMIT) is scored right away by the
  reaction (visible within seconds for one enterprise); a bigger one queues one incremental job (not queued twice
  while one is waiting).
- indicator_set_activated: queue a full run with the new active set (unless one is waiting already).
- core's job_abandoned: the scoring run of a job whose worker died is marked failed (it published nothing: a run
  publishes in one transaction), so the retried job starts a fresh run.
"""

import logging
from contextlib import contextmanager

from django.utils import timezone
from django.utils.translation import gettext as _

from foodrisk.core import outbox

logger = logging.getLogger(__name__)

EVENT_INLINE_LIMIT = 50


@contextmanager
def no_auto_rescore():
    """Bulk loads (benchmarks, demo data) queue no event-triggered rescoring inside the block."""
    with outbox.suppressed(f"{__name__}."):
        yield


def _acting_user():
    from foodrisk.core import context

    user = context.current().user
    return user if getattr(user, "is_authenticated", False) else None


def on_records_changed(kind=None, enterprise_ids=()):
    if not enterprise_ids:
        return None
    from foodrisk.core.models import Job
    from foodrisk.indicators.models import IndicatorSet

    if not IndicatorSet.objects.filter(status="active").exists():
        return None
    ids = set(enterprise_ids)
    if len(ids) <= EVENT_INLINE_LIMIT:
        from . import services

        run = services.run_scoring("event", timezone.localdate(), _acting_user(), ids)
        return {"run": run.pk}
    if Job.objects.filter(kind="scoring.incremental", status="queued").exists():
        return None
    from foodrisk.core.services import jobs

    return {"job": jobs.start("scoring.incremental", user=_acting_user(), params={}).pk}


def on_indicator_set_activated(indicator_set_id=None, retired_id=None, user_id=None):
    from foodrisk.core.models import Job, User
    from foodrisk.indicators.models import IndicatorSet

    if Job.objects.filter(kind="scoring.full", status="queued").exists():  # it will score with the new set
        return None
    indicator_set = IndicatorSet.objects.get(pk=indicator_set_id)
    from foodrisk.core.services import jobs

    title = _("Full scoring run after activating %(code)s v%(version)s") % {
        "code": indicator_set.code, "version": indicator_set.version}
    user = User.objects.filter(pk=user_id).first() if user_id else None
    return {"job": jobs.start("scoring.full", user=user, params={}, title=title).pk}


def on_job_abandoned(sender, job=None, **kwargs):
    from . import services
    from .models import ScoringRun

    for run in ScoringRun.objects.filter(job=job, status="running").only("pk", "kind", "as_of"):
        services.mark_abandoned(run)
