"""Credit repairs in the supervision effectiveness figures: the applications of the period (records.CreditRepair,
the archive's copy of every application — those of the repair workflow and those imported) and what was decided,
per month applied and per the enterprise's current grade. Filtered like every figure (scope, region subtree,
business form, grade) through stats._narrowed; counted in the database by (month or grade, decision)."""

import datetime as dt
from collections import defaultdict

from django.db.models import Count
from django.db.models.functions import TruncMonth

from foodrisk.records.choices import RepairDecision
from foodrisk.records.models import CreditRepair

from .services import add_months, month_start
from .stats import GRADES, _narrowed, share

DECISIONS = tuple(RepairDecision.values)  # pending, approved, rejected


def _row(counts):
    row = {d: counts.get(d, 0) for d in DECISIONS}
    row["applied"] = sum(row.values())
    row["decided"] = row[RepairDecision.APPROVED] + row[RepairDecision.REJECTED]
    row["approval_rate"] = share(row[RepairDecision.APPROVED], row["decided"])
    return row


def credit_repairs(user, query):
    """{months: [{month, first, last, applied, pending, approved, rejected, decided, approval_rate}],
    grades: [{grade, …}] (the enterprises' current grade, "" = not graded), total: {…}} of the applications
    made in the period."""
    qs = (_narrowed(CreditRepair.objects.in_scope(user).order_by(), user, query, via="enterprise__")
          .filter(applied_on__gte=query.start, applied_on__lte=query.last_day))
    by_month, by_grade, total = defaultdict(dict), defaultdict(dict), {}
    for month, grade, decision, n in (qs.annotate(month=TruncMonth("applied_on"))
                                      .values_list("month", "enterprise__current_grade", "decision")
                                      .annotate(n=Count("pk"))):
        month = month_start(month)
        for bucket in (by_month[month], by_grade[grade or ""], total):
            bucket[decision] = bucket.get(decision, 0) + n
    months = [{"month": m, "first": m, "last": add_months(m, 1) - dt.timedelta(days=1),
               **_row(by_month.get(m, {}))} for m in query.months()]
    grades = [{"grade": g, **_row(by_grade[g])} for g in (*GRADES, "") if g in by_grade]
    return {"months": months, "grades": grades, "total": _row(total)}
