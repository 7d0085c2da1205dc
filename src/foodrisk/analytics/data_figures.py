"""Data freshness and quality over time, read from the ingest batch tables (one row per imported file, its counts
kept on the row), never from the quarantined rows one by one except for the open ones counted per kind.

- freshness(): per source and record kind, the last successful import, its age in days, the batches, the rows
  read and quarantined (each row opens the batch list of exactly that source and kind);
- by_month(): per month of the period, the batches started, the rows read and quarantined, the quarantine share
  and the failed batches;
- open_quarantine(): the quarantined rows still open, per record kind.
Rows are the person's (Batch.objects.restrict: the view permission and the batch's region in his scope); a region
asked for narrows them to the batches of that subtree (a batch without a region is then left out)."""

from collections import defaultdict

from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from foodrisk.ingest.choices import BatchStatus, Kind, QuarantineStatus
from foodrisk.ingest.models import Batch, QuarantinedRow

from .services import month_start
from .stats import _period, share


def _batches(user, query=None):
    qs = Batch.objects.restrict(user, "view").order_by()
    if query is not None and query.region is not None:
        qs = qs.filter(region__code__startswith=query.region.prefix)
    return qs


def freshness(user, query=None, now=None):
    """[{source, source_name, kind, last_import, age_days, batches, rows_read, quarantined, quarantine_share,
    failed}] — the stalest first (never imported successfully, then the oldest last import)."""
    now = now or timezone.now()
    kinds = dict(Kind.choices)
    rows = []
    for source, name, kind, last, batches, read, quarantined, failed in (
            _batches(user, query).values_list("source_id", "source__name", "kind")
            .annotate(last=Max("finished_at", filter=Q(status=BatchStatus.SUCCEEDED)), batches=Count("pk"),
                      read=Sum("rows_read"), quarantined=Sum("quarantined"),
                      failed=Count("pk", filter=Q(status=BatchStatus.FAILED)))):
        rows.append({"source": source, "source_name": name, "kind": kind, "kind_label": kinds.get(kind, kind),
                     "last_import": last, "age_days": None if last is None else round((now - last).total_seconds()
                                                                                      / 86400, 1),
                     "batches": batches, "rows_read": read or 0, "quarantined": quarantined or 0,
                     "quarantine_share": share(quarantined or 0, read or 0), "failed": failed})
    rows.sort(key=lambda r: (r["last_import"] is not None, r["last_import"] or now, r["source_name"], r["kind"]))
    return rows


def by_month(user, query):
    """[{month, batches, rows_read, quarantined, quarantine_share, failed}] for every month of the period (by the
    batch's creation time in Beijing time), the months without a batch included."""
    start, end = _period(query)
    counted = defaultdict(lambda: {"batches": 0, "rows_read": 0, "quarantined": 0, "failed": 0})
    for month, batches, read, quarantined, failed in (
            _batches(user, query).filter(created_at__gte=start, created_at__lt=end)
            .annotate(month=TruncMonth("created_at")).values_list("month")
            .annotate(batches=Count("pk"), read=Sum("rows_read"), quarantined=Sum("quarantined"),
                      failed=Count("pk", filter=Q(status=BatchStatus.FAILED)))):
        row = counted[month_start(timezone.localtime(month).date() if hasattr(month, "tzinfo") else month)]
        row.update(batches=row["batches"] + batches, rows_read=row["rows_read"] + (read or 0),
                   quarantined=row["quarantined"] + (quarantined or 0), failed=row["failed"] + failed)
    out = []
    for month in query.months():
        row = counted[month]
        out.append({"month": month, **row, "quarantine_share": share(row["quarantined"], row["rows_read"])})
    return out


def open_quarantine(user, query=None):
    """[{kind, kind_label, open}] the quarantined rows waiting for a correction, per record kind."""
    qs = QuarantinedRow.objects.restrict(user, "view").order_by().filter(status=QuarantineStatus.OPEN)
    if query is not None and query.region is not None:
        qs = qs.filter(batch__region__code__startswith=query.region.prefix)
    kinds = dict(Kind.choices)
    return [{"kind": kind, "kind_label": kinds.get(kind, kind), "open": n}
            for kind, n in qs.values_list("batch__kind").annotate(n=Count("pk")).order_by("-n", "batch__kind")]
