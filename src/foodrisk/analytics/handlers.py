"""Analytics reacts to scoring's grade_changed (subscribed in AnalyticsConfig.ready through core.outbox): the
current month's grade snapshot is recounted from the published grades. Runs in the worker, may run twice
without harm (the month's rows are replaced)."""


def on_grade_changed(run_id=None, adjustment_id=None, changes=None):
    from . import services

    return {"snapshot_rows": services.refresh_month()}
