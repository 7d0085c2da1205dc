"""Writes of analytics: the monthly snapshot — per enterprise (EnterpriseMonth: grade, score, region, business
form, key supervision at the month's end), its food categories as rows (EnterpriseCategory) and the counts the
pages read (GradeSnapshot, per region, form, category, key supervision and grade), with the months it is
complete for (SnapshotMonth).

- refresh_month(): the current month from the published grades (Enterprise.current_grade / current_score),
  INSERT … SELECT and GROUP BY in the database; run by the reaction to scoring's grade_changed (a run published,
  an adjustment approved or ended), in the worker, so a page never counts enterprises itself.
- backfill(): every month from the first grade change to the last month, point in time from the grade history
  (GradeChange) and the published scores (Score), then the current month as above. A change counts from the day
  its grade describes: a run's as-of date (a run scoring a past date published today says what the grade was
  then), else the day it was published. The region, business form, key supervision and food categories are the
  enterprise's current ones (the archive keeps no history of them). Idempotent: every row is rewritten.
- the monthly inspection counts (InspectionMonth) of the supervision page: per enterprise, month and the grade in
  force on the inspections' days (grade_in_force: the grade held at the end of the day before), built in full by
  the first refresh or a backfill, then per enterprise when its inspection records change (records_changed) or a
  run published after the day it scores moves inspections already counted to another grade (inspections_regraded).
"""

import datetime as dt
import logging

from django.db import connection, transaction
from django.db.models import Case, CharField, Count, DateField, Exists, F, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from foodrisk.core.services import audit
from foodrisk.enterprises.models import Enterprise
from foodrisk.records.choices import InspectionResult
from foodrisk.records.models import Inspection
from foodrisk.scoring.models import GradeChange, Score

from .models import (
    EnterpriseCategory,
    EnterpriseMonth,
    GradeSnapshot,
    InspectionMonth,
    Precomputed,
    SnapshotMonth,
)

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


ALL_CATEGORIES = "*"  # GradeSnapshot.food_category of the rows counting every enterprise once ("": none listed)


def _table(model):
    return connection.ops.quote_name(model._meta.db_table)


def _write_categories():
    """EnterpriseCategory from Enterprise.food_categories (one row per listed category, "" for an enterprise
    listing none), in the database: a JSON array expanded by the vendor's own function."""
    ent, cat = _table(Enterprise), _table(EnterpriseCategory)
    if connection.vendor == "postgresql":
        expand = (f"SELECT DISTINCT e.id, substr(c.value, 1, 64) FROM {ent} e CROSS JOIN LATERAL "
                  "jsonb_array_elements_text(CASE WHEN jsonb_typeof(e.food_categories) = 'array' "
                  "THEN e.food_categories ELSE '[]'::jsonb END) AS c(value)")
        empty = (f"SELECT e.id, '' FROM {ent} e WHERE jsonb_typeof(e.food_categories) <> 'array' "
                 "OR jsonb_array_length(e.food_categories) = 0")
    else:
        expand = (f"SELECT DISTINCT e.id, substr(CAST(j.value AS TEXT), 1, 64) FROM {ent} e, "
                  "json_each(CASE WHEN json_type(e.food_categories) = 'array' THEN e.food_categories ELSE '[]' END) j")
        empty = (f"SELECT e.id, '' FROM {ent} e WHERE json_type(e.food_categories) IS NOT 'array' "
                 "OR json_array_length(e.food_categories) = 0")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {cat}")
        cursor.execute(f"INSERT INTO {cat} (enterprise_id, category) {expand}")
        cursor.execute(f"INSERT INTO {cat} (enterprise_id, category) {empty}")


def _aggregate(month, now):
    """The month's GradeSnapshot rows from its EnterpriseMonth rows: every enterprise under ALL_CATEGORIES, and
    once under each of its categories. Returns the number of rows written."""
    em, cat, snap = _table(EnterpriseMonth), _table(EnterpriseCategory), _table(GradeSnapshot)
    columns = ("month, region_id, business_form, food_category, key_supervision, grade, count, score_sum, scored, "
               "computed_at")
    sums = "COUNT(*), COALESCE(SUM(m.score), 0), COUNT(m.score), %s"
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {snap} WHERE month = %s", [month])
        cursor.execute(f"INSERT INTO {snap} ({columns}) SELECT m.month, m.region_id, m.business_form, %s, "
                       f"m.key_supervision, m.grade, {sums} FROM {em} m WHERE m.month = %s "
                       "GROUP BY m.month, m.region_id, m.business_form, m.key_supervision, m.grade",
                       [ALL_CATEGORIES, now, month])
        cursor.execute(f"INSERT INTO {snap} ({columns}) SELECT m.month, m.region_id, m.business_form, c.category, "
                       f"m.key_supervision, m.grade, {sums} FROM {em} m JOIN {cat} c ON c.enterprise_id = "
                       "m.enterprise_id WHERE m.month = %s "
                       "GROUP BY m.month, m.region_id, m.business_form, c.category, m.key_supervision, m.grade",
                       [now, month])
    SnapshotMonth.objects.update_or_create(month=month, defaults={"computed_at": now})
    return GradeSnapshot.objects.filter(month=month).count()


def _write_live_month(month):
    """The month's EnterpriseMonth rows from the published grades and scores now (one INSERT … SELECT)."""
    em, ent = _table(EnterpriseMonth), _table(Enterprise)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {em} WHERE month = %s", [month])
        cursor.execute(f"INSERT INTO {em} (month, enterprise_id, region_id, business_form, key_supervision, grade, "
                       f"score, year_before_grade) SELECT %s, id, region_id, business_form, key_supervision, "
                       f"current_grade, current_score, '' FROM {ent} WHERE current_grade <> ''", [month])


INSPECTION_MONTHS = "inspection_months"  # Precomputed name of InspectionMonth


def _month_of(column):
    """SQL: the first day of the month of a date column (the vendor's own function)."""
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


def write_inspection_months(enterprise_ids=None):
    """InspectionMonth rows of the given enterprises (None: all) from their inspection records: each inspection
    with the grade in force on its day (grade_in_force), grouped by enterprise, month and that grade in the
    database, with the previous month the enterprise was inspected under the same grade (LAG). Returns the number
    of enterprises asked for."""
    im, ent = _table(InspectionMonth), _table(Enterprise)
    month = _month_of("x.inspected_on")
    chunks = [None] if enterprise_ids is None else [sorted(enterprise_ids)[n:n + 1000]
                                                    for n in range(0, len(enterprise_ids), 1000)]
    with transaction.atomic(), connection.cursor() as cursor:
        for ids in chunks:
            records = Inspection.objects.order_by()
            if ids is None:
                cursor.execute(f"DELETE FROM {im}")
            else:
                records = records.filter(enterprise_id__in=ids)
                cursor.execute(f"DELETE FROM {im} WHERE enterprise_id IN ({', '.join(['%s'] * len(ids))})", ids)
            # the grade lookup is the ORM's (the effective day of a change is the same expression everywhere)
            inner, params = (with_grade_in_force(records, F("inspected_on"))
                             .values("enterprise_id", "inspected_on", "result", "held").query.sql_with_params())
            cursor.execute(
                f"INSERT INTO {im} (month, enterprise_id, region_id, business_form, key_supervision, grade, "
                "inspections, failed, previous_month) SELECT g.month, g.enterprise_id, e.region_id, e.business_form, "
                "e.key_supervision, g.held, g.n, g.failed, "
                "LAG(g.month) OVER (PARTITION BY g.enterprise_id, g.held ORDER BY g.month) "
                f"FROM (SELECT x.enterprise_id, {month} AS month, x.held, COUNT(*) AS n, "
                "SUM(CASE WHEN x.result = %s THEN 1 ELSE 0 END) AS failed "
                f"FROM ({inner}) x GROUP BY x.enterprise_id, {month}, x.held) g JOIN {ent} e ON e.id = g.enterprise_id"
                # a full build lays the rows out month by month: a period's rows are then neighbouring pages
                + (" ORDER BY g.month, e.region_id" if ids is None else ""),
                [InspectionResult.FAIL, *params])
    return None if enterprise_ids is None else len(enterprise_ids)


def _keep_inspection_months(now):
    """Built in full once (then kept current per enterprise by records_changed and inspections_regraded); after
    that only the region, business form and key supervision each row carries are brought to the enterprises'
    current ones (the archive keeps no history of them). The grade stays: it is the one in force on the days of
    the inspections, which a grade published now does not change."""
    if not Precomputed.objects.filter(name=INSPECTION_MONTHS).exists():
        write_inspection_months()
        Precomputed.objects.update_or_create(name=INSPECTION_MONTHS, defaults={"computed_at": now})
        return
    im, ent = _table(InspectionMonth), _table(Enterprise)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {im} SET region_id = e.region_id, "
                       "business_form = e.business_form, key_supervision = e.key_supervision "
                       f"FROM {ent} e WHERE e.id = {im}.enterprise_id AND ({im}.region_id <> e.region_id OR "
                       f"{im}.business_form <> e.business_form OR {im}.key_supervision <> e.key_supervision)")


def inspections_changed(enterprise_ids):
    """records_changed for inspections: those enterprises' InspectionMonth rows again (once built in full)."""
    if not Precomputed.objects.filter(name=INSPECTION_MONTHS).exists():
        return None
    return write_inspection_months(enterprise_ids)


def inspections_regraded(run_id):
    """grade_changed of a run scoring a day before the day it was published (within the current month: an earlier
    month is rebuilt by backfill): its changes take effect from that day, so the inspections dated after it, already
    counted under the grade before, now fall under the new one — those enterprises' rows again. A change published
    for today (any adjustment, a run of today) is in force from tomorrow and moves no inspection recorded so far."""
    if not Precomputed.objects.filter(name=INSPECTION_MONTHS).exists():
        return None
    later = Inspection.objects.filter(enterprise_id=OuterRef("enterprise_id"), inspected_on__gt=OuterRef("effective"))
    ids = set(GradeChange.objects.filter(run_id=run_id).annotate(effective=effective_day()).filter(Exists(later))
              .values_list("enterprise_id", flat=True))
    return write_inspection_months(ids) if ids else 0


def _link_year_before(month):
    """Copies into the month's EnterpriseMonth rows the grade and score of the same enterprise twelve months
    earlier (nothing when that month has no snapshot: the fields stay empty and the pages join instead)."""
    em = _table(EnterpriseMonth)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {em} SET year_before_grade = a.grade, year_before_score = a.score FROM {em} a "
                       f"WHERE {em}.month = %s AND a.month = %s AND a.enterprise_id = {em}.enterprise_id",
                       [month, add_months(month, -12)])


def live_counts():
    """{(region code, business form, grade): enterprises} of the published grades now."""
    rows = (Enterprise.objects.exclude(current_grade="").order_by()
            .values_list("region_id", "business_form", "current_grade").annotate(n=Count("id")))
    return {(region, form, grade): n for region, form, grade, n in rows}


def refresh_month(month=None):
    """The current month's snapshot (per enterprise, the categories, the counts) from the published grades;
    returns the number of GradeSnapshot rows written. The grades are read after the lock, so of two refreshes
    at once the later one writes the later state."""
    with transaction.atomic():
        _lock()
        month = month or current_month()
        now = timezone.now()
        _write_categories()
        _write_live_month(month)
        _link_year_before(month)
        _keep_inspection_months(now)
        return _aggregate(month, now)


def effective_day():
    """The day a grade change's grade describes (an expression over GradeChange): its run's as-of date when that
    lies before the day it was published, else the day it was published (in local time)."""
    published = TruncDate("at")
    return Case(When(run__as_of__isnull=False, run__as_of__lt=published, then=F("run__as_of")),
                default=published, output_field=DateField())


def _grade_held(ref, **day):
    """An expression: the new grade of the enterprise OuterRef(ref)'s last change whose effective day passes the
    lookup in `day` (effective__lte / effective__lt), "" when none does."""
    changes = (GradeChange.objects.filter(enterprise=OuterRef(ref)).annotate(effective=effective_day())
               .filter(**day).order_by("-effective", "-at", "-pk").values("new_grade")[:1])
    return Coalesce(Subquery(changes), Value(""), output_field=CharField())


def grade_on(day, ref="pk"):
    """An expression: the published grade an enterprise held at the end of `day` ("" before its first grade) —
    its last grade change effective on or before that day (effective_day, as the monthly snapshot)."""
    return _grade_held(ref, effective__lte=day)


def grade_in_force(day, ref="enterprise_id"):
    """An expression: the grade in force when the enterprise was inspected or ordered to rectify on `day` (a date
    or an OuterRef to one): the grade it held at the end of the day before, "" when not graded by then. Not the
    day's own: a run scoring a day counts that day's records (scoring's as-of is inclusive), so a grade effective
    on the day of a failed inspection is the grade that failure brought — the circle the supervision figures
    must not draw."""
    return _grade_held(ref, effective__lt=day)


def with_grade_in_force(qs, day):
    """qs (inspections, tasks: rows with an enterprise) annotated `held`, the grade in force on each row's day
    (`day`: an expression over qs, F("inspected_on"), TruncDate("created_at"))."""
    return qs.alias(made_on=day).annotate(held=grade_in_force(OuterRef("made_on")))


def _history():
    """(enterprise id, new grade, effective date) of every grade change, in the order they took effect."""
    return (GradeChange.objects.annotate(effective=effective_day()).order_by("effective", "at", "pk")
            .values_list("enterprise_id", "new_grade", "effective").iterator(chunk_size=20_000))


def _scores():
    """(enterprise id, total score, as-of date) of every published score, in the order score_on reads them."""
    return (Score.objects.filter(run__published_at__isnull=False).order_by("as_of", "run_id")
            .values_list("enterprise_id", "total_score", "as_of").iterator(chunk_size=20_000))


class _Replay:
    """Walks a date-ordered stream, applying every item dated on or before a day."""

    def __init__(self, rows):
        self.rows, self.head = iter(rows), None
        self.head = next(self.rows, None)

    def until(self, day):
        while self.head is not None and self.head[2] <= day:
            yield self.head
            self.head = next(self.rows, None)


@transaction.atomic
def backfill(*, user=None, write=None):
    """Rebuild every month of the snapshot up to the current one (see the module), in one transaction with its
    audit entry: each past month's per-enterprise rows from the grade history and the published scores at the
    month's last day, then its counts; the current month from the published grades. Returns {months, rows}."""
    _lock()
    now, this_month = timezone.now(), current_month()
    places = {pk: (region, form, key) for pk, region, form, key in
              Enterprise.objects.order_by().values_list("pk", "region_id", "business_form", "key_supervision")
              .iterator(chunk_size=20_000)}
    first = GradeChange.objects.annotate(effective=effective_day()).order_by("effective").values_list(
        "effective", flat=True).first()
    EnterpriseMonth.objects.all().delete()
    GradeSnapshot.objects.all().delete()
    SnapshotMonth.objects.all().delete()
    Precomputed.objects.filter(name=INSPECTION_MONTHS).delete()
    _write_categories()
    grades, scores, history, scored = {}, {}, _Replay(_history()), _Replay(_scores())
    month, months, rows = (min(month_start(first), this_month) if first else this_month), 0, 0
    while month < this_month:
        last_day = add_months(month, 1) - dt.timedelta(days=1)
        grades.update((pk, grade) for pk, grade, _ in history.until(last_day))
        scores.update((pk, score) for pk, score, _ in scored.until(last_day))
        EnterpriseMonth.objects.bulk_create(
            [EnterpriseMonth(month=month, enterprise_id=pk, region_id=places[pk][0], business_form=places[pk][1],
                             key_supervision=places[pk][2], grade=grade, score=scores.get(pk))
             for pk, grade in grades.items() if grade and pk in places], batch_size=5000)
        _link_year_before(month)
        rows += _aggregate(month, now)
        months += 1
        if write:
            write(f"{month:%Y-%m}: {sum(1 for g in grades.values() if g)} graded enterprises")
        month = add_months(month, 1)
    _write_live_month(this_month)
    _link_year_before(this_month)
    _keep_inspection_months(now)
    rows += _aggregate(this_month, now)
    months += 1
    audit.record("analytics.gradesnapshot.run", user=user, object_type="analytics.gradesnapshot",
                 details={"months": months, "rows": rows})
    return {"months": months, "rows": rows}
