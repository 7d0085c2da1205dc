"""Every write of supervision: one transaction, one audit entry, follow-up work after commit.

Modules: profiles (measures by grade), plans (inspection plans), draws (双随机), tasks (tasks, results,
rectification), repairs (credit-repair workflow), ledgers (the Excel layouts of the task and repair ledgers).
"""

import datetime as dt

from django.core.exceptions import PermissionDenied


def add_months(day, months):
    """Same day `months` later (clamped to the month's end)."""
    import calendar

    months = int(months)
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def require(user, perm):
    if user is None or not user.is_authenticated or not user.has_perm(perm):
        raise PermissionDenied(perm)


def require_scope(user, region_code):
    if not user.in_scope(region_code):
        raise PermissionDenied("out of scope")
