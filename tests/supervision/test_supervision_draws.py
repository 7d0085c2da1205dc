import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from supervision_testkit import MANAGER_PERMS, inspectors, org, person, population

from foodrisk.core.models import AuditEntry
from foodrisk.supervision.models import ConflictOfInterest, Task
from foodrisk.supervision.services import draws

pytestmark = pytest.mark.django_db


class Rollback(Exception):
    pass


@pytest.fixture
def district():
    ents = population({"D": 4, "C": 5, "B": 6, "A": 5})
    people = inspectors(5)
    manager = person("manager", "330102", *MANAGER_PERMS)
    # inspector 0 is related to every D enterprise
    for e in ents:
        if e.current_grade == "D":
            ConflictOfInterest.objects.create(inspector=people[0], enterprise=e, reason="亲属")
    return org("330102"), ents, people, manager


def pairs(draw):
    return [(i.enterprise_id, i.inspector_1_id, i.inspector_2_id) for i in draw.items.order_by("position")]


def test_draw_is_reproducible_from_its_seed(district):
    organisation, _ents, _people, manager = district
    try:
        with transaction.atomic():
            first = pairs(draws.run_draw(organisation, user=manager, seed=20260401))
            raise Rollback
    except Rollback:
        pass
    again = draws.run_draw(organisation, user=manager, seed=20260401)
    assert pairs(again) == first
    assert again.seed == 20260401 and draws.verify(again)
    other = draws.run_draw(organisation, user=manager, seed=7)
    assert draws.verify(other)
    entry = AuditEntry.objects.get(action="supervision.draw.run", object_id=str(again.pk))
    assert entry.details["seed"] == 20260401 and entry.details["ratios"]["D"] == 1.0
    assert entry.details["items"] == [[e, [a, b]] for e, a, b in first]


def test_draw_without_seed_records_a_random_one(district):
    organisation, _ents, _people, manager = district
    draw = draws.run_draw(organisation, user=manager)
    assert draw.seed > 0 and draws.verify(draw)


def test_draw_respects_ratios_inspectors_and_conflicts(district):
    organisation, ents, people, manager = district
    draw = draws.run_draw(organisation, user=manager, seed=1)
    # 2016 profile with Daqing ratios: D 100 %, C 60 %, B 20 %, A 5 % (rounded up)
    assert draw.population_counts == {"A": 5, "B": 6, "C": 5, "D": 4}
    assert draw.selected_counts == {"D": 4, "C": 3, "B": 2, "A": 1}
    grade = {e.pk: e.current_grade for e in ents}
    for enterprise_id, a, b in pairs(draw):
        assert a and b and a != b
        if grade[enterprise_id] == "D":
            assert people[0].pk not in (a, b)
    assert draw.unassigned == 0


def test_never_the_same_inspector_twice_in_a_row(district):
    organisation, _ents, _people, manager = district
    first = {e: {a, b} for e, a, b in pairs(draws.run_draw(organisation, user=manager, seed=11))}
    second = draws.run_draw(organisation, user=manager, seed=11)
    for enterprise_id, a, b in pairs(second):
        if enterprise_id in first:
            assert not first[enterprise_id] & {a, b}
    assert draws.verify(second)  # the exclusions are part of the stored inputs


def test_custom_ratios_and_tasks(district):
    organisation, _ents, people, manager = district
    draw = draws.run_draw(organisation, user=manager, seed=3, ratios={"A": 0, "B": 0, "C": 0, "D": 0.5},
                          create_tasks=True)
    assert draw.selected_counts == {"A": 0, "B": 0, "C": 0, "D": 2}
    tasks = Task.objects.filter(draw_item__draw=draw)
    assert tasks.count() == 2 and all(t.assignee_id and t.second_assignee_id for t in tasks)
    assert set(tasks.values_list("source", flat=True)) == {"draw"}


def test_a_task_title_names_its_draw_once(district):
    from django.utils import translation

    organisation, _ents, _people, manager = district
    with translation.override("zh-hans"):
        draw = draws.run_draw(organisation, user=manager, seed=3, ratios={"A": 0, "B": 0, "C": 0, "D": 0.5},
                              create_tasks=True)
        title = Task.objects.filter(draw_item__draw=draw).first().title
    assert draw.name.startswith("双随机抽取")  # the default name already says what it is
    assert title == f"随机抽查（{draw.name}）" and title.count("双随机抽取") == 1


def test_too_few_inspectors_is_refused():
    population({"D": 1})
    inspectors(1)
    manager = person("manager", "330102", *MANAGER_PERMS)
    with pytest.raises(ValidationError):
        draws.run_draw(org("330102"), user=manager, seed=1)


def test_select_is_pure():
    args = ({"D": [3, 1, 2], "A": [9, 8]}, {"D": 1, "A": 0.5}, [10, 11, 12], {"1": [10]}, 99)
    assert draws.select(*args) == draws.select(*args)
    out = draws.select(*args)
    assert len(out) == 4 and all(len(r["inspectors"]) == 2 for r in out)
    assert 10 not in next(r for r in out if r["enterprise"] == 1)["inspectors"]
