from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from supervision_testkit import MANAGER_PERMS, inspectors, org, person, population

from foodrisk.core.models import AuditEntry
from foodrisk.records.models import Inspection
from foodrisk.supervision.models import SupervisionProfile
from foodrisk.supervision.services import plans, profiles

pytestmark = pytest.mark.django_db

START, END = date(2026, 1, 1), date(2026, 12, 31)


def inspect(e, on, no, kind="routine"):
    return Inspection.objects.create(enterprise=e, inspection_no=no, inspected_on=on, kind=kind, result="pass")


@pytest.fixture
def district():
    ents = population({"D": 4, "C": 3, "B": 5, "A": 8})
    population({"D": 2, "A": 2}, region_code="330106", start=500)  # another district: never in the plan
    inspectors(5)
    manager = person("manager", "330102", *MANAGER_PERMS)
    return org("330102"), ents, manager


def test_seeded_profiles_and_one_active():
    assert set(SupervisionProfile.objects.values_list("code", flat=True)) >= {"food_2016", "food_2022_draft"}
    assert SupervisionProfile.objects.filter(active=True).count() == 1
    p2016 = SupervisionProfile.objects.get(code="food_2016")
    assert p2016.min_per_year == {"A": 1, "B": 1, "C": 2, "D": 3} and p2016.max_per_year["D"] == 4
    draft = SupervisionProfile.objects.get(code="food_2022_draft")
    assert draft.min_per_year["A"] == 0.5 and draft.sampling_ratios == {"A": 0.02, "B": 0.05, "C": 1.0, "D": 1.0}
    assert p2016.sampling_ratios["A"] == 0.05 and p2016.floor_months == 24
    profiles.activate(draft, user=None)
    assert list(SupervisionProfile.objects.filter(active=True)) == [draft]


def test_key_supervision_rules():
    p = SupervisionProfile.objects.get(code="food_2016")
    prod_c, sales_c, sales_d = population({"C": 1}, start=900)[0], population({"C": 1}, start=901)[0], \
        population({"D": 1}, start=902)[0]
    prod_c.business_form = "production"
    assert p.is_key(prod_c) and not p.is_key(sales_c) and p.is_key(sales_d)
    sales_c.key_supervision = True  # central kitchen / collective meals: flagged on the enterprise
    assert p.is_key(sales_c)
    assert p.frequency("C", key=True) == 3 and p.frequency("C") == 2


def test_plan_covers_every_d_three_times_and_the_two_year_floor(district):
    organisation, ents, manager = district
    draft = SupervisionProfile.objects.get(code="food_2022_draft")
    a = [e for e in ents if e.current_grade == "A"]
    d = [e for e in ents if e.current_grade == "D"]
    inspect(a[0], date(2025, 6, 1), "I-recent")  # inspected 7 months before: not due this year
    inspect(a[1], date(2024, 10, 1), "I-old")  # the 24-month floor falls due in October 2026
    inspect(d[0], date(2026, 3, 1), "I-done")  # one of its three already done
    plan = plans.create_plan(organisation, START, END, user=manager, profile=draft)
    items = {i.enterprise_id: i for i in plan.items.all()}
    assert set(items) == {e.pk for e in ents}  # only the district's enterprises
    assert plan.inspectors == 5 and plan.capacity == 600 and plan.uncovered_total == 0
    for e in d:
        assert items[e.pk].planned + items[e.pk].done >= 3
    assert items[d[0].pk].done == 1 and items[d[0].pk].planned == 2
    assert items[a[0].pk].required == 0 and not items[a[0].pk].floor_due
    assert items[a[1].pk].required == 1 and items[a[1].pk].floor_due
    for e in ents:  # every enterprise at least once per two years
        item = items[e.pk]
        last = item.last_full_inspection
        assert item.planned + item.done >= 1 or (last and last >= date(2025, 1, 1))
    ranks = [items[e.pk].rank for e in d]
    assert max(ranks) < min(items[e.pk].rank for e in a)  # D first
    entry = AuditEntry.objects.get(action="supervision.plan.create", object_id=str(plan.pk))
    assert entry.details["capacity"] == 600 and entry.details["profile"] == "food_2022_draft"


def test_plan_reports_what_capacity_cannot_cover(district):
    organisation, ents, manager = district
    plan = plans.create_plan(organisation, START, END, user=manager, per_inspector=2)  # 5 × 2 = 10
    assert plan.capacity == 10
    # 2016 profile: D 4 (key supervision: D traders → upper end), C 2, B 1, A 1 → 16 + 6 + 5 + 8 = 35
    assert plan.required_total == 35 and plan.planned_total == 10 and plan.uncovered_total == 25
    items = list(plan.items.select_related("enterprise").order_by("rank"))
    assert all(i.planned >= 1 for i in items if i.grade == "D")  # round one goes to the highest risk
    assert all(i.planned == 0 and i.uncovered == 1 for i in items if i.grade == "A")
    assert plan.summary["uncovered_enterprises"] == sum(1 for i in items if i.uncovered)


def test_plan_needs_permission_and_scope(district):
    organisation, _ents, _manager = district
    outsider = person("outsider", "330106", *MANAGER_PERMS)
    with pytest.raises(PermissionDenied):
        plans.create_plan(organisation, START, END, user=outsider)
    nobody = person("nobody", "330102")
    with pytest.raises(PermissionDenied):
        plans.create_plan(organisation, START, END, user=nobody)
