"""The figures of the statistics pages, read for one person (the page and the API call the same functions).

Grades come from the precomputed monthly snapshot (GradeSnapshot), never from the enterprises or their records.
A month without snapshot rows had no grade change: it holds the last earlier month's figures. The region ×
grade matrix is the snapshot of the last month asked for, grouped by the children of the region asked for (or
of the person's jurisdiction); warning figures are counted over the alerts of the period.
"""

import datetime as dt
from collections import defaultdict

from django.db.models import Max, Sum
from django.utils import timezone

from foodrisk.alerts.choices import AlertStatus, EventAction
from foodrisk.alerts.models import Alert, AlertEvent
from foodrisk.core.models import Region

from .models import GradeSnapshot
from .services import add_months

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


def _snapshots(user, query):
    qs = GradeSnapshot.objects.in_scope(user).order_by()
    prefix = _prefix(user, query)
    if prefix:
        qs = qs.filter(region__code__startswith=prefix)
    if query.business_form:
        qs = qs.filter(business_form=query.business_form)
    return qs


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


def alert_figures(user, query):
    """Warnings in the period: raised, confirmed, dismissed, closed (alerts with such a step in the period) and
    the days from raising to closing of the alerts closed in it (median, 90th percentile)."""
    start, end = _period(query)
    alerts = Alert.objects.in_scope(user).order_by()
    prefix = _prefix(user, query)
    if prefix:
        alerts = alerts.filter(enterprise__region__code__startswith=prefix)
    if query.business_form:
        alerts = alerts.filter(enterprise__business_form=query.business_form)
    events = AlertEvent.objects.filter(alert__in=alerts.values("pk"), at__gte=start, at__lt=end).order_by()

    def stepped(action):
        return events.filter(action=action).values("alert_id").distinct().count()

    durations = sorted((closed - raised).total_seconds() / 86400 for raised, closed in
                       alerts.filter(status=AlertStatus.CLOSED, closed_at__gte=start, closed_at__lt=end)
                       .values_list("raised_at", "closed_at"))
    median, p90 = quantile(durations, 0.5), quantile(durations, 0.9)
    return {"raised": alerts.filter(raised_at__gte=start, raised_at__lt=end).count(),
            "confirmed": stepped(EventAction.CONFIRM), "dismissed": stepped(EventAction.DISMISS),
            "closed": stepped(EventAction.CLOSE), "closed_measured": len(durations),
            "days_to_close_median": None if median is None else round(median, 1),
            "days_to_close_p90": None if p90 is None else round(p90, 1)}


def dashboard(user, query):
    series = trend(user, query)
    return {"trend": series, "now": series[-1] if series else None, "matrix": matrix(user, query),
            "alerts": alert_figures(user, query)}
