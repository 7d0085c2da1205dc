"""The statistics dashboard and its API: figures equal what the database says, drill-down lists exactly those
enterprises, region scope, permission, bad filters, and the snapshot (published runs, backfill)."""

import re
from urllib.parse import urlsplit

import pytest
from analytics_testkit import (
    CITY,
    DISTRICT,
    NEIGHBOUR,
    city_leader,
    district_leader,
    graded_world,
    live_counts,
    make_user,
    moment,
    months_ago,
)
from django.urls import reverse
from django.utils import timezone

from foodrisk.alerts.models import Alert, AlertEvent, WarningRule
from foodrisk.analytics import services
from foodrisk.analytics.models import GradeSnapshot
from foodrisk.enterprises.models import Enterprise

pytestmark = pytest.mark.django_db
URL = "/analytics/"


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    return graded_world(django_capture_on_commit_callbacks)


def test_the_dashboard_shows_the_databases_figures(world, client):
    client.force_login(city_leader())
    response = client.get(URL)
    assert response.status_code == 200
    figures = response.context["figures"]
    now = live_counts(CITY[:4])
    assert {g: figures["now"][g] for g in "ABCD"} == now
    assert figures["trend"][-1]["month"] == services.current_month()
    rows = {row["region"].pk: row for row in figures["matrix"]["rows"]}
    assert set(rows) == {DISTRICT, NEIGHBOUR}
    for code in (DISTRICT, NEIGHBOUR):
        assert {g: rows[code][g] for g in "ABCD"} == live_counts(code)
    html = response.content.decode()
    assert 'id="analytics-chart-data" type="application/json"' in html
    assert "<script>" not in html and " style=" not in html  # CSP: no inline script or style


def test_a_heat_map_cell_lists_exactly_those_enterprises(world, client):
    user = city_leader()
    client.force_login(user)
    html = client.get(URL).content.decode()
    table = html[html.index('id="analytics-matrix-table"'):]
    links = re.findall(r'<a href="([^"]+)" title="([^"]+)">(\d+)</a>', table[:table.index("</table>")])
    assert links
    checked = 0
    for href, _title, n in links:
        query = dict(p.split("=") for p in urlsplit(href.replace("&amp;", "&")).query.split("&"))
        expected = set(Enterprise.objects.filter(region__code__startswith=query["region"],
                                                 current_grade=query["current_grade"]).values_list("pk", flat=True))
        assert len(expected) == int(n)
        page = client.get(href.replace("&amp;", "&") + "&per_page=100")
        assert page.status_code == 200
        assert {row.record.pk for row in page.context["table"].rows} == expected
        checked += 1
    assert checked >= 3


def test_a_district_user_sees_only_his_district(world, client):
    client.force_login(district_leader())
    response = client.get(URL)
    figures = response.context["figures"]
    assert {g: figures["now"][g] for g in "ABCD"} == live_counts(DISTRICT)
    assert [row["region"].pk for row in figures["matrix"]["rows"]] == [DISTRICT]
    assert "西湖区" not in response.content.decode()
    # asking for the neighbour is a refused filter, not the neighbour's figures
    response = client.get(URL, {"region": NEIGHBOUR})
    assert response.status_code == 400
    api = client.get("/api/analytics/grades/").json()
    assert {g: api["now"][g] for g in "ABCD"} == live_counts(DISTRICT)
    matrix = client.get("/api/analytics/matrix/").json()
    assert [r["region"] for r in matrix["rows"]] == [DISTRICT]
    assert client.get("/api/analytics/matrix/", {"region": NEIGHBOUR}).status_code == 400


def test_region_and_business_form_filters(world, client):
    Enterprise.objects.filter(pk=world[1][0].pk).update(business_form="catering")
    services.refresh_month()
    client.force_login(city_leader())
    figures = client.get(URL, {"region": DISTRICT, "business_form": "catering"}).context["figures"]
    assert {g: figures["now"][g] for g in "ABCD"} == live_counts(DISTRICT, "catering")
    assert figures["now"]["total"] == 1
    data = client.get("/api/analytics/grades/", {"region": DISTRICT, "business_form": "sales"}).json()
    assert {g: data["now"][g] for g in "ABCD"} == live_counts(DISTRICT, "sales")
    assert data["region"] == DISTRICT and data["business_form"] == "sales"


def test_without_the_permission_the_dashboard_is_refused(world, client):
    supervisor = make_user("supervisor", None, "enterprises.view_enterprise", "alerts.view_alert")
    client.force_login(supervisor)
    assert client.get(URL).status_code == 403
    for path in ("grades", "matrix", "alerts"):
        assert client.get(f"/api/analytics/{path}/").status_code == 403
    client.logout()
    assert client.get(URL).status_code == 302
    assert client.get("/api/analytics/grades/").status_code in (401, 403)


@pytest.mark.parametrize("params, message", [
    ({"start": "2026-13"}, "月份"), ({"end": "abc"}, "月份"), ({"start": "1999-12"}, "2000"),
    ({"end": "2999-01"}, "未来"), ({"start": "2026-03", "end": "2025-01"}, "晚于"),
    ({"start": "2016-01", "end": "2026-01"}, "60"), ({"region": "999999"}, "选择"),
    ({"business_form": "spaceship"}, "选择"),
])
def test_bad_filters_are_a_chinese_error_not_a_500(world, client, params, message):
    client.force_login(city_leader())
    response = client.get(URL, params)
    assert response.status_code == 400
    assert message in response.content.decode()
    api = client.get("/api/analytics/alerts/", params)
    assert api.status_code == 400
    assert message in api.json()["detail"], api.json()


def test_warning_figures(world, client):
    ents = {e.region_id: e for e in world[1]}
    rule = WarningRule.objects.create(code="t-rule", name="测试规则", kind="new_penalty")
    month = services.current_month()
    before = months_ago(14)

    def alert(ent, raised, status, steps=(), closed=None):
        a = Alert.objects.create(rule=rule, enterprise=ent, region_id=ent.region_id, level="orange", status=status,
                                 summary="测试", raised_at=raised, closed_at=closed)
        for action, at in steps:
            AlertEvent.objects.create(alert=a, action=action, at=at)
        return a

    t0 = moment(month, 1)
    day = timezone.timedelta(days=1)
    alert(ents[DISTRICT], t0, "closed", [("confirm", t0 + day), ("close", t0 + 2 * day)], closed=t0 + 2 * day)
    alert(ents[DISTRICT], t0, "closed", [("confirm", t0 + day), ("close", t0 + 4 * day)], closed=t0 + 4 * day)
    alert(ents[DISTRICT], t0, "closed", [("confirm", t0 + day), ("close", t0 + 3 * day)], closed=t0 + 3 * day)
    alert(ents[DISTRICT], t0, "dismissed", [("dismiss", t0 + day)])
    alert(ents[DISTRICT], t0, "raised")
    alert(ents[DISTRICT], moment(before), "closed", [("close", moment(before) + day)], closed=moment(before) + day)
    alert(ents[NEIGHBOUR], t0, "closed", [("confirm", t0 + day), ("close", t0 + 30 * day)], closed=t0 + 30 * day)

    client.force_login(district_leader())
    figures = client.get(URL).context["figures"]["alerts"]
    expected = {"raised": 5, "confirmed": 3, "dismissed": 1, "closed": 3, "closed_measured": 3,
                "days_to_close_median": 3.0, "days_to_close_p90": 3.8}
    assert {k: figures[k] for k in expected} == expected
    api = client.get("/api/analytics/alerts/").json()
    assert api["raised"] == 5 and api["days_to_close_p90"] == 3.8
    client.force_login(city_leader())
    figures = client.get(URL).context["figures"]["alerts"]
    assert figures["raised"] == 6 and figures["closed"] == 4 and figures["days_to_close_median"] == 3.5


def test_months_without_a_change_carry_the_last_figures(world, client):
    GradeSnapshot.objects.update(month=months_ago(2))  # the only snapshot: two months ago
    client.force_login(city_leader())
    trend = client.get(URL, {"start": f"{months_ago(3):%Y-%m}"}).context["figures"]["trend"]
    assert [r["month"] for r in trend] == [months_ago(2), months_ago(1), months_ago(0)]
    assert trend[0]["total"] == trend[2]["total"] == 9


def test_the_api_is_in_the_schema(world, client):
    client.force_login(make_user("admin", None, national=True))
    from foodrisk.core.models import User

    User.objects.filter(username="admin").update(is_superuser=True)
    schema = client.get(reverse("api-schema") + "?format=json").json()
    for path in ("grades", "matrix", "alerts"):
        operation = schema["paths"][f"/api/analytics/{path}/"]["get"]
        assert "200" in operation["responses"] and "400" in operation["responses"]


def test_the_full_dashboard_is_in_chinese(world, client):
    """The crawl of tests/loop sees the dashboard before any snapshot exists; here with every part filled."""
    from foodrisk.core.models import User
    from foodrisk.core.testing import english_words

    client.force_login(city_leader())
    services.backfill()
    html = client.get(URL, {"business_form": "sales"}).content.decode()
    assert 'id="analytics-trend-table"' in html and 'id="analytics-matrix-table"' in html
    usernames = set(User.objects.values_list("username", flat=True))
    assert not english_words(html, usernames), english_words(html, usernames)
    assert "统计分析看板" in html


def test_enterprises_on_the_parent_region_itself_are_a_row_without_drill_down(world, client):
    Enterprise.objects.filter(pk=world[1][0].pk).update(region_id=CITY)
    services.refresh_month()
    client.force_login(city_leader())
    rows = client.get(URL).context["figures"]["matrix"]["rows"]
    assert [(r["region"].pk, r["exact"]) for r in rows] == [(DISTRICT, True), (NEIGHBOUR, True), (CITY, False)]
    assert rows[2]["total"] == 1 and not any(url for _g, _n, url in rows[2]["cells"])
    assert sum(r["total"] for r in rows) == 9


def test_a_national_user_sees_provinces(world, client):
    client.force_login(make_user("national", None, "analytics.view_dashboard", national=True))
    rows = client.get(URL).context["figures"]["matrix"]["rows"]
    assert [(r["region"].pk, r["exact"], r["total"]) for r in rows] == [("330000", True, 9)]


def test_the_grade_filter_keeps_one_grade(world, client):
    client.force_login(city_leader())
    live = live_counts(CITY[:4])
    grade = max(live, key=live.get)
    figures = client.get(URL, {"grade": grade}).context["figures"]
    assert {g: figures["now"][g] for g in "ABCD"} == {g: live[g] if g == grade else 0 for g in "ABCD"}
    assert sum(row["total"] for row in figures["matrix"]["rows"]) == live[grade]
    html = client.get(URL, {"grade": grade}).content.decode()
    assert "统计期间" in html and "等级迁移" in html  # the page tabs
