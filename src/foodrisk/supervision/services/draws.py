"""双随机 draws: random enterprises per grade at the profile's ratio, two random inspectors each, no conflict
of interest and never the same inspector twice in a row for one enterprise. Reproducible from the seed:
the draw stores its seed and every input, and `replay(draw)` recomputes the identical result."""

import math
import random
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from foodrisk.core import params
from foodrisk.core.services import audit

from ..choices import GRADES, TaskKind, TaskSource
from ..models import ConflictOfInterest, DrawItem, RandomDraw, Task
from . import require, require_scope
from .plans import inspectors_of, jurisdiction
from .profiles import active_profile

DRAW_ORDER = ("D", "C", "B", "A")


def select(populations, ratios, inspectors, exclusions, seed, per_enterprise=2):
    """Pure and deterministic: the same arguments give the same list.

    populations: {grade: [enterprise ids]} (sorted), ratios: {grade: share}, inspectors: [user ids] (sorted),
    exclusions: {enterprise id (str or int): [user ids]} — conflicts and the previous inspectors.
    Returns [{"enterprise", "grade", "inspectors": [ids], "note"}] in draw order.
    """
    rng = random.Random(int(seed))
    chosen = []
    for grade in DRAW_ORDER:
        pool = sorted(populations.get(grade, []))
        ratio = float(ratios.get(grade, 0) or 0)
        n = min(len(pool), math.ceil(len(pool) * ratio - 1e-9)) if ratio > 0 else 0
        chosen += [(grade, eid) for eid in rng.sample(pool, n)]
    load = dict.fromkeys(inspectors, 0)
    out = []
    for grade, eid in chosen:
        excluded = set(exclusions.get(str(eid), ())) | set(exclusions.get(eid, ()))
        candidates = [i for i in inspectors if i not in excluded]
        rng.shuffle(candidates)
        candidates.sort(key=lambda i: load[i])  # stable: ties stay in their random order
        picked = candidates[:per_enterprise]
        note = ""
        if len(picked) < per_enterprise:
            picked, note = [], "insufficient_inspectors"
        for i in picked:
            load[i] += 1
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


def gather_inputs(organisation):
    """Everything the draw depends on, as JSON-able data (stored on the draw)."""
    populations = {g: [] for g in GRADES}
    for eid, grade in jurisdiction(organisation).order_by("pk").values_list("pk", "current_grade"):
        populations[grade if grade in GRADES else "B"].append(eid)
    ids = [eid for pool in populations.values() for eid in pool]
    inspectors = list(inspectors_of(organisation).values_list("pk", flat=True))
    conflicts = {}
    for eid, uid in ConflictOfInterest.objects.filter(active=True, enterprise_id__in=ids).values_list(
            "enterprise_id", "inspector_id"):
        conflicts.setdefault(str(eid), []).append(uid)
    previous = {str(eid): ids_ for eid, ids_ in previous_inspectors(ids).items() if ids_}
    return {"populations": populations, "inspectors": inspectors,
            "conflicts": {k: sorted(v) for k, v in conflicts.items()}, "previous": previous}


def merged_exclusions(inputs):
    out = {}
    for source in ("conflicts", "previous"):
        for eid, ids in inputs.get(source, {}).items():
            out.setdefault(str(eid), set()).update(ids)
    return {k: sorted(v) for k, v in out.items()}


def run_draw(organisation, *, user, seed=None, profile=None, ratios=None, per_enterprise=2, name="",
             create_tasks=False, due_on=None):
    require(user, "supervision.add_randomdraw")
    require_scope(user, organisation.region_id)
    profile = profile or active_profile()
    if profile is None:
        raise ValidationError(_("No supervision profile is configured."))
    ratios = {g: float((ratios or {}).get(g, profile.ratio(g))) for g in GRADES}
    if any(not 0 <= r <= 1 for r in ratios.values()):
        raise ValidationError(_("Sampling ratios must lie between 0 and 1."))
    seed = int(seed) if seed not in (None, "") else secrets.randbits(48)
    if create_tasks and due_on is None:
        due_on = timezone.localdate() + timezone.timedelta(days=params.get("task_default_days", 30))
    with transaction.atomic():
        inputs = gather_inputs(organisation)
        if len(inputs["inspectors"]) < per_enterprise:
            raise ValidationError(_("%(org)s has %(n)d eligible inspectors; a draw needs at least %(k)d.")
                                  % {"org": organisation, "n": len(inputs["inspectors"]), "k": per_enterprise})
        result = select(inputs["populations"], ratios, inputs["inspectors"], merged_exclusions(inputs), seed,
                        per_enterprise)
        draw = RandomDraw.objects.create(
            organisation=organisation, profile=profile, name=name or _("Random draw %(date)s") % {
                "date": timezone.localdate()},
            seed=seed, ratios=ratios, inspectors_per_enterprise=per_enterprise, inputs=inputs,
            population_counts={g: len(inputs["populations"][g]) for g in GRADES},
            selected_counts={g: sum(1 for r in result if r["grade"] == g) for g in GRADES},
            unassigned=sum(1 for r in result if not r["inspectors"]), due_on=due_on, created_by=user)
        grades = dict(jurisdiction(organisation).values_list("pk", "current_grade"))
        DrawItem.objects.bulk_create([
            DrawItem(draw=draw, position=n, enterprise_id=r["enterprise"], grade=grades.get(r["enterprise"]) or "",
                     inspector_1_id=(r["inspectors"] or [None])[0],
                     inspector_2_id=r["inspectors"][1] if len(r["inspectors"]) > 1 else None,
                     note=_("Not enough eligible inspectors.") if r["note"] else "")
            for n, r in enumerate(result, start=1)])
        audit.record("supervision.draw.run", draw, user=user, region_code=organisation.region_id, details={
            "seed": seed, "profile": profile.code, "ratios": ratios, "per_enterprise": per_enterprise,
            "population": draw.population_counts, "selected": draw.selected_counts,
            "inspectors": inputs["inspectors"], "unassigned": draw.unassigned,
            "items": [[r["enterprise"], r["inspectors"]] for r in result]})
        if create_tasks:
            create_tasks_for(draw, user=user, due_on=due_on)
    return draw


def replay(draw):
    """Recompute the draw from its stored seed and inputs."""
    inputs = draw.inputs
    return select(inputs["populations"], draw.ratios, inputs["inspectors"], merged_exclusions(inputs), draw.seed,
                  draw.inspectors_per_enterprise)


def as_result(draw):
    return [{"enterprise": i.enterprise_id, "inspectors": [x for x in (i.inspector_1_id, i.inspector_2_id) if x]}
            for i in draw.items.order_by("position")]


def verify(draw):
    """True when recomputing from the seed gives exactly the stored draw."""
    return [{"enterprise": r["enterprise"], "inspectors": r["inspectors"]} for r in replay(draw)] == as_result(draw)


def create_tasks_for(draw, *, user, due_on=None):
    """One inspection task per drawn enterprise, assigned to its two inspectors."""
    from .tasks import create_task

    due_on = due_on or draw.due_on or (timezone.localdate() + timezone.timedelta(
        days=params.get("task_default_days", 30)))
    created = []
    with transaction.atomic():
        tasked = set(Task.objects.filter(draw_item__draw=draw).values_list("draw_item_id", flat=True))
        for item in draw.items.select_related("enterprise", "inspector_1", "inspector_2").order_by("position"):
            if item.inspector_1_id is None or item.pk in tasked:
                continue
            created.append(create_task(
                item.enterprise, TaskKind.INSPECTION, user=user, organisation=draw.organisation,
                assignee=item.inspector_1, second_assignee=item.inspector_2, due_on=due_on,
                title=_("Random inspection (draw %(draw)s)") % {"draw": draw}, source=TaskSource.DRAW,
                source_ref=str(draw.pk), draw_item=item, notify=True))
        RandomDraw.objects.filter(pk=draw.pk).update(tasks_created=True, due_on=due_on)
        audit.record("supervision.draw.tasks", draw, user=user, details={"tasks": len(created)})
    return created
