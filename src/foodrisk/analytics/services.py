"""Writes of analytics: the monthly grade snapshot (GradeSnapshot).

- refresh_month(): the current month from the published grades (Enterprise.current_grade), one GROUP BY over
  the enterprises; run by the reaction to scoring's grade_changed (a run published, an adjustment approved or
  ended), in the worker, so a page never counts enterprises itself.
- backfill(): every month from the first grade change to the last month, point in time from the grade history
  (GradeChange), then the current month as above. A change counts from the day its grade describes: a run's
  as-of date (a run scoring a past date published today says what the grade was then), else the day it was
  published. The region and business form are the enterprise's current ones (the archive keeps no history of
  them). Idempotent: each month's rows are replaced.
"""

import datetime as dt
import logging
from collections import Counter

from django.db import connection, transaction
from django.db.models import Case, Count, DateField, F, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from foodrisk.core.services import audit
from foodrisk.enterprises.models import Enterprise
from foodrisk.scoring.models import GradeChange

from .models import GradeSnapshot

logger = logging.getLogger(__name__)


def month_start(day):
    return day.replace(day=1)


def add_months(month, n):
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def current_month():
    return month_start(timezone.localdate())


SNAPSHOT_LOCK = 14_0001  # PostgreSQL advisory lock: two refreshes of a month (a run, an adjustment) take turns


def _lock():
    """Inside a transaction: wait for any other refresh of the snapshot (PostgreSQL; SQLite has one writer)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SNAPSHOT_LOCK])


def _replace(month, counts, now):
    """The month's rows become `counts` ({(region code, business form, grade): n}, zeros dropped)."""
    with transaction.atomic():
        _lock()
        GradeSnapshot.objects.filter(month=month).delete()
        GradeSnapshot.objects.bulk_create(
            [GradeSnapshot(month=month, region_id=region, business_form=form, grade=grade, count=n, computed_at=now)
             for (region, form, grade), n in sorted(counts.items()) if n > 0], batch_size=2000)
    return sum(1 for n in counts.values() if n > 0)


def live_counts():
    """{(region code, business form, grade): enterprises} of the published grades now."""
    rows = (Enterprise.objects.exclude(current_grade="").order_by()
            .values_list("region_id", "business_form", "current_grade").annotate(n=Count("id")))
    return {(region, form, grade): n for region, form, grade, n in rows}


def refresh_month(month=None):
    """The current month's snapshot from the published grades; returns the number of rows written. The grades
    are counted after the lock, so of two refreshes at once the later one writes the later counts."""
    with transaction.atomic():
        _lock()
        return _replace(month or current_month(), live_counts(), timezone.now())


def effective_day():
    """The day a grade change's grade describes (an expression over GradeChange): its run's as-of date when that
    lies before the day it was published, else the day it was published (in local time)."""
    published = TruncDate("at")
    return Case(When(run__as_of__isnull=False, run__as_of__lt=published, then=F("run__as_of")),
                default=published, output_field=DateField())


def _history():
    """(enterprise id, new grade, effective date) of every grade change, in the order they took effect."""
    return (GradeChange.objects.annotate(effective=effective_day()).order_by("effective", "at", "pk")
            .values_list("enterprise_id", "new_grade", "effective").iterator(chunk_size=20_000))


@transaction.atomic
def backfill(*, user=None, write=None):
    """Rebuild every month of the snapshot up to the current one (see the module), in one transaction with its
    audit entry. Returns {months, rows}."""
    now, this_month = timezone.now(), current_month()
    places = {pk: (region, form) for pk, region, form in
              Enterprise.objects.order_by().values_list("pk", "region_id", "business_form").iterator(chunk_size=20_000)}
    grades, counts = {}, Counter()
    month, months, rows = None, 0, 0

    def close(until):
        """Write every month from `month` up to (not including) `until` with the counts as they stand."""
        nonlocal month, months, rows
        while month is not None and month < until:
            rows += _replace(month, counts, now)
            months += 1
            if write:
                write(f"{month:%Y-%m}: {sum(counts.values())} graded enterprises")
            month = add_months(month, 1)

    for enterprise_id, grade, effective in _history():
        place = places.get(enterprise_id)
        if place is None:
            continue
        changed_month = min(month_start(effective), this_month)
        if month is None:
            month = changed_month
        close(changed_month)
        old = grades.get(enterprise_id)
        if old:
            counts[(*place, old)] -= 1
        grades[enterprise_id] = grade
        counts[(*place, grade)] += 1
    close(this_month)
    rows += refresh_month(this_month)
    months += 1
    stale = GradeSnapshot.objects.filter(month__gt=this_month).delete()[0]  # a clock set back: nothing after now
    audit.record("analytics.gradesnapshot.run", user=user, object_type="analytics.gradesnapshot",
                 details={"months": months, "rows": rows, "removed_after_now": stale})
    return {"months": months, "rows": rows}
