"""The figures of the statistics pages, read for one person (the page and the API call the same functions).

Grades come from the precomputed monthly snapshot (GradeSnapshot), never from the enterprises or their records.
A month without snapshot rows had no grade change: it holds the last earlier month's figures. The region ×
grade matrix is the snapshot of the last month asked for, grouped by the children of the region asked for (or
of the person's jurisdiction); warning figures are counted over the alerts raised in the period.

The pages behind the dashboard read the snapshot where it is kept (SnapshotMonth lists the months), never a
record table row by row:
- migration(), largest_rise(): a day that is a month's last day or today is read from the per-enterprise snapshot
  (EnterpriseMonth): one join of the two months in the database, counted by (first grade, second grade) or
  ordered by the rise. Any other day (or a month without snapshot) falls back to the history, point in time:
  the grade history (GradeChange) and the published scores (Score), one indexed lookup per enterprise;
- ranking_by_form() / ranking_by_category() and supervision()'s enterprise counts: the current month's counts
  (GradeSnapshot, with score sums), else the enterprises' published grades and scores now; highest_risk(): the
  enterprises' current scores;
- alert_figures(): the warnings raised in the period, their steps and timestamps, per responsible organisation;
- supervision(): per grade, the frequency the active supervision profile asks for (the enterprises' grade now)
  against the inspections of the period's months under the grade in force on their days (InspectionMonth once
  built, else the inspection records dated in the period), coverage, non-compliant share, rectification orders
  (the tasks due in the period, under the grade in force when they were made).
Every figure is filtered like the page: the person's scope, a region subtree, a business form, a food category
(the enterprises listing it; the snapshot's category rows), a grade.
"""

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from types import SimpleNamespace

from django.db import connection
from django.db.models import Count, Exists, F, FloatField, Max, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from foodrisk.alerts.choices import AlertStatus, EventAction
from foodrisk.alerts.models import Alert, AlertEvent
from foodrisk.core.models import Organisation, Region
from foodrisk.enterprises.filtersets import listing_category
from foodrisk.enterprises.models import Enterprise
from foodrisk.records.choices import InspectionResult
from foodrisk.records.models import Inspection
from foodrisk.scoring.models import Score
from foodrisk.supervision.choices import TaskKind, TaskStatus
from foodrisk.supervision.models import SupervisionProfile, Task

from .models import (
    EnterpriseCategory,
    EnterpriseMonth,
    GradeSnapshot,
    InspectionMonth,
    Precomputed,
    SnapshotMonth,
)
from .services import (
    ALL_CATEGORIES,
    INSPECTION_MONTHS,
    add_months,
    current_month,
    grade_on,
    month_start,
    with_grade_in_force,
)

GRADES = ("A", "B", "C", "D")


def root_region(user, query):
    """The region the figures are about: the one asked for, else the person's jurisdiction (None: everywhere)."""
    if query.region is not None:
        return query.region
    if user.scope_prefix:
        return Region.objects.filter(pk=user.scope_code).first()
    return None


def _prefix(user, query):
    root = root_region(user, query)
    return root.prefix if root is not None else (user.scope_prefix or "")


def _narrowed(qs, user, query, *, via="", grade_field="current_grade", category="enterprise"):
    """qs narrowed to the query's region subtree, business form, food category and grade. via: the path from qs's
    model to the enterprise's fields ("enterprise__"; "" when they are its own); grade_field None: the grade is
    not filtered. category: how qs knows the categories — "enterprise" (the enterprise's list), "snapshot"
    (GradeSnapshot's own column, ALL_CATEGORIES without a filter), "rows" (EnterpriseCategory by enterprise_id)."""
    if category == "snapshot":
        qs = qs.filter(food_category=query.food_category or ALL_CATEGORIES)
    elif query.food_category and category == "rows":
        qs = qs.filter(enterprise_id__in=EnterpriseCategory.objects.filter(category=query.food_category)
                       .values("enterprise_id"))
    elif query.food_category:
        qs = listing_category(qs, query.food_category, via)
    where = {}
    prefix = _prefix(user, query)
    if prefix:
        where[f"{via}region__code__startswith"] = prefix
    if query.business_form:
        where[f"{via}business_form"] = query.business_form
    if query.grade and grade_field:
        where[f"{via}{grade_field}"] = query.grade
    return qs.filter(**where)


def _snapshots(user, query):
    return _narrowed(GradeSnapshot.objects.in_scope(user).order_by(), user, query, grade_field="grade",
                     category="snapshot")


def source_months(query):
    """{month asked for: the snapshot month whose figures it shows, or None before the first snapshot}."""
    first = GradeSnapshot.objects.filter(month__lte=query.start).aggregate(m=Max("month"))["m"]
    have = set(GradeSnapshot.objects.filter(month__gt=query.start, month__lte=query.end).order_by()
               .values_list("month", flat=True).distinct())
    out, last = {}, first
    for month in query.months():
        if month in have or month == first:
            last = month
        out[month] = last
    return out


def _row(counts):
    row = {g: counts.get(g, 0) for g in GRADES}
    row["total"] = sum(row.values())
    return row


def trend(user, query):
    """[{month, A, B, C, D, total}] for every month of the period that has figures (oldest first)."""
    sources = source_months(query)
    wanted = {m for m in sources.values() if m is not None}
    sums = defaultdict(dict)
    for month, grade, n in (_snapshots(user, query).filter(month__in=wanted).values_list("month", "grade")
                            .annotate(n=Sum("count"))):
        sums[month][grade] = n
    return [{"month": month, **_row(sums.get(source, {}))} for month, source in sources.items() if source]


def _child_of(children, code):
    for child in children:
        if code.startswith(child.prefix):
            return child
    return None


def matrix(user, query):
    """The grades of the last month asked for, one row per child region of the region asked for (or of the
    jurisdiction): {month, root, rows: [{region, name, A…D, total, exact}]}. `exact`: the row's region subtree
    holds exactly the enterprises counted in it (false only for a row of enterprises registered on the parent
    region itself beside its children), so a drill-down to the enterprise list by region subtree lists them."""
    source = source_months(query).get(query.end)
    root = root_region(user, query)
    if source is None:
        return {"month": None, "root": root, "rows": []}
    children = list(Region.objects.filter(parent=root) if root is not None else Region.objects.filter(parent=None))
    children.sort(key=lambda r: -len(r.prefix))  # the most specific prefix first
    counts = defaultdict(lambda: defaultdict(int))
    for code, grade, n in (_snapshots(user, query).filter(month=source).values_list("region_id", "grade")
                           .annotate(n=Sum("count"))):
        counts[_child_of(children, code) or root][grade] += n
    rows = [{"region": region, **_row(grades)} for region, grades in counts.items()]
    rows.sort(key=lambda r: (r["region"] is not None and root is not None and r["region"].pk == root.pk,
                             r["region"].pk if r["region"] is not None else ""))
    for row in rows:
        row["exact"] = row["region"] is not None and (len(rows) == 1 or root is None or row["region"].pk != root.pk)
    return {"month": source, "root": root, "rows": rows}


def _period(query):
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(query.start, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(add_months(query.end, 1), dt.time.min, tzinfo=zone)
    return start, end


def quantile(values, q):
    """The q-quantile of sorted values, linear between the closest ranks (as numpy's default)."""
    if not values:
        return None
    position = (len(values) - 1) * q
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def _alerts(user, query):
    return _narrowed(Alert.objects.in_scope(user).order_by(), user, query, via="enterprise__")


def _days(start, end):
    return (end - start).total_seconds() / 86400


def _spread(durations, prefix):
    durations = sorted(durations)
    median, p90 = quantile(durations, 0.5), quantile(durations, 0.9)
    return {f"{prefix}_median": None if median is None else round(median, 1),
            f"{prefix}_p90": None if p90 is None else round(p90, 1)}


def share(part, whole):
    """part / whole in per cent, one decimal (None: nothing to divide by)."""
    return round(100 * part / whole, 1) if whole else None


def _went(action):
    return Exists(AlertEvent.objects.filter(alert=OuterRef("pk"), action=action))


def alert_figures(user, query):
    """The warnings raised in the period (a cohort, so that each figure lists its alerts): how many went through
    confirming, dismissing, closing (by now); the days from raising to review, to dispatch and to closing
    (median, 90th percentile); how many were handled past their deadline (alerts.late: closed or dismissed
    after it, or open after it) — in all and per responsible organisation (dispatched to, else raised for)."""
    start, end = _period(query)
    cohort = _alerts(user, query).filter(raised_at__gte=start, raised_at__lt=end)
    late = set(cohort.late().values_list("pk", flat=True))
    rows = (cohort.annotate(org=Coalesce("assigned_organisation", "organisation"),
                            confirmed=_went(EventAction.CONFIRM), dismissed=_went(EventAction.DISMISS),
                            closed=_went(EventAction.CLOSE))
            .values_list("pk", "org", "raised_at", "reviewed_at", "dispatched_at", "closed_at", "status",
                         "confirmed", "dismissed", "closed"))
    total = {"raised": 0, "confirmed": 0, "dismissed": 0, "closed": 0, "late": 0}
    review, dispatch, close = [], [], []
    orgs = defaultdict(lambda: {"raised": 0, "closed": 0, "late": 0, "close": []})
    for pk, org, raised, reviewed, dispatched, closed_at, status, confirmed, dismissed, closed in rows:
        total["raised"] += 1
        total["confirmed"] += confirmed
        total["dismissed"] += dismissed
        total["closed"] += closed
        total["late"] += pk in late
        row = orgs[org]
        row["raised"] += 1
        row["closed"] += closed
        row["late"] += pk in late
        if reviewed:
            review.append(_days(raised, reviewed))
        if dispatched:
            dispatch.append(_days(raised, dispatched))
        if closed and closed_at and status == AlertStatus.CLOSED:
            close.append(_days(raised, closed_at))
            row["close"].append(_days(raised, closed_at))
    names = Organisation.objects.in_bulk([pk for pk in orgs if pk is not None])
    organisations = []
    for pk, row in orgs.items():
        organisations.append({"organisation": names.get(pk), "raised": row["raised"], "closed": row["closed"],
                              "late": row["late"], "late_share": share(row["late"], row["raised"]),
                              **_spread(row["close"], "days_to_close")})
    organisations.sort(key=lambda r: (-(r["late_share"] or 0), -r["raised"], r["organisation"] is None,
                                      r["organisation"].name if r["organisation"] else ""))
    return {**total, "late_share": share(total["late"], total["raised"]), "closed_measured": len(close),
            "reviewed_measured": len(review), "dispatched_measured": len(dispatch),
            **_spread(review, "days_to_review"), **_spread(dispatch, "days_to_dispatch"),
            **_spread(close, "days_to_close"), "organisations": organisations}


# --- the enterprises now and on a day (grade history, published scores) ---------------------------------------
NOT_GRADED = "none"  # the first day's "grade" of an enterprise graded only later


def _enterprises(user, query, grade=True):
    """The enterprises the figures are about (scope, region subtree, business form, current grade)."""
    return _narrowed(Enterprise.objects.in_scope(user).order_by(), user, query,
                     grade_field="current_grade" if grade else None)


def score_on(day, ref="pk"):
    """An expression: the enterprise's published total score as of `day` (the last published run scoring a day on
    or before it); None when none had scored it by then."""
    scores = (Score.objects.filter(enterprise=OuterRef(ref), as_of__lte=day, run__published_at__isnull=False)
              .order_by("-as_of", "-run_id").values("total_score")[:1])
    return Subquery(scores, output_field=FloatField())


def snapshot_month(day):
    """The snapshot month holding the state at the end of `day`, or None: the month of a day that is its month's
    last, or today (the current month's rows are now) — and only a month the snapshot is complete for."""
    today = timezone.localdate()
    if day == today:
        month = current_month()
    elif day < today and (day + dt.timedelta(days=1)).day == 1:
        month = month_start(day)
    else:
        return None
    return month if SnapshotMonth.objects.filter(month=month).exists() else None


def _months(user, query, month):
    """EnterpriseMonth rows of one month, narrowed like the page (the grade is filtered by the caller)."""
    return _narrowed(EnterpriseMonth.objects.in_scope(user).order_by().filter(month=month), user, query,
                     grade_field=None, category="rows")


def _joined(user, query, first, second, select, where="", tail="", params=(), current_grade=False):
    """Runs `SELECT {select} FROM (second month's rows, narrowed) b LEFT JOIN (first month's rows) a` on the
    enterprise: one hash or merge join of two months in the database, not a lookup per enterprise.
    current_grade: the grade filter is on the enterprises' grade now (as the lists of the current state)."""
    rows = _months(user, query, second)
    if current_grade and query.grade:
        rows = rows.filter(enterprise__current_grade=query.grade)
    sql, inner = rows.values("enterprise_id", "grade", "score").query.sql_with_params()
    table = connection.ops.quote_name(EnterpriseMonth._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {select} FROM ({sql}) b LEFT JOIN {table} a ON a.enterprise_id = b.enterprise_id "
                       f"AND a.month = %s {where} {tail}", [*inner, first, *params])
        return cursor.fetchall()


def _year_apart(first, second):
    """True: the two snapshot months lie twelve months apart, so the second month's rows carry the first's
    grade and score (EnterpriseMonth.year_before_*): one month is read, nothing joined."""
    return add_months(second, -12) == first


def _migration_from_snapshot(user, query, first, second):
    """{(first grade or NOT_GRADED, second grade): n} from the two months' rows."""
    if _year_apart(first, second):
        qs = _months(user, query, second)
        if query.grade:
            qs = qs.filter(Q(year_before_grade=query.grade) | Q(grade=query.grade))
        return {(first or NOT_GRADED, second): n for first, second, n in
                qs.values_list("year_before_grade", "grade").annotate(n=Count("pk"))}
    where, params = "", ()
    if query.grade:
        where, params = "WHERE a.grade = %s OR b.grade = %s", (query.grade, query.grade)
    rows = _joined(user, query, first, second, "a.grade, b.grade, COUNT(*)", where,
                   "GROUP BY a.grade, b.grade", params)
    return {(first or NOT_GRADED, second): n for first, second, n in rows}


def migration(user, query):
    """The grades of the first day × those of the second day (point in time, from the grade history), of the
    enterprises graded on the second day: {first, second, rows: [{grade, cells: {grade: n}, total}],
    columns: {grade: n}, total, stayed, worse (a higher-risk grade), better, new (not graded on the first day)}.
    A grade filter keeps the enterprises holding that grade on either day."""
    first, second = snapshot_month(query.first_day), snapshot_month(query.second_day)
    if first is not None and second is not None:
        counts = _migration_from_snapshot(user, query, first, second)
    else:  # a day inside a past month, or no snapshot yet: point in time from the grade history
        qs = (_enterprises(user, query, grade=False)
              .annotate(first=grade_on(query.first_day), second=grade_on(query.second_day)).exclude(second=""))
        if query.grade:
            qs = qs.filter(Q(first=query.grade) | Q(second=query.grade))
        counts = {(first or NOT_GRADED, second): n
                  for first, second, n in qs.values_list("first", "second").annotate(n=Count("pk"))}
    rows = [{"grade": g, "cells": {to: counts.get((g, to), 0) for to in GRADES}} for g in (NOT_GRADED, *GRADES)]
    for row in rows:
        row["total"] = sum(row["cells"].values())
    moved = {"stayed": 0, "worse": 0, "better": 0, "new": 0}
    for (first, second), n in counts.items():
        kind = ("new" if first == NOT_GRADED else "stayed" if first == second
                else "worse" if second > first else "better")
        moved[kind] += n
    return {"first": query.first_day, "second": query.second_day, "rows": rows,
            "columns": {to: sum(row["cells"][to] for row in rows) for to in GRADES},
            "total": sum(counts.values()), **moved}


def _ranked(groups):
    """Rows {key, A…D, total, high (C + D), high_share, mean_score} from (key, grade, n, score sum, scored),
    the riskiest first (share of C + D, then mean score)."""
    rows = {}
    for key, grade, n, score_sum, scored in groups:
        row = rows.setdefault(key, {"key": key, **{g: 0 for g in GRADES}, "score_sum": 0.0, "scored": 0})
        row[grade] += n
        row["score_sum"] += score_sum or 0
        row["scored"] += scored
    out = []
    for row in rows.values():
        total = sum(row[g] for g in GRADES)
        high = row["C"] + row["D"]
        scored, score_sum = row.pop("scored"), row.pop("score_sum")
        out.append({**row, "total": total, "high": high, "high_share": share(high, total),
                    "mean_score": round(score_sum / scored, 1) if scored else None})
    out.sort(key=lambda r: (-(r["high_share"] or 0), -(r["mean_score"] or 0), str(r["key"])))
    return out


def _now_snapshot(user, query):
    """The current month's GradeSnapshot rows narrowed like the page, when the snapshot is kept for it (a grade
    published since refreshes it); None: count the enterprises instead (no snapshot yet, e.g. before a backfill)."""
    month = current_month()
    if not SnapshotMonth.objects.filter(month=month).exists():
        return None
    return _snapshots(user, query).filter(month=month)


SUMS = {"n": Sum("count"), "score_sum": Sum("score_sum"), "scored": Sum("scored")}


def ranking_by_form(user, query):
    """Business forms by risk now (current grades and scores)."""
    snap = _now_snapshot(user, query)
    if snap is not None:
        return _ranked(snap.values_list("business_form", "grade").annotate(**SUMS))
    groups = (_enterprises(user, query).exclude(current_grade="").values_list("business_form", "current_grade")
              .annotate(n=Count("pk"), score_sum=Sum("current_score"), scored=Count("current_score")))
    return _ranked(groups)


def ranking_by_category(user, query):
    """Food categories by risk now; an enterprise counts in each of its categories ("" = none given). From the
    snapshot's category rows; with a category filter (the enterprises listing it, split over all their
    categories) the enterprises are grouped by their list of categories in the database, the few lists split
    here."""
    snap = None if query.food_category else _now_snapshot(user, query)
    if snap is not None:
        rows = (_narrowed(GradeSnapshot.objects.in_scope(user).order_by(), user, query, grade_field="grade",
                          category=None).filter(month=current_month()).exclude(food_category=ALL_CATEGORIES)
                .values_list("food_category", "grade").annotate(**SUMS))
        return _ranked(rows)
    groups = (_enterprises(user, query).exclude(current_grade="").values_list("food_categories", "current_grade")
              .annotate(n=Count("pk"), score_sum=Sum("current_score"), scored=Count("current_score")))
    split = []
    for categories, grade, n, score_sum, scored in groups:
        for category in dict.fromkeys(categories or [""]):
            split.append((str(category), grade, n, score_sum, scored))
    return _ranked(split)


TOP_N = 10


def highest_risk(user, query, n=TOP_N):
    """The n enterprises with the highest risk score now: the current month's snapshot (an index ordered by
    score) once it is kept, else the enterprises' current scores."""
    if SnapshotMonth.objects.filter(month=current_month()).exists():
        months = _months(user, query, current_month()).exclude(score=None)
        if query.grade:
            months = months.filter(grade=query.grade)
        pks = list(months.order_by("-score", "enterprise_id").values_list("enterprise_id", flat=True)[:n])
        found = Enterprise.objects.select_related("region").in_bulk(pks)
        return [found[pk] for pk in pks if pk in found]
    return list(_enterprises(user, query).exclude(current_score=None).select_related("region")
                .order_by("-current_score", "pk")[:n])


def largest_rise(user, query, n=TOP_N):
    """The n enterprises whose published score rose most from the first day to the second (score_on): from the
    two snapshot months when both days have one (see snapshot_month), else from the published scores."""
    first, second = snapshot_month(query.first_day), snapshot_month(query.second_day)
    if first is not None and second is not None and _year_apart(first, second):
        months = _months(user, query, second).exclude(score=None).exclude(year_before_score=None)
        if query.grade:
            months = months.filter(enterprise__current_grade=query.grade)
        rise = F("score") - F("year_before_score")  # the rise index's expression, so its head is read
        rows = list(months.filter(score__gt=F("year_before_score")).order_by(rise.desc(), "enterprise_id")
                    .values_list("enterprise_id", "year_before_score", "score")[:n])
        found = Enterprise.objects.select_related("region").in_bulk([row[0] for row in rows])
        out = []
        for pk, before, after in rows:
            ent = found[pk]
            ent.before, ent.after, ent.rise = before, after, after - before
            out.append(ent)
        return out
    if first is not None and second is not None:
        rows = _joined(user, query, first, second, "b.enterprise_id, a.score, b.score, b.score - a.score",
                       "WHERE a.score IS NOT NULL AND b.score IS NOT NULL AND b.score - a.score > 0",
                       "ORDER BY b.score - a.score DESC, b.enterprise_id LIMIT %s", (n,), current_grade=True)
        found = Enterprise.objects.select_related("region").in_bulk([row[0] for row in rows])
        out = []
        for pk, before, after, rise in rows:
            ent = found[pk]
            ent.before, ent.after, ent.rise = before, after, rise
            out.append(ent)
        return out
    qs = (_enterprises(user, query).annotate(before=score_on(query.first_day), after=score_on(query.second_day))
          .filter(before__isnull=False, after__isnull=False).annotate(rise=F("after") - F("before"))
          .filter(rise__gt=0).select_related("region").order_by("-rise", "pk"))
    return list(qs[:n])


# --- supervision effectiveness -----------------------------------------------------------------------------------
def supervision(user, query):
    """Per grade, over the period — two kinds of grade, one per column group:
    - enterprises, key supervision, inspections required: the grade now (the current month's snapshot, else the
      enterprises' current grades) — the enterprises (key supervision among them) and the inspections the active
      supervision profile asks for (its per-year frequency × the period's months / 12; key-supervision
      enterprises at the upper frequency);
    - inspections done, enterprises inspected (coverage), non-compliant inspections (problem-finding rate): the
      grade in force on each inspection's day (services.grade_in_force: held at the end of the day before), so a
      failure that brought a D counts under the grade before it; an enterprise regraded in the period counts as
      inspected under each grade it was inspected under (in the C and D row once);
    - not inspected: the enterprises of the grade now with no inspection in the period (so with "enterprises
      inspected" it need not add up to the enterprises when grades changed); covered = the others, and coverage
      = covered / enterprises, both on the grade now;
    - rectification orders due in the period (completion): the grade in force on the day the order was made.
    Inspections and orders of an enterprise not graded yet on that day are in no row: "ungraded" counts them (a
    bureau's first year — records imported from before its first scoring — would otherwise look uninspected).
    The inspections come from the monthly counts (InspectionMonth) once built, else from the inspection records
    dated in the period: the same figures. Rows A…D and one for C and D together."""
    first, last = query.start, query.last_day
    months = len(query.months())
    profile = SupervisionProfile.objects.filter(active=True).first()
    rows = {g: {"grade": g, "enterprises": 0, "key": 0, "required": Decimal(0) if profile else None, "done": 0,
                "inspected": 0, "uninspected": 0, "failed": 0, "rectifications": 0, "rectified": 0} for g in GRADES}
    snap = _now_snapshot(user, query)
    if snap is not None:
        groups = snap.values_list("grade", "business_form", "key_supervision").annotate(n=Sum("count"))
    else:
        groups = (_enterprises(user, query).exclude(current_grade="")
                  .values_list("current_grade", "business_form", "key_supervision").annotate(n=Count("pk")))
    for grade, form, key, n in groups:
        row = rows[grade]
        row["enterprises"] += n
        is_key = bool(profile) and profile.is_key(SimpleNamespace(key_supervision=key, business_form=form), grade)
        row["key"] += n if is_key else 0
        if profile:
            row["required"] += profile.frequency(grade, key=is_key) * n * months / 12
    grades = [query.grade] if query.grade else list(GRADES)
    if Precomputed.objects.filter(name=INSPECTION_MONTHS).exists():
        # the monthly counts: an enterprise is inspected under a grade in the period in its first month there
        # (the row whose previous month under that grade lies before the period), so a sum counts it once
        period = (_narrowed(InspectionMonth.objects.in_scope(user).order_by(), user, query, grade_field=None,
                            category="rows").filter(month__gte=first, month__lte=month_start(last)))
        held = "grade"
        groups = period.filter(grade__in=[*grades, ""]).values_list("grade").annotate(
            done=Sum("inspections"), failed=Sum("failed"),
            inspected=Count("pk", filter=Q(previous_month__isnull=True) | Q(previous_month__lt=first)))
        any_inspection = InspectionMonth.objects.filter(month__gte=first, month__lte=month_start(last))
    else:
        inspections = (_narrowed(Inspection.objects.in_scope(user).order_by(), user, query, via="enterprise__",
                                 grade_field=None).filter(inspected_on__gte=first, inspected_on__lte=last))
        period, held = with_grade_in_force(inspections, F("inspected_on")), "held"
        # every grade grouped, the wanted ones kept below: a filter on the grade would look it up twice a row
        groups = (period.values_list("held")
                  .annotate(done=Count("pk"), failed=Count("pk", filter=Q(result=InspectionResult.FAIL)),
                            inspected=Count("enterprise", distinct=True)))
        any_inspection = Inspection.objects.filter(inspected_on__gte=first, inspected_on__lte=last)
    ungraded = {"done": 0, "inspected": 0, "failed": 0, "rectifications": 0, "rectified": 0}
    for grade, done, failed, inspected in groups:
        if grade in grades:
            rows[grade].update(done=done, inspected=inspected, failed=failed)
        elif grade == "":
            ungraded.update(done=done, inspected=inspected, failed=failed)
    # C and D together: an enterprise inspected under both once
    inspected_cd = None if query.grade else period.filter(**{f"{held}__in": ("C", "D")}).aggregate(
        n=Count("enterprise", distinct=True))["n"]
    # not inspected: the enterprises of the grade now without any inspection in the period
    for grade, n in (_enterprises(user, query).filter(current_grade__in=grades)
                     .exclude(Exists(any_inspection.filter(enterprise=OuterRef("pk"))))
                     .values_list("current_grade").annotate(n=Count("pk"))):
        rows[grade]["uninspected"] = n
    tasks = (_narrowed(Task.objects.in_scope(user).order_by(), user, query, via="enterprise__", grade_field=None)
             .filter(kind=TaskKind.RECTIFICATION, due_on__gte=first, due_on__lte=last)
             .exclude(status=TaskStatus.CANCELLED))
    for grade, total, done in (with_grade_in_force(tasks, task_made_on()).values_list("held")
                               .annotate(total=Count("pk"), done=Count("pk", filter=Q(status=TaskStatus.DONE)))):
        if grade in grades:  # as the inspections: grouped by every grade, the wanted ones kept
            rows[grade].update(rectifications=total, rectified=done)
        elif grade == "":
            ungraded.update(rectifications=total, rectified=done)
    out = [rows[g] for g in grades]
    if not query.grade:
        high = {"grade": "CD"}
        for field in ("enterprises", "key", "required", "done", "uninspected", "failed", "rectifications",
                      "rectified"):
            values = [rows[g][field] for g in ("C", "D")]
            high[field] = None if None in values else sum(values)
        high["inspected"] = inspected_cd  # once, though inspected under both C and D
        out.append(high)
    for row in out:
        required = row["required"]
        row["required"] = None if required is None else round(float(required), 1)
        row["done_share"] = share(row["done"], row["required"]) if required is not None else None
        # coverage on one basis, the grade now: of the enterprises holding the grade, those inspected in the period
        # ("inspected" counts under the grade in force, so over the enterprises now it could pass 100 %)
        row["covered"] = row["enterprises"] - row["uninspected"]
        row["coverage"] = share(row["covered"], row["enterprises"])
        row["failed_share"] = share(row["failed"], row["done"])
        row["rectified_share"] = share(row["rectified"], row["rectifications"])
    return {"first": first, "last": last, "profile": profile, "rows": out,
            "ungraded": ungraded if any(ungraded.values()) and not query.grade else None}


def task_made_on():
    """The day a task (a rectification order) was made: its creation, in local time."""
    return TruncDate("created_at")


def dashboard(user, query):
    series = trend(user, query)
    return {"trend": series, "now": series[-1] if series else None, "matrix": matrix(user, query),
            "alerts": alert_figures(user, query)}
