"""Import totals for Prometheus, read from the batches table (right whichever worker imported)."""

from django.db.models import Sum
from prometheus_client.core import CounterMetricFamily

from .models import Batch


def import_metrics():
    rows = CounterMetricFamily("foodrisk_imported_rows", "Rows read by finished import batches, by outcome.",
                               labels=["outcome"])
    totals = Batch.objects.filter(status__in=["succeeded", "failed"]).aggregate(
        read=Sum("rows_read"), quarantined=Sum("quarantined"))
    for outcome in ("read", "quarantined"):
        rows.add_metric([outcome], totals[outcome] or 0)
    yield rows
