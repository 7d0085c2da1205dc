"""双随机 draws: random enterprises per grade at the profile's ratio, two random inspectors each, no conflict
of interest and never the same inspector twice in a row for one enterprise. Reproducible from the seed:
the draw stores its seed and every input, and `replay(draw)` recomputes the identical result.

People come first: a draw covers a period (a plan's, or given); inspectors absent during it are not drawn;
each inspector takes at most their remaining capacity in the period (the yearly parameter pro-rated, minus
open tasks due in it); what cannot be placed is reported on the items; due dates are spread over the period,
higher risk earlier; each inspector gets one digest notification per draw."""

import datetime as dt
import math
import random
import secrets
from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from foodrisk.core import params
from foodrisk.core.services import audit
from foodrisk.core.services.accounts import users_with_perm
from foodrisk.core.services.notifications import register_default

from ..choices import GRADES, RISK_ORDER, TaskKind, TaskSource
from ..models import ConflictOfInterest, DrawItem, InspectorAbsence, RandomDraw, Task
from . import require, require_scope
from .plans import INSPECTOR_PERMISSION, inspectors_of, jurisdiction
from .profiles import active_profile

DRAW_ORDER = ("D", "C", "B", "A")
DIGEST_TEMPLATE = "draw_tasks_assigned"

# One message per inspector and draw, not one per task (a pilot draw sent 463); a MessageTemplate row with
# this code overrides the text, a disabled row silences it.
register_default(DIGEST_TEMPLATE, subject="【监管任务】您有 {{ count }} 项新的监管任务",
                 body="{{ organisation }} 双随机抽查（{{ draw }}）：您有 {{ count }} 项新的监管任务，"
                      "最早 {{ first_due }} 到期，最晚 {{ last_due }} 到期。请在“我的任务”中查看。")


def select(populations, ratios, inspectors, exclusions, seed, per_enterprise=2, capacity=None):
    """Pure and deterministic: the same arguments give the same list.

    populations: {grade: [enterprise ids]} (sorted), ratios: {grade: share}, inspectors: [user ids] (sorted),
    exclusions: {enterprise id (str or int): [user ids]} — conflicts and the previous inspectors,
    capacity: {user id (str or int): enterprises they may still take} or None (no limit: draws made before
    capacities were recorded replay unchanged).
    Returns [{"enterprise", "grade", "inspectors": [ids], "note"}] in draw order; grades are drawn highest risk
    first, so when capacity runs out it is the lower-risk enterprises that stay unplaced.
    """
    rng = random.Random(int(seed))
    chosen = []
    for grade in DRAW_ORDER:
        pool = sorted(populations.get(grade, []))
        ratio = float(ratios.get(grade, 0) or 0)
        n = min(len(pool), math.ceil(len(pool) * ratio - 1e-9)) if ratio > 0 else 0
        chosen += [(grade, eid) for eid in rng.sample(pool, n)]
    load = dict.fromkeys(inspectors, 0)
    left = None if capacity is None else {i: int(capacity.get(str(i), capacity.get(i, 0)) or 0) for i in inspectors}
    out = []
    for grade, eid in chosen:
        excluded = set(exclusions.get(str(eid), ())) | set(exclusions.get(eid, ()))
        candidates = [i for i in inspectors if i not in excluded]
        allowed = len(candidates)
        if left is not None:
            candidates = [i for i in candidates if left[i] > 0]
        rng.shuffle(candidates)
        candidates.sort(key=lambda i: load[i])  # stable: ties stay in their random order
        picked = candidates[:per_enterprise]
        note = ""
        if len(picked) < per_enterprise:
            note = "insufficient_inspectors" if allowed < per_enterprise else "no_capacity"
            picked = []
        for i in picked:
            load[i] += 1
            if left is not None:
                left[i] -= 1
        out.append({"enterprise": eid, "grade": grade, "inspectors": picked, "note": note})
    return out


def previous_inspectors(enterprise_ids, before_draw=None):
    """Per enterprise, the inspectors of its latest draw item or latest inspection task (whichever is newer)."""
    latest = {}
    items = DrawItem.objects.filter(enterprise_id__in=enterprise_ids).exclude(inspector_1=None)
    if before_draw is not None:
        items = items.filter(draw_id__lt=before_draw)
    for row in items.order_by("enterprise_id", "-draw__created_at", "-pk").values(
            "enterprise_id", "inspector_1_id", "inspector_2_id", "draw__created_at"):
        latest.setdefault(row["enterprise_id"], (row["draw__created_at"],
                                                 [row["inspector_1_id"], row["inspector_2_id"]]))
    tasks = Task.objects.filter(enterprise_id__in=enterprise_ids, kind=TaskKind.INSPECTION).exclude(
        assignee=None).exclude(status="cancelled")
    for row in tasks.order_by("enterprise_id", "-created_at", "-pk").values(
            "enterprise_id", "assignee_id", "second_assignee_id", "created_at"):
        current = latest.get(row["enterprise_id"])
        if current is None or current[0] < row["created_at"]:
            latest[row["enterprise_id"]] = (row["created_at"], [row["assignee_id"], row["second_assignee_id"]])
    return {eid: sorted(i for i in ids if i) for eid, (_at, ids) in latest.items()}


def period_of(*, plan=None, period_start=None, period_end=None, due_on=None):
    """(start, end) of the draw: given dates, else the plan's, else today … the default task period.
    `due_on` (the older single due date) is read as the period's end."""
    today = timezone.localdate()
    start = period_start or (plan.period_start if plan else None) or today
    end = (period_end or (plan.period_end if plan else None) or due_on
           or today + dt.timedelta(days=params.get("task_default_days", 30)))
    if end < start:
        raise ValidationError(_("The period ends before it starts."))
    if end < today:
        raise ValidationError(_("The period ended on %(end)s: choose a period that is not over.") % {"end": end})
    return start, end


def capacity_of(user_ids, start, end, window_start=None):
    """{user id: enterprises they may still take}: the yearly parameter pro-rated to the days left for the work
    (window_start … end: a plan's elapsed months add no capacity), minus the open tasks they hold (first or
    second inspector) due anywhere in the period start … end (an open task of the period is still to be done)."""
    window_start = max(window_start or start, start)
    per_year = Decimal(str(params.get("inspections_per_inspector_year", 120)))
    years = Decimal((end - window_start).days + 1) / Decimal(365)
    total = int(math.floor(per_year * years + Decimal("0.000001")))
    held = defaultdict(int)
    tasks = Task.objects.open().filter(due_on__gte=start, due_on__lte=end)
    for field in ("assignee", "second_assignee"):
        rows = (tasks.filter(**{f"{field}_id__in": user_ids}).values(f"{field}_id")
                .annotate(n=Count("id")).values_list(f"{field}_id", "n"))
        for uid, n in rows:
            held[uid] += n
    return {uid: max(total - held[uid], 0) for uid in user_ids}


def absent_during(user_ids, start, end):
    """Inspectors with an absence overlapping the period (any overlap: a task may fall due on any day)."""
    return set(InspectorAbsence.objects.filter(user_id__in=user_ids, start__lte=end, end__gte=start)
               .values_list("user_id", flat=True))


def candidate_pool(organisation, borrow=False):
    """The organisation's inspectors; borrowing adds those of the parent organisation itself (抽调)."""
    pool = set(inspectors_of(organisation).values_list("pk", flat=True))
    if borrow and organisation.parent_id:
        pool |= set(users_with_perm(INSPECTOR_PERMISSION, include_superusers=False)
                    .filter(organisation_id=organisation.parent_id, is_active=True).values_list("pk", flat=True))
    return sorted(pool)


def gather_inputs(organisation, start=None, end=None, borrow=False):
    """Everything the draw depends on, as JSON-able data (stored on the draw)."""
    populations = {g: [] for g in GRADES}
    for eid, grade in jurisdiction(organisation).order_by("pk").values_list("pk", "current_grade"):
        populations[grade if grade in GRADES else "B"].append(eid)
    ids = [eid for pool in populations.values() for eid in pool]
    pool = candidate_pool(organisation, borrow)
    absent, capacity = set(), None
    if start is not None:
        window_start = max(start, timezone.localdate())  # the part of the period still ahead
        absent = absent_during(pool, window_start, end)
        capacity = capacity_of([u for u in pool if u not in absent], start, end, window_start)
    inspectors = [u for u in pool if u not in absent and (capacity is None or capacity[u] > 0)]
    conflicts = {}
    for eid, uid in ConflictOfInterest.objects.filter(active=True, enterprise_id__in=ids).values_list(
            "enterprise_id", "inspector_id"):
        conflicts.setdefault(str(eid), []).append(uid)
    previous = {str(eid): ids_ for eid, ids_ in previous_inspectors(ids).items() if ids_}
    inputs = {"populations": populations, "inspectors": inspectors,
              "conflicts": {k: sorted(v) for k, v in conflicts.items()}, "previous": previous}
    if start is not None:
        inputs.update(period=[start.isoformat(), end.isoformat()], pool=pool, absent=sorted(absent),
                      borrowed=bool(borrow), capacity={str(u): n for u, n in capacity.items()})
    return inputs


def too_few_message(organisation, inputs, per_enterprise, borrow):
    pool, absent = inputs.get("pool", inputs["inspectors"]), inputs.get("absent", [])
    full = sum(1 for u, n in inputs.get("capacity", {}).items() if n <= 0)
    text = _("%(org)s has %(n)d eligible inspectors for this period (of %(pool)d inspectors: %(absent)d absent, "
             "%(full)d without remaining capacity); a draw needs at least %(k)d.") % {
        "org": organisation, "n": len(inputs["inspectors"]), "pool": len(pool), "absent": len(absent),
        "full": full, "k": per_enterprise}
    parent = organisation.parent if organisation.parent_id else None
    if parent is not None and not borrow:
        way = _("Tick “Allow borrowing inspectors from the parent organisation” to add the inspectors of "
                "%(parent)s, or give more staff the inspector permission.") % {"parent": parent}
    else:
        way = _("Give more staff the inspector permission, or choose another period.")
    return f"{text} {way}"


def spread_due_dates(n, start, end):
    """n due dates spread evenly over start … end, the first one period/n after the start, the last at the end."""
    span = (end - start).days
    return [start + dt.timedelta(days=(k + 1) * span // n) for k in range(n)]


def merged_exclusions(inputs):
    out = {}
    for source in ("conflicts", "previous"):
        for eid, ids in inputs.get(source, {}).items():
            out.setdefault(str(eid), set()).update(ids)
    return {k: sorted(v) for k, v in out.items()}


def run_draw(organisation, *, user, seed=None, profile=None, ratios=None, per_enterprise=2, name="",
             create_tasks=False, due_on=None, plan=None, period_start=None, period_end=None, borrow=False):
    require(user, "supervision.add_randomdraw")
    require_scope(user, organisation.region_id)
    if plan is not None and plan.organisation_id != organisation.pk:
        raise ValidationError({"plan": _("The plan belongs to another organisation.")})
    start, end = period_of(plan=plan, period_start=period_start, period_end=period_end, due_on=due_on)
    profile = profile or active_profile()
    if profile is None:
        raise ValidationError(_("No supervision profile is configured."))
    ratios = {g: float((ratios or {}).get(g, profile.ratio(g))) for g in GRADES}
    if any(not 0 <= r <= 1 for r in ratios.values()):
        raise ValidationError(_("Sampling ratios must lie between 0 and 1."))
    seed = int(seed) if seed not in (None, "") else secrets.randbits(48)
    with transaction.atomic():
        inputs = gather_inputs(organisation, start, end, borrow)
        if len(inputs["inspectors"]) < per_enterprise:
            raise ValidationError(too_few_message(organisation, inputs, per_enterprise, borrow))
        result = select(inputs["populations"], ratios, inputs["inspectors"], merged_exclusions(inputs), seed,
                        per_enterprise, inputs["capacity"])
        grades = dict(jurisdiction(organisation).values_list("pk", "current_grade"))
        scores = dict(jurisdiction(organisation).values_list("pk", "current_score"))
        # higher risk earlier: grade, then score, then draw order (ties stay reproducible)
        placed = sorted((n for n, r in enumerate(result) if r["inspectors"]), key=lambda n: (
            RISK_ORDER.get(grades.get(result[n]["enterprise"]) or "", 4),
            -(scores.get(result[n]["enterprise"]) or 0), n))
        first_day = max(start, timezone.localdate())
        due = dict(zip(placed, spread_due_dates(len(placed), first_day, end), strict=True))
        draw = RandomDraw.objects.create(
            organisation=organisation, profile=profile, name=name or _("Random draw %(date)s") % {
                "date": timezone.localdate()},
            seed=seed, ratios=ratios, inspectors_per_enterprise=per_enterprise, inputs=inputs,
            population_counts={g: len(inputs["populations"][g]) for g in GRADES},
            selected_counts={g: sum(1 for r in result if r["grade"] == g) for g in GRADES},
            unassigned=sum(1 for r in result if not r["inspectors"]), due_on=max(due.values(), default=None),
            plan=plan, period_start=start, period_end=end, borrowed=bool(borrow), created_by=user)
        notes = {"insufficient_inspectors": _("Not enough eligible inspectors."),
                 "no_capacity": _("Not placed: the eligible inspectors have no capacity left in the period.")}
        DrawItem.objects.bulk_create([
            DrawItem(draw=draw, position=n + 1, enterprise_id=r["enterprise"],
                     grade=grades.get(r["enterprise"]) or "", inspector_1_id=(r["inspectors"] or [None])[0],
                     inspector_2_id=r["inspectors"][1] if len(r["inspectors"]) > 1 else None,
                     note=notes.get(r["note"], ""), due_on=due.get(n))
            for n, r in enumerate(result)])
        audit.record("supervision.draw.run", draw, user=user, region_code=organisation.region_id, details={
            "seed": seed, "profile": profile.code, "ratios": ratios, "per_enterprise": per_enterprise,
            "population": draw.population_counts, "selected": draw.selected_counts,
            "period": inputs["period"], "plan": plan.pk if plan else None, "borrowed": bool(borrow),
            "inspectors": inputs["inspectors"], "absent": inputs["absent"], "capacity": inputs["capacity"],
            "unassigned": draw.unassigned, "unplaced": [r["enterprise"] for r in result if not r["inspectors"]],
            "items": [[r["enterprise"], r["inspectors"]] for r in result]})
        if create_tasks:
            create_tasks_for(draw, user=user)
    return draw


def replay(draw):
    """Recompute the draw from its stored seed and inputs."""
    inputs = draw.inputs
    return select(inputs["populations"], draw.ratios, inputs["inspectors"], merged_exclusions(inputs), draw.seed,
                  draw.inspectors_per_enterprise, inputs.get("capacity"))


def as_result(draw):
    return [{"enterprise": i.enterprise_id, "inspectors": [x for x in (i.inspector_1_id, i.inspector_2_id) if x]}
            for i in draw.items.order_by("position")]


def verify(draw):
    """True when recomputing from the seed gives exactly the stored draw."""
    return [{"enterprise": r["enterprise"], "inspectors": r["inspectors"]} for r in replay(draw)] == as_result(draw)


def unplaced(draw):
    """The drawn enterprises that got no inspectors (too few eligible, or no capacity left)."""
    return draw.items.filter(inspector_1=None).select_related("enterprise").order_by("position")


def create_tasks_for(draw, *, user, due_on=None):
    """One inspection task per placed enterprise, assigned to its two inspectors and due on the item's spread
    date; then one digest notification per inspector instead of one per task."""
    from .tasks import create_task

    today = timezone.localdate()
    fallback = due_on or draw.due_on or (today + dt.timedelta(days=params.get("task_default_days", 30)))
    created = []
    with transaction.atomic():
        tasked = set(Task.objects.filter(draw_item__draw=draw).values_list("draw_item_id", flat=True))
        for item in draw.items.select_related("enterprise", "inspector_1", "inspector_2").order_by("position"):
            if item.inspector_1_id is None or item.pk in tasked:
                continue
            # a date already past (tasks created late) moves to today rather than being refused
            created.append(create_task(
                item.enterprise, TaskKind.INSPECTION, user=user, organisation=draw.organisation,
                assignee=item.inspector_1, second_assignee=item.inspector_2,
                due_on=max(item.due_on or fallback, today),
                title=_("Random inspection (%(draw)s)") % {"draw": draw}, source=TaskSource.DRAW,
                source_ref=str(draw.pk), draw_item=item, notify=False))
        RandomDraw.objects.filter(pk=draw.pk).update(tasks_created=True)
        notified = notify_digest(draw, created)
        audit.record("supervision.draw.tasks", draw, user=user, details={
            "tasks": len(created), "notified": notified})
    return created


def notify_digest(draw, tasks):
    """One notification per inspector: how many new tasks, the earliest and latest due date."""
    from foodrisk.core.services import notifications

    mine = defaultdict(list)
    people = {}
    for task in tasks:
        for person in (task.assignee, task.second_assignee):
            if person is not None:
                mine[person.pk].append(task.due_on)
                people[person.pk] = person
    link = reverse("supervision:my_tasks")
    for uid in sorted(mine):
        dates = mine[uid]
        notifications.notify([people[uid]], DIGEST_TEMPLATE, {
            "count": len(dates), "first_due": min(dates), "last_due": max(dates), "draw": draw,
            "organisation": draw.organisation}, link=link)
    return sorted(mine)
