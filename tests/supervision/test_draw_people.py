"""双随机 draws that respect people: capacity, spread due dates, absences, conflicts, borrowing from the parent
organisation, one digest notification per inspector, scope — through the service, the form and the API."""

from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from supervision_testkit import (
    INSPECTOR_PERMS,
    MANAGER_PERMS,
    enterprise,
    inspectors,
    org,
    person,
    population,
)

from foodrisk.core.models import AuditEntry, Notification, Parameter
from foodrisk.supervision.models import ConflictOfInterest, InspectorAbsence, RandomDraw, Task
from foodrisk.supervision.services import draws, plans, tasks

pytestmark = pytest.mark.django_db

ONLY_D = {"A": 0, "B": 0, "C": 0, "D": 1}
ABSENCE_PERMS = ("supervision.view_inspectorabsence", "supervision.add_inspectorabsence",
                 "supervision.change_inspectorabsence")


def today():
    return timezone.localdate()


def per_year(n):
    Parameter.objects.filter(key="inspections_per_inspector_year").update(value=n)


def load(draw):
    """{inspector id: enterprises given to them in the draw}."""
    out = Counter()
    for item in draw.items.all():
        for uid in (item.inspector_1_id, item.inspector_2_id):
            if uid:
                out[uid] += 1
    return out


@pytest.fixture
def manager():
    return person("manager", "330102", *MANAGER_PERMS, *ABSENCE_PERMS)


def test_capacity_is_respected_and_the_overflow_reported(client, manager):
    per_year(73)  # 0.2 a day: 2 enterprises each in a 10-day period
    people = inspectors(3)
    ents = population({"D": 6})
    # an open task already held by inspectors 0 and 1 in the period takes one unit each
    tasks.create_task(enterprise(100, grade="A"), "inspection", user=manager, organisation=org("330102"),
                      assignee=people[0], second_assignee=people[1], due_on=today() + timedelta(days=3))
    draw = draws.run_draw(org("330102"), user=manager, seed=8, ratios=ONLY_D, period_end=today() + timedelta(days=9))
    capacity = {people[0].pk: 1, people[1].pk: 1, people[2].pk: 2}
    assert draw.inputs["capacity"] == {str(k): v for k, v in capacity.items()}
    for uid, n in load(draw).items():
        assert n <= capacity[uid]
    placed = [i for i in draw.items.all() if i.inspector_1_id]
    assert len(placed) == 2 and draw.unassigned == 4 and draw.selected_counts["D"] == len(ents)
    unplaced = list(draws.unplaced(draw))
    assert len(unplaced) == 4 and all("承载能力" in i.note for i in unplaced)
    assert draws.verify(draw)  # the capacities are part of the stored inputs
    entry = AuditEntry.objects.get(action="supervision.draw.run", object_id=str(draw.pk))
    assert sorted(entry.details["unplaced"]) == sorted(i.enterprise_id for i in unplaced)
    client.force_login(manager)
    page = client.get(draw.get_absolute_url()).content.decode()
    assert "4 家抽中的企业未能分派执法人员" in page
    assert all(i.enterprise.name in page for i in unplaced)


def test_due_dates_spread_over_the_period_higher_risk_first(manager):
    inspectors(4)
    ents = population({"D": 2, "C": 3, "B": 5})
    for n, e in enumerate(ents):
        e.current_score = 100 - n if e.current_grade == "C" else 50
        e.save(update_fields=["current_score"])
    end = today() + timedelta(days=29)
    draw = draws.run_draw(org("330102"), user=manager, seed=2, ratios={"B": 1, "C": 1, "D": 1}, period_end=end,
                          create_tasks=True)
    made = list(Task.objects.filter(draw_item__draw=draw).select_related("enterprise"))
    assert len(made) == 10
    dues = [t.due_on for t in made]
    assert all(today() <= d <= end for d in dues) and max(dues) == end and len(set(dues)) >= 8
    rank = {"D": 0, "C": 1, "B": 2}
    ordered = sorted(made, key=lambda t: t.due_on)
    assert [rank[t.enterprise.current_grade] for t in ordered] == sorted(rank[t.enterprise.current_grade]
                                                                        for t in made)
    c_tasks = [t for t in ordered if t.enterprise.current_grade == "C"]
    assert [t.enterprise.current_score for t in c_tasks] == sorted((t.enterprise.current_score for t in c_tasks),
                                                                  reverse=True)
    assert draw.period_start == today() and draw.period_end == end and draw.due_on == end


def test_a_plan_gives_the_period(manager):
    inspectors(3)
    population({"D": 3})
    start, end = today() + timedelta(days=10), today() + timedelta(days=69)
    plan = plans.create_plan(org("330102"), start, end, user=manager)
    draw = draws.run_draw(org("330102"), user=manager, seed=4, ratios=ONLY_D, plan=plan, create_tasks=True)
    assert (draw.plan, draw.period_start, draw.period_end) == (plan, start, end)
    dues = sorted(Task.objects.filter(draw_item__draw=draw).values_list("due_on", flat=True))
    assert start < dues[0] and dues[-1] == end
    other = plans.create_plan(org("330106"), start, end, user=person("westplanner", "330106", *MANAGER_PERMS))
    with pytest.raises(ValidationError):
        draws.run_draw(org("330102"), user=manager, plan=other)


def test_absent_and_conflicted_inspectors_are_skipped(manager):
    people = inspectors(4)
    ents = population({"D": 4})
    InspectorAbsence.objects.create(user=people[0], start=today() + timedelta(days=5),
                                    end=today() + timedelta(days=8), reason="年休假")
    InspectorAbsence.objects.create(user=people[3], start=today() - timedelta(days=20),
                                    end=today() - timedelta(days=1), reason="培训")  # over before the period
    ConflictOfInterest.objects.create(inspector=people[1], enterprise=ents[0], reason="亲属")
    draw = draws.run_draw(org("330102"), user=manager, seed=3, ratios=ONLY_D, period_end=today() + timedelta(days=29))
    assert draw.inputs["absent"] == [people[0].pk]
    assert people[0].pk not in load(draw) and people[3].pk in load(draw)
    first = draw.items.get(enterprise=ents[0])
    assert people[1].pk not in (first.inspector_1_id, first.inspector_2_id)
    assert draws.verify(draw)


def test_one_eligible_inspector_is_explained_in_chinese_and_borrowing_helps(manager):
    people = inspectors(2)
    population({"D": 2})
    InspectorAbsence.objects.create(user=people[1], start=today(), end=today() + timedelta(days=60))
    district = org("330102")
    district.parent = org("330100")
    district.save(update_fields=["parent"])
    with pytest.raises(ValidationError) as refused:
        draws.run_draw(district, user=manager, seed=1)
    message = refused.value.messages[0]
    assert "仅有 1 名符合条件的执法人员" in message and "1 名离岗" in message
    assert "允许从上级机构抽调执法人员" in message and "杭州市" in message
    assert not RandomDraw.objects.exists()
    with pytest.raises(ValidationError):  # the parent has no inspectors yet
        draws.run_draw(district, user=manager, seed=1, borrow=True)
    city = person("city-inspector", "330100", *INSPECTOR_PERMS)
    draw = draws.run_draw(district, user=manager, seed=1, borrow=True, create_tasks=True)
    assert draw.borrowed and draw.unassigned == 0
    assert all({i.inspector_1_id, i.inspector_2_id} == {people[0].pk, city.pk} for i in draw.items.all())
    assert Task.objects.filter(draw_item__draw=draw, second_assignee__isnull=False).count() == 2


def test_one_digest_notification_per_inspector(manager):
    people = inspectors(3)
    population({"D": 5})
    draw = draws.run_draw(org("330102"), user=manager, seed=6, ratios=ONLY_D, create_tasks=True)
    counts = load(draw)
    assert sum(counts.values()) == 10
    for person_ in people:
        notes = Notification.objects.filter(recipient=person_)
        assert notes.count() == 1
        note = notes.get()
        first = min(t.due_on for t in Task.objects.filter(draw_item__draw=draw)
                    if person_.pk in (t.assignee_id, t.second_assignee_id))
        assert f"您有 {counts[person_.pk]} 项新的监管任务" in note.title
        assert f"最早 {first}" in note.body or f"最早 {first:%Y年%-m月%-d日}" in note.body
        assert note.link == reverse("supervision:my_tasks")
    entry = AuditEntry.objects.get(action="supervision.draw.tasks", object_id=str(draw.pk))
    assert entry.details["tasks"] == 5 and sorted(entry.details["notified"]) == sorted(p.pk for p in people)


def test_another_district_cannot_draw_for_this_one(client):
    inspectors(3)
    population({"D": 2})
    west = person("westboss", "330106", *MANAGER_PERMS)
    with pytest.raises(PermissionDenied):
        draws.run_draw(org("330102"), user=west, seed=1)
    client.force_login(west)
    page = client.post(reverse("supervision:randomdraw_add"), {"organisation": org("330102").pk})
    assert page.status_code == 200 and not RandomDraw.objects.exists()
    api = client.post("/api/supervision/draws/", {"organisation": org("330102").pk}, content_type="application/json")
    assert api.status_code in (400, 403) and not RandomDraw.objects.exists()


def test_the_form_explains_and_borrows(client, manager):
    people = inspectors(1)
    population({"D": 2})
    district = org("330102")
    district.parent = org("330100")
    district.save(update_fields=["parent"])
    client.force_login(manager)
    url = reverse("supervision:randomdraw_add")
    form = client.get(url).content.decode()
    assert "允许从上级机构抽调执法人员" in form
    data = {"organisation": district.pk, "seed": 5, "create_tasks": "on",
            "period_end": (today() + timedelta(days=20)).isoformat()}
    refused = client.post(url, data)
    assert refused.status_code == 200 and "仅有 1 名符合条件的执法人员" in refused.content.decode()
    city = person("city-inspector", "330100", *INSPECTOR_PERMS)
    done = client.post(url, {**data, "borrow": "on"})
    assert done.status_code == 302, done.content.decode()[:2000]
    draw = RandomDraw.objects.get()
    assert draw.borrowed and set(load(draw)) == {people[0].pk, city.pk}
    assert Notification.objects.filter(recipient=city).count() == 1
    page = client.get(done["Location"]).content.decode()
    assert "已从上级机构抽调执法人员" in page


def test_api_draw_with_period_and_absences(client, manager):
    people = inspectors(3)
    population({"D": 3})
    client.force_login(manager)
    r = client.post("/api/supervision/absences/", {"user": people[2].pk, "start": today().isoformat(),
                                                   "end": (today() + timedelta(days=3)).isoformat(), "reason": "病假"},
                    content_type="application/json")
    assert r.status_code == 201, r.content
    assert AuditEntry.objects.filter(action__startswith="supervision.inspectorabsence").exists()
    bad = client.post("/api/supervision/absences/", {"user": people[2].pk, "start": today().isoformat(),
                                                     "end": (today() - timedelta(days=3)).isoformat()},
                      content_type="application/json")
    assert bad.status_code == 400
    end = today() + timedelta(days=14)
    r = client.post("/api/supervision/draws/", {"organisation": org("330102").pk, "seed": 77, "ratios": ONLY_D,
                                               "period_end": end.isoformat(), "create_tasks": True},
                    content_type="application/json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["period_end"] == end.isoformat() and body["unplaced"] == [] and body["unassigned"] == 0
    assert all(today().isoformat() <= i["due_on"] <= end.isoformat() for i in body["items"])
    assert all(people[2].pk not in (i["inspector_1"], i["inspector_2"]) for i in body["items"])


def test_absence_pages(client, manager):
    people = inspectors(2)
    client.force_login(manager)
    assert client.get(reverse("supervision:inspectorabsence_list")).status_code == 200
    add = client.get(reverse("supervision:inspectorabsence_add"))
    assert add.status_code == 200 and "离岗开始日期" in add.content.decode()
    r = client.post(reverse("supervision:inspectorabsence_add"), {
        "user": people[0].pk, "start": today().isoformat(), "end": (today() + timedelta(days=2)).isoformat(),
        "reason": "年休假"})
    assert r.status_code == 302
    absence = InspectorAbsence.objects.get()
    assert client.get(absence.get_absolute_url()).status_code == 200
    assert AuditEntry.objects.filter(action="supervision.inspectorabsence.create").exists()


def test_an_elapsed_part_of_the_period_adds_no_capacity_and_its_absences_do_not_count(manager):
    per_year(73)
    people = inspectors(2)
    population({"D": 3})
    InspectorAbsence.objects.create(user=people[0], start=today() - timedelta(days=90),
                                    end=today() - timedelta(days=80))
    draw = draws.run_draw(org("330102"), user=manager, seed=9, ratios=ONLY_D,
                          period_start=today() - timedelta(days=180), period_end=today() + timedelta(days=9))
    assert draw.inputs["absent"] == [] and draw.inputs["capacity"] == {str(p.pk): 2 for p in people}
    assert draw.unassigned == 1 and all(today() <= i.due_on for i in draw.items.exclude(due_on=None))
