"""The home page per role: the leader's desk shows the city's figures, a district inspector his warnings and tasks
(not another district's), the data administrator batches and quarantine, the system administrator jobs and
health. Each number equals the database and its link lists exactly those rows; the page keeps to a few queries."""

import datetime as dt
import re

import pytest
from analytics_testkit import CITY, DISTRICT, NEIGHBOUR
from django.core.files.base import ContentFile
from django.utils import timezone
from scoring_testkit import make_enterprise, make_user
from supervision_testkit import org

from foodrisk.alerts.models import Alert, WarningRule
from foodrisk.analytics.services import refresh_month
from foodrisk.core.models import Job, Region, Role, User
from foodrisk.core.seeds import seed_roles
from foodrisk.enterprises.models import Enterprise
from foodrisk.ingest.models import Batch, QuarantinedRow, Source
from foodrisk.records.models import CreditRepair
from foodrisk.supervision.models import Task

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def with_role(username, region_code, role):
    """A person of region_code's organisation holding one of the default roles (core.seeds)."""
    if not Role.objects.filter(code=role).exists():
        seed_roles()
    user = make_user(username)
    user.organisation = org(region_code)
    user.save()
    user.groups.add(Role.objects.get(code=role))
    return User.objects.get(pk=user.pk)  # without the cached permissions


class World:
    pass


@pytest.fixture
def city():
    """上城区 (the inspector's district): e1 C, e2 D, e3 A; 西湖区: e4 D. Alerts and tasks in both districts."""
    w = World()
    w.e1 = make_enterprise(1, DISTRICT, current_grade="C", current_score=70)
    w.e2 = make_enterprise(2, DISTRICT, current_grade="D", current_score=90)
    w.e3 = make_enterprise(3, DISTRICT, current_grade="A", current_score=10)
    w.e4 = make_enterprise(4, NEIGHBOUR, current_grade="D", current_score=95)
    refresh_month()
    w.inspector = with_role("inspector", DISTRICT, "supervisor")
    w.other = with_role("westinspector", NEIGHBOUR, "supervisor")
    w.leader = with_role("leader", CITY, "leader")
    today = timezone.localdate()
    rule = WarningRule.objects.create(code="t-rule", name="测试规则", kind="new_penalty")

    def alert(ent, status, deadline, organisation):
        return Alert.objects.create(rule=rule, enterprise=ent, region_id=ent.region_id, level="orange",
                                    status=status, summary="测试", raised_at=timezone.now() - 20 * DAY,
                                    organisation=organisation, deadline=deadline)

    here, there = org(DISTRICT), org(NEIGHBOUR)
    w.a1 = alert(w.e1, "raised", today + 5 * DAY, here)  # waiting for the district's review
    w.a2 = alert(w.e2, "raised", today - 2 * DAY, here)  # and overdue
    w.a3 = alert(w.e3, "closed", today - 9 * DAY, here)
    w.a4 = alert(w.e4, "raised", today - 2 * DAY, there)  # the other district's

    def task(ent, status, due, assignee, organisation=here):
        return Task.objects.create(kind="inspection", enterprise=ent, title=f"检查{ent.pk}", organisation=organisation,
                                   due_on=due, status=status, assignee=assignee)

    w.t_overdue = task(w.e1, "assigned", today - 3 * DAY, w.inspector)
    w.t_soon = task(w.e2, "in_progress", today + 3 * DAY, w.inspector)
    w.t_later = task(w.e3, "assigned", today + 30 * DAY, w.inspector)
    w.t_done = task(w.e1, "done", today - 10 * DAY, w.inspector)
    w.t_colleague = task(w.e2, "assigned", today - 1 * DAY, None)  # overdue in the district, nobody's yet
    w.t_west = task(w.e4, "assigned", today - 5 * DAY, w.other, there)
    return w


def href(html, element_id, label):
    """The link of the figure labelled `label` inside the element `element_id`: (number, url)."""
    part = html[html.index(f'id="{element_id}"'):]
    at = part.index(label)
    found = re.search(r'<a (?:class="[^"]*" )?href="([^"]+)">(\d+)</a>', part[at:])
    return int(found.group(2)), found.group(1).replace("&amp;", "&")


def listed(client, url):
    response = client.get(url + ("&" if "?" in url else "?") + "per_page=100")
    assert response.status_code == 200, url
    return {row.record.pk for row in response.context["table"].rows}


def test_the_inspector_sees_his_warnings_and_tasks_only(city, client, django_assert_max_num_queries):
    client.force_login(city.inspector)
    with django_assert_max_num_queries(22):
        response = client.get("/")
    assert response.context["home"].key == "inspector"
    f = response.context["panel"]
    assert f["tasks"] == {"mine": 3, "mine_overdue": 1, "mine_soon": 1, "overdue": 2}
    assert f["in_scope"] == {"open": 2, "overdue": 1}  # not the 西湖区 alert
    assert f["waiting"]["waiting"] == 2 and f["waiting"]["overdue"] == 1
    assert [t.pk for t in f["next_tasks"]] == [city.t_overdue.pk, city.t_soon.pk, city.t_later.pk]
    html = response.content.decode()
    expected = {"我的待办任务": {city.t_overdue.pk, city.t_soon.pk, city.t_later.pk},
                "我的逾期任务": {city.t_overdue.pk}, "7 天内到期": {city.t_soon.pk},
                "等待我处理": {city.a1.pk, city.a2.pk}}
    for label, pks in expected.items():
        n, url = href(html, "home-inspector", label)
        assert n == len(pks) and listed(client, url) == pks, label
    n, url = href(html, "home-tasks", "辖区逾期")
    assert listed(client, url) == {city.t_overdue.pk, city.t_colleague.pk} and n == 2
    n, url = href(html, "home-alerts", "辖区逾期")
    assert listed(client, url) == {city.a2.pk} and n == 1
    assert "检查4" not in html  # the other district's task

    client.force_login(city.other)
    f = client.get("/").context["panel"]
    assert f["tasks"]["mine"] == 1 and f["in_scope"] == {"open": 1, "overdue": 1}


def test_the_leader_sees_the_city_figures(city, client, django_assert_max_num_queries):
    CreditRepair.objects.create(enterprise=city.e1, repair_no="XF-1", target_kind="penalties", target_no="罚-1",
                                applied_on=timezone.localdate() - 5 * DAY, decision="approved")
    client.force_login(city.leader)
    # 37 without a shared cache (make test on a machine without Redis): the C/D figures' enterprises inspected once
    # though inspected under both grades, and those not inspected, are a query each (stats.supervision)
    with django_assert_max_num_queries(37):
        response = client.get("/")
    assert response.context["home"].key == "leader"
    f = response.context["panel"]
    live = {g: Enterprise.objects.filter(current_grade=g).count() for g in "ABCD"}
    assert {g: n for g, _label, n, _url, _tone in f["grades"]} == live == {"A": 1, "B": 0, "C": 1, "D": 2}
    assert f["high_share"] == 75.0
    assert f["open_alerts"] == 3 and f["overdue_alerts"] == 2  # both districts
    assert f["cd"]["enterprises"] == 3
    assert f["repairs"]["applied"] == 1 and f["repairs"]["approved"] == 1
    html = response.content.decode()
    for grade, _label, _n, url, _tone in f["grades"]:
        assert listed(client, url.replace("&amp;", "&")) == set(
            Enterprise.objects.filter(current_grade=grade).values_list("pk", flat=True))
    n, url = href(html, "home-alerts", "当前逾期")
    assert listed(client, url) == {city.a2.pk, city.a4.pk}
    n, url = href(html, "home-supervision", "信用修复准予")
    assert n == 1 and listed(client, url) == {CreditRepair.objects.get().pk}


def test_a_district_leader_sees_his_district_only(city, client):
    district = with_role("districtleader", DISTRICT, "leader")
    client.force_login(district)
    f = client.get("/").context["panel"]
    assert {g: n for g, _label, n, _url, _tone in f["grades"]} == {"A": 1, "B": 0, "C": 1, "D": 1}
    assert f["open_alerts"] == 2


def make_batch(region, status="succeeded", kind="inspections", rows=10, quarantined=2, days_ago=0):
    source, _ = Source.objects.get_or_create(name="测试来源")
    batch = Batch(source=source, kind=kind, region=region, file_name=f"f-{region.code}.csv", status=status,
                  rows_read=rows, quarantined=quarantined,
                  finished_at=timezone.now() - days_ago * DAY if status == "succeeded" else None)
    batch.file.save("x.csv", ContentFile(b"a,b\n"), save=False)
    batch.save()
    for n in range(quarantined):
        QuarantinedRow.objects.create(batch=batch, row_no=n + 2, reasons=["required:name"],
                                      reason_codes="required:name")
    return batch


def test_the_data_administrator_sees_batches_quarantine_and_freshness(city, client, django_assert_max_num_queries):
    data = with_role("dataadmin", CITY, "data_admin")
    here, there = Region.objects.get(pk=DISTRICT), Region.objects.get(pk=NEIGHBOUR)
    b1 = make_batch(here, days_ago=40)
    b2 = make_batch(there, status="failed", quarantined=0)
    b3 = make_batch(there, kind="penalties", quarantined=1, days_ago=1)
    client.force_login(data)
    with django_assert_max_num_queries(22):
        response = client.get("/")
    assert response.context["home"].key == "data"
    f = response.context["panel"]
    assert f["batches"] == {"all": 3, "failed": 1, "running": 0}
    assert f["quarantine"] == QuarantinedRow.objects.filter(status="open").count() == 3
    html = response.content.decode()
    n, url = href(html, "home-batches", "导入批次")
    assert n == 3 and listed(client, url) == {b1.pk, b2.pk, b3.pk}
    n, url = href(html, "home-batches", "导入失败")
    assert n == 1 and listed(client, url) == {b2.pk}
    n, url = href(html, "home-batches", "隔离区待处理")
    assert n == 3 and listed(client, url) == set(QuarantinedRow.objects.values_list("pk", flat=True))
    fresh = {r["kind"]: r for r in f["freshness"]}
    assert fresh["inspections"]["age_days"] == 40.0 and fresh["inspections"]["batches"] == 2
    assert fresh["penalties"]["quarantine_share"] == 10.0
    assert f["stale"] == 1

    # the data page and its API: the district's batches for a district data administrator
    local = with_role("districtdata", DISTRICT, "data_admin")
    client.force_login(local)
    page = client.get("/analytics/data/").context["figures"]
    assert [(r["kind"], r["batches"]) for r in page["freshness"]] == [("inspections", 1)]
    api = client.get("/api/analytics/data/").json()
    assert api["freshness"][0]["batches"] == 1 and sum(m["batches"] for m in api["months"]) == 1
    assert api["quarantine"] == [{"kind": "inspections", "open": 2}]
    n, url = href(client.get("/analytics/data/").content.decode(), "analytics-freshness", "检查")
    assert listed(client, url) == {b1.pk}


def test_the_system_administrator_sees_jobs_and_health(city, client, django_assert_max_num_queries):
    admin = with_role("sysadmin", CITY, "system_admin")
    failed = Job.objects.create(kind="t", title="失败的任务", status="failed", region_id=CITY)
    Job.objects.create(kind="t", title="排队的任务", status="queued", region_id=CITY)
    client.force_login(admin)
    with django_assert_max_num_queries(25):
        response = client.get("/")
    assert response.context["home"].key == "system"
    f = response.context["panel"]
    assert {code: n for code, _label, n, _url in f["jobs"]} == {"queued": 1, "running": 0, "succeeded": 0,
                                                                 "failed": 1}
    assert [j.pk for j in f["failed"]] == [failed.pk]
    assert {c["name"] for c in f["checks"]} >= {"database", "cache", "worker"}
    url = dict((code, url) for code, _label, _n, url in f["jobs"])["failed"]
    assert listed(client, url) == {failed.pk}
    assert "数据库" in response.content.decode()


def test_several_roles_a_primary_home_and_the_others_as_tabs(city, client):
    both = with_role("both", DISTRICT, "supervisor")
    both.groups.add(Role.objects.get(code="leader"))
    client.force_login(both)
    response = client.get("/")
    assert [h.key for h in response.context["homes"]] == ["leader", "inspector"]
    assert response.context["home"].key == "leader"
    assert client.get("/", {"home": "inspector"}).context["home"].key == "inspector"
    links = client.get("/", {"home": "links"})
    assert links.context["home"] is None and "id=\"home-tabs\"" in links.content.decode()
    # a role without a home of its own: the page of links
    author = with_role("author", CITY, "indicator_admin")
    client.force_login(author)
    response = client.get("/")
    assert response.context["home"] is None and not response.context["homes"]


def test_a_leader_without_the_statistics_permission_and_the_new_pages_permissions(city, client):
    handler = with_role("handler", DISTRICT, "handler")
    client.force_login(handler)
    assert client.get("/").context["home"].key == "inspector"
    assert client.get("/analytics/data/").status_code == 403
    assert client.get("/api/analytics/data/").status_code == 403
    assert client.get("/api/analytics/repairs/").status_code == 403
    client.force_login(city.leader)
    assert client.get("/analytics/data/").status_code == 200
    assert client.get("/api/analytics/repairs/", {"region": NEIGHBOUR}).status_code == 200
    client.force_login(with_role("westleader", NEIGHBOUR, "leader"))
    assert client.get("/api/analytics/repairs/", {"region": DISTRICT}).status_code == 400  # outside his scope


def test_credit_repairs_in_the_supervision_figures(city, client):
    today = timezone.localdate()
    made = [CreditRepair.objects.create(enterprise=ent, repair_no=f"XF-{n}", target_kind="penalties",
                                        target_no=f"罚-{n}", applied_on=today - 3 * DAY, decision=decision)
            for n, (ent, decision) in enumerate([(city.e1, "approved"), (city.e2, "rejected"),
                                                 (city.e2, "pending"), (city.e4, "approved")])]
    CreditRepair.objects.create(enterprise=city.e1, repair_no="XF-old", target_kind="penalties", target_no="罚-x",
                                applied_on=today - 800 * DAY, decision="approved")  # before the period
    client.force_login(with_role("districtleader", DISTRICT, "leader"))
    r = client.get("/analytics/supervision/").context["figures"]["repairs"]
    assert r["total"]["applied"] == 3 and r["total"]["approved"] == 1 and r["total"]["approval_rate"] == 50.0
    grades = {row["grade"]: row for row in r["grades"]}
    assert grades["C"]["approved"] == 1 and grades["D"]["applied"] == 2
    assert listed(client, grades["D"]["links"]["rejected"]) == {made[1].pk}
    assert listed(client, r["total"]["links"]["applied"]) == {m.pk for m in made[:3]}
    month = next(m for m in r["months"] if m["applied"])
    assert listed(client, month["links"]["pending"]) == {made[2].pk}
    api = client.get("/api/analytics/repairs/").json()
    assert api["total"]["applied"] == 3 and sum(m["applied"] for m in api["months"]) == 3
    assert {g["grade"]: g["applied"] for g in api["grades"]} == {"C": 1, "D": 2}


def test_the_home_over_the_api(city, client):
    client.force_login(city.inspector)
    api = client.get("/api/analytics/home/").json()
    assert api["home"] == "inspector" and [h["key"] for h in api["homes"]] == ["inspector"]
    assert api["figures"]["tasks"] == {"mine": 3, "mine_overdue": 1, "mine_soon": 1, "overdue": 2}
    assert listed(client, api["figures"]["links"]["mine_overdue"]) == {city.t_overdue.pk}
    assert client.get("/api/analytics/home/", {"home": "leader"}).status_code == 400  # not one of his
    client.force_login(city.leader)
    api = client.get("/api/analytics/home/").json()
    assert api["home"] == "leader" and api["figures"]["open_alerts"] == 3
    client.logout()
    assert client.get("/api/analytics/home/").status_code in (401, 403)


def test_the_approver_sees_what_waits_for_his_decision(city, client):
    from foodrisk.indicators.models import IndicatorSet
    from foodrisk.scoring.models import GradeAdjustment

    waiting = IndicatorSet.objects.create(code="t-set", version=2, name="测试指标", spec={}, status="submitted")
    IndicatorSet.objects.create(code="t-set", version=1, name="测试指标", spec={}, status="active")
    approver = with_role("approver", CITY, "approver")
    client.force_login(approver)
    response = client.get("/")
    assert response.context["home"].key == "approver"
    found = {key: (n, url) for key, _label, n, url in response.context["panel"]["waiting"]}
    assert found["indicator_sets"][0] == 1 and listed(client, found["indicator_sets"][1]) == {waiting.pk}
    assert found["adjustments"][0] == GradeAdjustment.objects.filter(status="pending").count() == 0
    assert set(found) == {"adjustments", "indicator_sets", "exports", "models"}
