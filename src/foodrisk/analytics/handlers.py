"""Analytics reacts to scoring's grade_changed (subscribed in AnalyticsConfig.ready through core.outbox): the
current month's snapshot is rewritten from the published grades. A run scoring a day of an earlier month says
what the grades were then, so the months since are rebuilt from the history (services.backfill) instead. Runs in
the worker, may run twice without harm (the rows are replaced). Inspection records written (core's
records_changed) rewrite those enterprises' monthly inspection counts; so does a run of this month published after
the day it scores, for the enterprises it regraded that were inspected since (their grade in force moved)."""

from django.utils import timezone


def on_grade_changed(run_id=None, adjustment_id=None, changes=None):
    from foodrisk.scoring.models import ScoringRun

    from . import services

    as_of = ScoringRun.objects.filter(pk=run_id).values_list("as_of", flat=True).first() if run_id else None
    if as_of is not None and services.month_start(as_of) < services.current_month():
        return {"backfill": services.backfill()}
    out = {"snapshot_rows": services.refresh_month()}
    if as_of is not None and as_of < timezone.localdate():  # in force from a day already past: see the service
        out["inspection_months"] = services.inspections_regraded(run_id)
    return out


def on_records_changed(kind=None, enterprise_ids=()):
    """Inspection records written: those enterprises' monthly inspection counts again (the supervision page)."""
    if kind != "inspections" or not enterprise_ids:
        return None
    from . import services

    return {"inspection_months": services.inspections_changed(enterprise_ids)}
