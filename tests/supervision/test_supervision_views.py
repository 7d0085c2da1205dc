import re

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator
from supervision_testkit import (
    INSPECTOR_PERMS,
    MANAGER_PERMS,
    enterprise,
    inspectors,
    org,
    person,
    population,
)

from foodrisk.core.models import AuditEntry
from foodrisk.core.testing import export_list
from foodrisk.records.models import Inspection
from foodrisk.supervision.models import (
    ChecklistTemplate,
    InspectionPlan,
    RandomDraw,
    SupervisionProfile,
    Task,
)
from foodrisk.supervision.services import draws, tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(client):
    people = inspectors(3)
    manager = person("manager", "330102", *MANAGER_PERMS)
    west_people = inspectors(2, "330106", prefix="w")
    west = person("westboss", "330106", *MANAGER_PERMS)
    mine = enterprise(1, grade="C")
    theirs = enterprise(2, region_code="330106", grade="D")
    my_task = tasks.create_task(mine, "inspection", user=manager, organisation=org("330102"), assignee=people[0],
                                second_assignee=people[1])
    their_task = tasks.create_task(theirs, "inspection", user=west, organisation=org("330106"),
                                   assignee=west_people[0])
    return {"people": people, "manager": manager, "mine": mine, "theirs": theirs, "my_task": my_task,
            "their_task": their_task}


def all_pass():
    return {f"item_{i.pk}": "pass" for i in ChecklistTemplate.objects.get(code="general_2022").items.all()}


def test_other_regions_task_is_not_found_and_cannot_get_a_result(client, world):
    inspector = world["people"][0]
    client.force_login(inspector)
    their = world["their_task"]
    assert client.get(reverse("supervision:task_detail", args=[their.pk])).status_code == 404
    assert client.get(reverse("supervision:task_result", args=[their.pk])).status_code == 404
    data = {**all_pass(), "inspected_on": "2026-01-05"}
    assert client.post(reverse("supervision:task_result", args=[their.pk]), data).status_code == 404
    assert client.get(f"/api/supervision/tasks/{their.pk}/").status_code == 404
    assert client.post(f"/api/supervision/tasks/{their.pk}/result/", {"answers": {}},
                       content_type="application/json").status_code == 404
    with pytest.raises(Exception):  # noqa: B017  (the service refuses too)
        tasks.record_result(their, user=inspector, answers={})
    assert not Inspection.objects.exists()
    listed = client.get(reverse("supervision:task_list"))
    pks = {row.record.pk for row in listed.context["table"].rows}
    assert world["my_task"].pk in pks and their.pk not in pks


def test_station_user_sees_its_own_tasks(client, world):
    from foodrisk.core.models import Organisation, Region

    station = Region.objects.create(code="330102001", name="湖滨所", level="station", parent_id="330102")
    st_org = Organisation.objects.create(code="ST1", name="湖滨市场监管所", kind="station", region=station)
    from foodrisk.core.models import User
    from foodrisk.core.testing import grant

    officer = grant(User.objects.create_user("station", organisation=st_org), *INSPECTOR_PERMS)
    task = world["my_task"]
    Task.objects.filter(pk=task.pk).update(second_assignee=officer)
    client.force_login(officer)
    response = client.get(reverse("supervision:task_list"))
    assert {row.record.pk for row in response.context["table"].rows} == {task.pk}
    assert client.get(reverse("supervision:task_detail", args=[world["their_task"].pk])).status_code == 404


def test_tablet_result_form_creates_the_inspection(client, world):
    inspector, task = world["people"][0], world["my_task"]
    client.force_login(inspector)
    page = client.get(reverse("supervision:task_result", args=[task.pk]))
    assert page.status_code == 200 and b"btn-check" in page.content
    data = {**all_pass(), "inspected_on": "2026-01-05", "findings": "良好"}
    response = client.post(reverse("supervision:task_result", args=[task.pk]), data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    task.refresh_from_db()
    assert task.status == "done" and task.inspection.result == "pass"


def test_pages_render(client, world):
    manager = world["manager"]
    client.force_login(manager)
    draw = draws.run_draw(org("330102"), user=manager, seed=5)
    for name in ("task_list", "my_tasks", "rectification_list", "repaircase_list", "inspectionplan_list",
                 "randomdraw_list", "conflictofinterest_list", "supervisionprofile_list",
                 "checklisttemplate_list", "task_add", "inspectionplan_add", "randomdraw_add", "repaircase_add",
                 "conflictofinterest_add"):
        assert client.get(reverse(f"supervision:{name}")).status_code == 200, name
    assert client.get(reverse("core:exportrequest_list")).status_code == 200
    # each list has its own title (我的任务 and 整改 were both titled 监管任务)
    titles = {name: re.search(r"<h1[^>]*>([^<]+)</h1>", client.get(reverse(f"supervision:{name}")).content.decode())[1]
              for name in ("task_list", "my_tasks", "rectification_list")}
    assert titles == {"task_list": "监管任务", "my_tasks": "我的任务", "rectification_list": "整改"}, titles
    assert export_list(client, reverse("supervision:task_list"), "xlsx").status_code == 200
    assert client.get(draw.get_absolute_url()).status_code == 200
    assert client.get(world["my_task"].get_absolute_url()).status_code == 200
    profile = SupervisionProfile.objects.get(active=True)
    assert client.get(profile.get_absolute_url()).status_code == 200
    response = client.post(reverse("supervision:inspectionplan_add"), {
        "organisation": org("330102").pk, "period_start": "2026-01-01", "period_end": "2026-12-31"})
    assert response.status_code == 302
    plan_page = client.get(response["Location"])
    assert plan_page.status_code == 200 and b"data-echarts" in plan_page.content
    plan = InspectionPlan.objects.latest("pk")
    assert b"supervision/plans/items/?plan=" in plan_page.content
    items = export_list(client, reverse("supervision:planitem_list") + f"?plan={plan.pk}", "xlsx")
    assert items.status_code == 200 and items["Content-Disposition"].endswith('.xlsx"')
    profile_page = client.get(world["mine"].get_absolute_url())
    assert profile_page.status_code == 200 and "supervision/profile_measures.html" in [
        t.name for t in profile_page.templates]


def test_menu_section(client, world):
    from foodrisk.core.navigation import menu_for

    keys = {s["key"]: s for s in menu_for(world["manager"])}
    assert "supervision" in keys and len(keys["supervision"]["items"]) >= 8


def test_api_draw_plan_and_repair_flow(client, world):
    manager = world["manager"]
    client.force_login(manager)
    population({"B": 4}, start=50)
    r = client.post("/api/supervision/draws/", {"organisation": org("330102").pk, "seed": 4242},
                    content_type="application/json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["seed"] == 4242 and body["items"]
    assert client.get(f"/api/supervision/draws/{body['id']}/verify/").json() == {"seed": 4242, "reproducible": True}
    # documented as what it returns (schemathesis found the RandomDraw schema there)
    verify = SchemaGenerator().get_schema(request=None, public=True)["paths"][
        "/api/supervision/draws/{id}/verify/"]["get"]["responses"]["200"]
    assert verify["content"]["application/json"]["schema"]["$ref"].endswith("/DrawVerify")
    assert RandomDraw.objects.get(pk=body["id"]).seed == 4242
    r = client.post("/api/supervision/plans/", {"organisation": org("330102").pk, "period_start": "2026-01-01",
                                                "period_end": "2026-12-31"}, content_type="application/json")
    assert r.status_code == 201, r.content
    assert client.get(f"/api/supervision/plans/{r.json()['id']}/items/").status_code == 200
    assert client.get("/api/supervision/profiles/").status_code == 200
    r = client.post(f"/api/supervision/tasks/{world['my_task'].pk}/transition/", {"action": "start"},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "in_progress"
    r = client.post("/api/supervision/tasks/", {"kind": "interview", "enterprise": world["theirs"].pk,
                                                "organisation": org("330102").pk}, content_type="application/json")
    assert r.status_code == 400  # another region's enterprise is not a valid choice
    assert AuditEntry.objects.filter(action="supervision.draw.run").exists()


def test_repair_and_export_pages(client, world):
    from foodrisk.records.models import Penalty
    from foodrisk.supervision.models import RepairCase

    manager = world["manager"]
    chief = person("chief", "330102", *MANAGER_PERMS)
    p = Penalty.objects.create(enterprise=world["mine"], decision_no="P-v", decided_on="2025-01-10",
                               violation_type="标签不符合规定", severity="general", fine=3000)
    client.force_login(manager)
    form = client.get(reverse("supervision:repaircase_add") + f"?enterprise={world['mine'].pk}")
    assert form.status_code == 200 and b"P-v" in form.content
    response = client.post(reverse("supervision:repaircase_add"), {
        "enterprise": world["mine"].pk, "penalty": p.pk, "commitment": "守信承诺"})
    assert response.status_code == 302, response.context["form"].errors
    case = RepairCase.objects.get()
    assert client.get(case.get_absolute_url()).status_code == 200
    client.post(reverse("supervision:repaircase_action", args=[case.pk, "review"]))
    client.post(reverse("supervision:repaircase_action", args=[case.pk, "decide"]), {"approve": "1"})
    case.refresh_from_db()
    assert case.status == "reviewed"  # the recorder may not decide
    client.force_login(chief)
    page = client.get(case.get_absolute_url())
    assert page.status_code == 200 and page.context["can_decide"]
    client.post(reverse("supervision:repaircase_action", args=[case.pk, "decide"]), {"approve": "1"})
    case.refresh_from_db()
    p.refresh_from_db()
    assert case.status == "approved" and p.repaired

    response = export_list(client, reverse("supervision:task_list"), "xlsx", include_sensitive="on", reason="报送")
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200 and not page.context["can_decide"]
    req_pk = page.context["object"].pk
    client.force_login(manager)
    assert client.get(response["Location"]).context["can_decide"]
    client.post(reverse("core:exportrequest_action", args=[req_pk, "approve"]), {"note": "同意"})
    from foodrisk.core.models import ExportRequest

    assert ExportRequest.objects.get(pk=req_pk).status == "approved"
    template = ChecklistTemplate.objects.get(code="general_2022")
    assert client.get(reverse("supervision:checklisttemplate_detail", args=[template.pk])).status_code == 200


def test_rectification_pages(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    inspector, task = world["people"][0], world["my_task"]
    answers = {str(k[5:]): "fail" if i == 0 else "pass" for i, k in enumerate(all_pass())}
    _t, _i, rect = tasks.record_result(task, user=inspector, answers=answers)
    client.force_login(inspector)
    page = client.get(rect.get_absolute_url())
    assert page.status_code == 200 and page.context["can_submit"]
    client.post(reverse("supervision:task_action", args=[rect.pk, "submit"]),
                {"files": SimpleUploadedFile("a.jpg", b"x", content_type="image/jpeg"), "note": "已整改"})
    rect.refresh_from_db()
    assert rect.status == "verifying"
    client.force_login(world["manager"])
    client.post(reverse("supervision:task_action", args=[rect.pk, "verify"]), {"accepted": "on"})
    rect.refresh_from_db()
    assert rect.status == "done"
    assert client.get(reverse("supervision:rectification_list")).status_code == 200


def test_profile_activation_needs_the_second_confirmation(client, world):
    boss = person("policy", "330102", "supervision.view_supervisionprofile", "supervision.change_supervisionprofile")
    draft = SupervisionProfile.objects.get(code="food_2022_draft")
    client.force_login(boss)
    page = client.get(draft.get_absolute_url())
    assert 'name="confirmed"' in page.content.decode()
    url = reverse("supervision:supervisionprofile_activate", args=[draft.pk])
    client.post(url)
    draft.refresh_from_db()
    assert not draft.active
    client.post(url, {"confirmed": "1"})
    draft.refresh_from_db()
    assert draft.active
