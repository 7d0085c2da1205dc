"""Inspection plans: per enterprise the inspections a period needs (grade, key supervision, two-year
floor, history), allocated to the organisation's capacity in risk order; what cannot be covered is listed."""

import math
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from foodrisk.core import params
from foodrisk.core.querysets import region_prefix
from foodrisk.core.services import audit
from foodrisk.core.services.accounts import users_with_perm
from foodrisk.enterprises.models import Enterprise

from ..choices import GRADES, RISK_ORDER
from ..models import InspectionPlan, PlanItem
from . import add_months, require, require_scope
from .profiles import active_profile

INSPECTOR_PERMISSION = "supervision.inspect_task"


def jurisdiction(organisation):
    """Active enterprises inside the organisation's region subtree."""
    return Enterprise.objects.filter(region__code__startswith=region_prefix(organisation.region_id),
                                     status="active")


def inspectors_of(organisation):
    """Active users of the organisation (or of organisations inside its jurisdiction) who may be drawn as
    inspectors: the `supervision.inspect_task` permission, directly or through a role (not as superusers)."""
    return (users_with_perm(INSPECTOR_PERMISSION, include_superusers=False)
            .filter(Q(organisation=organisation)
                    | Q(organisation__region__code__startswith=region_prefix(organisation.region_id),
                        organisation__parent=organisation))
            .order_by("pk"))


def inspectors_pool_ids():
    """Everyone who may be drawn as an inspector (any organisation), as a subquery."""
    return users_with_perm(INSPECTOR_PERMISSION, include_superusers=False).values("pk")


def last_full_inspections(enterprise_ids, kinds, before):
    from django.db.models import Max

    from foodrisk.records.models import Inspection

    rows = (Inspection.objects.filter(enterprise_id__in=enterprise_ids, kind__in=kinds, inspected_on__lt=before)
            .values("enterprise_id").annotate(last=Max("inspected_on")))
    return {r["enterprise_id"]: r["last"] for r in rows}


def done_in_period(enterprise_ids, kinds, start, end):
    from django.db.models import Count

    from foodrisk.records.models import Inspection

    rows = (Inspection.objects.filter(enterprise_id__in=enterprise_ids, kind__in=kinds,
                                      inspected_on__gte=start, inspected_on__lte=end)
            .values("enterprise_id").annotate(n=Count("id")))
    return {r["enterprise_id"]: r["n"] for r in rows}


def requirement(profile, grade, key, last, start, end):
    """(frequency, required inspections in the period, floor due, reasons)."""
    freq = profile.frequency(grade, key)
    years = Decimal((end - start).days + 1) / Decimal(365)
    whole = int(math.floor(freq * years + Decimal("0.000001")))
    reasons = [_("grade %(grade)s: %(freq)s per year") % {"grade": grade, "freq": _fmt(freq)}]
    if key:
        reasons.append(_("key supervision"))
    floor_due = last is None or add_months(last, profile.floor_months) <= end
    interval = profile.floor_months
    if freq > 0:
        interval = min(interval, int(math.ceil(Decimal(12) / freq)))
    due = last is None or add_months(last, interval) <= end
    required = whole
    if due and required < 1:
        required = 1
    if floor_due:
        reasons.append(_("never fully inspected") if last is None else
                       _("last full inspection %(date)s: the %(months)s-month floor falls due")
                       % {"date": last, "months": profile.floor_months})
    return freq, required, floor_due, reasons


def _fmt(value):
    return f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)


def risk_key(enterprise, grade, key, floor_due):
    return (RISK_ORDER.get(grade, 4), not key, not floor_due, -(enterprise.current_score or 0), enterprise.pk)


def allocate(demands, capacity):
    """Round by round in risk order: everyone's first inspection, then second… Returns planned counts."""
    planned = [0] * len(demands)
    left = capacity
    rounds = max(demands, default=0)
    for r in range(1, rounds + 1):
        for i, need in enumerate(demands):
            if need >= r:
                if left <= 0:
                    return planned
                planned[i] += 1
                left -= 1
    return planned


def compute(organisation, period_start, period_end, *, profile=None, inspectors=None, per_inspector=None):
    """The plan without saving it: (header dict, list of item dicts in risk order)."""
    profile = profile or active_profile()
    if profile is None:
        raise ValidationError(_("No supervision profile is configured."))
    if period_end < period_start:
        raise ValidationError(_("The period ends before it starts."))
    if inspectors is None:
        inspectors = inspectors_of(organisation).count()
    if per_inspector is None:
        per_inspector = params.get("inspections_per_inspector_year", 120)
    per_inspector = Decimal(str(per_inspector))
    years = Decimal((period_end - period_start).days + 1) / Decimal(365)
    capacity = int(math.floor(Decimal(inspectors) * per_inspector * years + Decimal("0.000001")))
    kinds = profile.full_inspection_kinds or ["routine"]
    ents = list(jurisdiction(organisation).only("id", "name", "current_grade", "current_score", "business_form",
                                               "key_supervision", "region_id"))
    ids = [e.pk for e in ents]
    last = {}
    done = {}
    for chunk in range(0, len(ids), 900):
        part = ids[chunk:chunk + 900]
        last.update(last_full_inspections(part, kinds, period_start))
        done.update(done_in_period(part, kinds, period_start, period_end))
    items = []
    for e in ents:
        grade = e.current_grade or "B"
        key = profile.is_key(e, grade)
        freq, required, floor_due, reasons = requirement(profile, grade, key, last.get(e.pk), period_start,
                                                         period_end)
        if not e.current_grade:
            reasons.insert(0, _("not graded yet: planned as B"))
        n_done = done.get(e.pk, 0)
        items.append({"enterprise": e, "grade": e.current_grade, "key_supervision": key, "frequency": freq,
                      "last_full_inspection": last.get(e.pk), "floor_due": floor_due, "done": n_done,
                      "required": required, "remaining": max(required - n_done, 0), "reasons": reasons,
                      "_sort": risk_key(e, grade, key, floor_due)})
    items.sort(key=lambda row: row["_sort"])
    planned = allocate([row["remaining"] for row in items], capacity)
    by_grade = {g: {"enterprises": 0, "required": 0, "planned": 0, "uncovered": 0} for g in (*GRADES, "")}
    for rank, (row, n) in enumerate(zip(items, planned, strict=True), start=1):
        row["rank"], row["planned"], row["uncovered"] = rank, n, row["remaining"] - n
        stats = by_grade[row["grade"] if row["grade"] in GRADES else ""]
        stats["enterprises"] += 1
        stats["required"] += row["remaining"]
        stats["planned"] += n
        stats["uncovered"] += row["uncovered"]
    header = {
        "organisation": organisation, "profile": profile, "period_start": period_start, "period_end": period_end,
        "inspectors": inspectors, "per_inspector": per_inspector, "capacity": capacity,
        "enterprise_count": len(items), "required_total": sum(r["remaining"] for r in items),
        "planned_total": sum(planned), "uncovered_total": sum(r["uncovered"] for r in items),
        "summary": {
            "by_grade": {g or "-": v for g, v in by_grade.items() if v["enterprises"]},
            "key_supervision": sum(1 for r in items if r["key_supervision"]),
            "floor_due": sum(1 for r in items if r["floor_due"]),
            "uncovered_enterprises": sum(1 for r in items if r["uncovered"]),
            "already_done": sum(r["done"] for r in items),
        },
    }
    return header, items


def create_plan(organisation, period_start, period_end, *, user, profile=None, inspectors=None,
                per_inspector=None, name=""):
    require(user, "supervision.add_inspectionplan")
    require_scope(user, organisation.region_id)
    header, items = compute(organisation, period_start, period_end, profile=profile, inspectors=inspectors,
                            per_inspector=per_inspector)
    with transaction.atomic():
        plan = InspectionPlan.objects.create(
            name=name or _("%(org)s inspection plan %(start)s–%(end)s") % {
                "org": organisation.name, "start": period_start, "end": period_end},
            created_by=user, **header)
        PlanItem.objects.bulk_create([
            PlanItem(plan=plan, enterprise=row["enterprise"], rank=row["rank"], grade=row["grade"] or "",
                     key_supervision=row["key_supervision"], frequency=row["frequency"],
                     last_full_inspection=row["last_full_inspection"], floor_due=row["floor_due"],
                     done=row["done"], required=row["required"], planned=row["planned"],
                     uncovered=row["uncovered"], reasons=row["reasons"])
            for row in items], batch_size=1000)
        audit.record("supervision.plan.create", plan, user=user, region_code=organisation.region_id, details={
            "profile": plan.profile.code, "period": [period_start, period_end], "inspectors": plan.inspectors,
            "per_inspector": plan.per_inspector, "capacity": plan.capacity, "required": plan.required_total,
            "planned": plan.planned_total, "uncovered": plan.uncovered_total})
    return plan


