"""The statistics pages behind the dashboard — grade migration, risk rankings, warning handling, supervision
effectiveness — against a hand-built world: each figure as counted by hand, each drill-down link lists exactly
the expected records, a district user sees only his district, a person without the permission is refused."""

import datetime as dt
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from analytics_testkit import CITY, DASHBOARD, DISTRICT, NEIGHBOUR, moment, months_ago
from django.utils import timezone
from scoring_testkit import make_enterprise, make_user

from foodrisk.alerts.models import Alert, AlertEvent, WarningRule
from foodrisk.core.models import Organisation, Region
from foodrisk.indicators.models import IndicatorSet
from foodrisk.records.models import Inspection
from foodrisk.scoring.models import GradeChange, Score, ScoringRun
from foodrisk.supervision.models import SupervisionProfile, Task

pytestmark = pytest.mark.django_db

LISTS = ("enterprises.view_enterprise", "alerts.view_alert", "records.view_inspection", "supervision.view_task")
DAY = dt.timedelta(days=1)


def city_user():
    return make_user("cityleader", _region(CITY), DASHBOARD, *LISTS)


def district_user():
    return make_user("districtuser", _region(DISTRICT), DASHBOARD, *LISTS)


def _region(code):
    from foodrisk.core.models import Region
    from foodrisk.core.testing import make_regions

    make_regions()
    return Region.objects.get(pk=code)


class World:
    pass


@pytest.fixture
def world():
    """上城区: e1 A→C (肉制品, sales), e2 B→B (肉制品 + 乳制品, catering), e3 graded D only later (乳制品, key
    supervision), e4 C→A (no category), e6 never graded; 西湖区: e5 A→D. First date: the 1st of three months ago."""
    w = World()
    m4, m1 = months_ago(4), months_ago(1)
    w.first = months_ago(3)
    w.e1 = make_enterprise(1, DISTRICT, food_categories=["肉制品"], current_grade="C", current_score=70)
    w.e2 = make_enterprise(2, DISTRICT, business_form="catering", food_categories=["肉制品", "乳制品"],
                           current_grade="B", current_score=40)
    w.e3 = make_enterprise(3, DISTRICT, food_categories=["乳制品"], current_grade="D", current_score=90,
                           key_supervision=True)
    w.e4 = make_enterprise(4, DISTRICT, current_grade="A", current_score=10)
    w.e5 = make_enterprise(5, NEIGHBOUR, food_categories=["肉制品"], current_grade="D", current_score=95)
    w.e6 = make_enterprise(6, DISTRICT)
    for ent, grades in ((w.e1, [(m4, "A"), (m1, "C")]), (w.e2, [(m4, "B")]), (w.e3, [(m1, "D")]),
                        (w.e4, [(m4, "C"), (m1, "A")]), (w.e5, [(m4, "A"), (m1, "D")])):
        old = ""
        for month, grade in grades:
            GradeChange.objects.create(enterprise=ent, old_grade=old, new_grade=grade, at=moment(month))
            old = grade
    # published scores: a run four months ago and one ten days ago
    iset = IndicatorSet.objects.create(code="t-set", version=1, name="测试指标", spec={})
    now = timezone.now()
    early = ScoringRun.objects.create(kind="full", as_of=m4.replace(day=20), status="succeeded", published_at=now)
    late = ScoringRun.objects.create(kind="full", as_of=timezone.localdate() - 10 * DAY, status="succeeded",
                                     published_at=now)
    unpublished = ScoringRun.objects.create(kind="full", as_of=timezone.localdate() - 5 * DAY, status="failed")
    for run, scores in ((early, {w.e1: 30, w.e2: 45, w.e4: 60, w.e5: 20}),
                        (late, {w.e1: 70, w.e2: 40, w.e3: 90, w.e4: 10, w.e5: 95}), (unpublished, {w.e2: 99})):
        for ent, score in scores.items():
            Score.objects.create(run=run, enterprise=ent, as_of=run.as_of, indicator_set=iset, indicator_set_version=1,
                                 rule_score=score, total_score=score, base_grade="A", engine_grade="A", grade="A")
    return w


def query_of(href):
    return parse_qsl(urlsplit(href.replace("&amp;", "&")).query)


def listed(client, href):
    """The primary keys a list page shows for a drill-down link."""
    response = client.get(href.replace("&amp;", "&") + "&per_page=100")
    assert response.status_code == 200, href
    return {row.record.pk for row in response.context["table"].rows}


def links_in(html, table_id):
    table = html[html.index(f'id="{table_id}"'):]
    table = table[:table.index("</table>")]
    return re.findall(r'<a href="([^"]+)"[^>]*>([\d.]+)%?</a>', table)


# --- grade migration --------------------------------------------------------------------------------------------
def test_the_migration_matrix_counts_each_move_point_in_time(world, client):
    client.force_login(district_user())
    response = client.get("/analytics/migration/", {"first_date": f"{world.first:%Y-%m-%d}"})
    assert response.status_code == 200
    m = response.context["figures"]
    cells = {(row["grade"], to): n for row in m["rows"] for to, n in row["cells"].items() if n}
    assert cells == {("A", "C"): 1, ("B", "B"): 1, ("C", "A"): 1, ("none", "D"): 1}
    assert (m["total"], m["stayed"], m["worse"], m["better"], m["new"]) == (4, 1, 1, 1, 1)
    assert m["second"] == timezone.localdate()
    # a day before any grade: everyone is new
    early = client.get("/analytics/migration/", {"first_date": f"{months_ago(6):%Y-%m-%d}"}).context["figures"]
    assert early["new"] == 4 and early["rows"][0]["total"] == 4
    # the city sees 西湖区's A → D too; the grade filter keeps enterprises holding D on either date
    client.force_login(city_user())
    city = client.get("/analytics/migration/", {"first_date": f"{world.first:%Y-%m-%d}"}).context["figures"]
    assert city["total"] == 5 and city["worse"] == 2
    only_d = client.get("/analytics/migration/", {"first_date": f"{world.first:%Y-%m-%d}", "grade": "D"})
    assert only_d.context["figures"]["total"] == 2


def test_a_migration_cell_lists_exactly_the_enterprises_that_moved(world, client):
    client.force_login(district_user())
    html = client.get("/analytics/migration/", {"first_date": f"{world.first:%Y-%m-%d}"}).content.decode()
    expected = {("A", "C"): {world.e1.pk}, ("B", "B"): {world.e2.pk}, ("C", "A"): {world.e4.pk},
                ("none", "D"): {world.e3.pk}}
    checked = 0
    for href, n in links_in(html, "analytics-migration-table"):
        params = dict(query_of(href))
        if "first_grade" not in params or "second_grade" not in params:
            continue
        pks = listed(client, href)
        assert len(pks) == int(n)
        assert pks == expected.get((params["first_grade"], params["second_grade"]), set()), params
        assert params["region"] == DISTRICT
        checked += 1
    assert checked == 20  # 5 rows × 4 grades
    # the enterprise list's own filter, as a person would use it
    pks = listed(client, f"/enterprises/?first_date={world.first:%Y-%m-%d}&first_grade=none&second_grade=D")
    assert pks == {world.e3.pk}


# --- rankings ---------------------------------------------------------------------------------------------------
def test_rankings_by_business_form_and_food_category(world, client):
    client.force_login(district_user())
    f = client.get("/analytics/rankings/").context["figures"]
    forms = [(r["key"], r["total"], r["high"], r["high_share"], r["mean_score"]) for r in f["by_form"]]
    assert forms == [("sales", 3, 2, 66.7, 56.7), ("catering", 1, 0, 0.0, 40.0)]
    categories = [(r["key"], r["total"], r["high_share"], r["mean_score"]) for r in f["by_category"]]
    assert categories == [("乳制品", 2, 50.0, 65.0), ("肉制品", 2, 50.0, 55.0), ("", 1, 0.0, 10.0)]
    assert [e.pk for e in f["highest"]] == [world.e3.pk, world.e1.pk, world.e2.pk, world.e4.pk]


def test_ranking_cells_list_exactly_those_enterprises(world, client):
    client.force_login(district_user())
    html = client.get("/analytics/rankings/").content.decode()
    ents = [world.e1, world.e2, world.e3, world.e4, world.e5, world.e6]
    checked = 0
    for table, key in (("analytics-forms-table", "business_form"), ("analytics-categories-table", "food_category")):
        for href, n in links_in(html, table):
            params = query_of(href)
            value = dict(params)[key]
            grades = [v for k, v in params if k in ("grades", "current_grade")]
            expected = {e.pk for e in ents if e.region_id == DISTRICT and e.current_grade in grades
                        and (e.business_form == value if key == "business_form" else value in e.food_categories)}
            pks = listed(client, href)
            assert pks == expected, (href, pks, expected)
            if not href.count("grades=C"):
                assert len(pks) == int(float(n))
            checked += 1
    assert checked >= 10


def test_largest_rise_between_two_dates(world, client):
    client.force_login(district_user())
    f = client.get("/analytics/rankings/", {"first_date": f"{world.first:%Y-%m-%d}"}).context["figures"]
    assert [(e.pk, e.before, e.after, e.rise) for e in f["rise"]] == [(world.e1.pk, 30, 70, 40)]
    client.force_login(city_user())
    f = client.get("/analytics/rankings/", {"first_date": f"{world.first:%Y-%m-%d}"}).context["figures"]
    assert [(e.pk, e.rise) for e in f["rise"]] == [(world.e5.pk, 75), (world.e1.pk, 40)]
    # before the second run: no rise yet (the unpublished run does not count)
    second = timezone.localdate() - 11 * DAY
    f = client.get("/analytics/rankings/", {"first_date": f"{world.first:%Y-%m-%d}",
                                            "second_date": f"{second:%Y-%m-%d}"}).context["figures"]
    assert f["rise"] == []


# --- warning handling -------------------------------------------------------------------------------------------
@pytest.fixture
def alerts(world):
    from supervision_testkit import org

    rule = WarningRule.objects.create(code="t-rule", name="测试规则", kind="new_penalty")
    station = Region.objects.create(code="330102001", name="湖滨所", level="station", parent_id=DISTRICT)
    a, b = org(DISTRICT), Organisation.objects.create(code="S1", name="湖滨市场监管所", region=station)
    t = timezone.now() - 20 * DAY
    deadline = timezone.localdate(t) + 10 * DAY

    def alert(ent, status, org, steps=(), assigned=None, deadline=deadline, **times):
        alert = Alert.objects.create(rule=rule, enterprise=ent, region_id=ent.region_id, level="orange",
                                     status=status, summary="测试", raised_at=t, organisation=org,
                                     assigned_organisation=assigned, deadline=deadline,
                                     **{k: t + v * DAY for k, v in times.items()})
        for action, days in steps:
            AlertEvent.objects.create(alert=alert, action=action, at=t + days * DAY)
        return alert

    w = World()
    w.a1 = alert(world.e1, "closed", a, [("confirm", 1), ("dispatch", 2), ("close", 5)], reviewed_at=1,
                 dispatched_at=2, closed_at=5)
    w.a2 = alert(world.e2, "closed", a, [("confirm", 2), ("close", 15)], reviewed_at=2, closed_at=15)  # late
    w.a3 = alert(world.e3, "dismissed", a, [("dismiss", 1)], reviewed_at=1)
    w.a4 = alert(world.e4, "dispatched", a, assigned=b, deadline=timezone.localdate(t) + 5 * DAY)  # open, late
    w.a5 = alert(world.e5, "raised", org(NEIGHBOUR))  # 西湖区
    w.old = Alert.objects.create(rule=rule, enterprise=world.e1, region_id=DISTRICT, level="blue", status="closed",
                                 summary="旧", raised_at=moment(months_ago(14)), organisation=a)
    w.a, w.b = a, b
    return w


def test_warning_handling_figures(alerts, client):
    client.force_login(district_user())
    f = client.get("/analytics/warnings/").context["figures"]
    assert {k: f[k] for k in ("raised", "confirmed", "dismissed", "closed", "late", "late_share")} == {
        "raised": 4, "confirmed": 2, "dismissed": 1, "closed": 2, "late": 2, "late_share": 50.0}
    assert (f["days_to_review_median"], f["days_to_review_p90"]) == (1.0, 1.8)
    assert (f["days_to_dispatch_median"], f["days_to_dispatch_p90"]) == (2.0, 2.0)
    assert (f["days_to_close_median"], f["days_to_close_p90"]) == (10.0, 14.0)
    orgs = [(r["organisation"], r["raised"], r["closed"], r["late"], r["late_share"]) for r in f["organisations"]]
    assert orgs == [(alerts.b, 1, 0, 1, 100.0), (alerts.a, 3, 2, 1, 33.3)]
    api = client.get("/api/analytics/alerts/").json()
    assert api["late"] == 2 and api["organisations"][0]["organisation"] == alerts.b.pk


def test_warning_figures_drill_down_to_exactly_those_alerts(alerts, client):
    client.force_login(district_user())
    html = client.get("/analytics/warnings/").content.decode()
    expected = {
        (): {alerts.a1.pk, alerts.a2.pk, alerts.a3.pk, alerts.a4.pk}, (("step", "confirm"),): {alerts.a1.pk, alerts.a2.pk},
        (("step", "dismiss"),): {alerts.a3.pk}, (("step", "close"),): {alerts.a1.pk, alerts.a2.pk},
        (("late", "true"),): {alerts.a2.pk, alerts.a4.pk},
        (("organisation", str(alerts.a.pk)),): {alerts.a1.pk, alerts.a2.pk, alerts.a3.pk},
        (("organisation", str(alerts.a.pk)), ("step", "close")): {alerts.a1.pk, alerts.a2.pk},
        (("organisation", str(alerts.a.pk)), ("late", "true")): {alerts.a2.pk},
        (("organisation", str(alerts.b.pk)),): {alerts.a4.pk},
        (("organisation", str(alerts.b.pk)), ("step", "close")): set(),
        (("organisation", str(alerts.b.pk)), ("late", "true")): {alerts.a4.pk},
    }
    expected = {tuple(sorted(key)): pks for key, pks in expected.items()}
    seen = set()
    for table in ("analytics-warnings-table", "analytics-organisations-table"):
        for href, n in links_in(html, table):
            key = tuple(sorted((k, v) for k, v in query_of(href) if k in ("step", "late", "organisation")))
            pks = listed(client, href)
            assert pks == expected[key], (key, pks)
            assert len(pks) == int(n)
            seen.add(key)
    assert seen == set(expected)


# --- supervision effectiveness ----------------------------------------------------------------------------------
@pytest.fixture
def supervision(world):
    from supervision_testkit import org

    SupervisionProfile.objects.filter(active=True).update(active=False)  # the seeded one
    SupervisionProfile.objects.create(code="t-profile", name="测试监管规则", active=True, key_rules=[],
                                      min_per_year={"A": 0.5, "B": 1, "C": 2, "D": 4},
                                      max_per_year={"A": 1, "B": 2, "C": 3, "D": 6})
    recent = timezone.localdate() - 10 * DAY
    n = iter(range(100))

    def inspect(ent, result, on=recent):
        Inspection.objects.create(enterprise=ent, inspection_no=f"JC-{next(n)}", inspected_on=on, kind="routine",
                                  result=result)

    inspect(world.e1, "pass")
    inspect(world.e1, "fail")
    inspect(world.e3, "pass")
    inspect(world.e4, "fail")
    inspect(world.e2, "fail", on=timezone.localdate() - 800 * DAY)  # long before the period
    inspect(world.e5, "fail")
    o = org(DISTRICT)

    def task(ent, status, kind="rectification", due=recent):
        return Task.objects.create(kind=kind, enterprise=ent, title="整改", organisation=o, due_on=due, status=status)

    w = World()
    w.t1, w.t2 = task(world.e1, "done"), task(world.e1, "in_progress")
    w.t3 = task(world.e1, "cancelled")
    w.t4 = task(world.e3, "done")
    w.t5 = task(world.e3, "done", kind="inspection")
    return w


def test_supervision_effectiveness_by_grade(world, supervision, client):
    client.force_login(district_user())
    rows = {r["grade"]: r for r in client.get("/analytics/supervision/").context["figures"]["rows"]}
    fields = ("enterprises", "key", "required", "done", "inspected", "coverage", "failed", "failed_share",
              "rectifications", "rectified", "rectified_share")
    assert {g: tuple(rows[g][f] for f in fields) for g in rows} == {
        "A": (1, 0, 0.5, 1, 1, 100.0, 1, 100.0, 0, 0, None),
        "B": (1, 0, 1.0, 0, 0, 0.0, 0, None, 0, 0, None),
        "C": (1, 0, 2.0, 2, 1, 100.0, 1, 50.0, 2, 1, 50.0),
        "D": (1, 1, 6.0, 1, 1, 100.0, 0, 0.0, 1, 1, 100.0),
        "CD": (2, 1, 8.0, 3, 2, 100.0, 1, 33.3, 3, 2, 66.7),
    }
    assert rows["C"]["done_share"] == 100.0 and rows["D"]["done_share"] == 16.7
    api = {r["grade"]: r for r in client.get("/api/analytics/supervision/").json()["rows"]}
    assert api["CD"]["coverage"] == 100.0 and api["B"]["required"] == 1.0


def test_supervision_figures_drill_down(world, supervision, client):
    client.force_login(district_user())
    html = client.get("/analytics/supervision/").content.decode()
    checked = 0
    for href, n in links_in(html, "analytics-supervision-table"):
        pks = listed(client, href)
        assert len(pks) == int(n), href
        checked += 1
    assert checked >= 20
    page = client.get("/analytics/supervision/").context["figures"]["rows"]
    c = next(r for r in page if r["grade"] == "C")
    assert listed(client, c["links"]["rectified"]) == {supervision.t1.pk}
    assert listed(client, c["links"]["rectifications"]) == {supervision.t1.pk, supervision.t2.pk}
    b = next(r for r in page if r["grade"] == "B")
    assert listed(client, b["links"]["uninspected"]) == {world.e2.pk}


# --- scope and permission -----------------------------------------------------------------------------------------
PAGES = ("/analytics/migration/", "/analytics/rankings/", "/analytics/warnings/", "/analytics/supervision/")
APIS = ("/api/analytics/migration/", "/api/analytics/rankings/", "/api/analytics/alerts/",
        "/api/analytics/supervision/")


def test_a_district_user_sees_only_his_district(world, alerts, supervision, client):
    client.force_login(district_user())
    for url in PAGES:
        response = client.get(url, {"first_date": f"{world.first:%Y-%m-%d}"})
        assert response.status_code == 200, url
        html = response.content.decode()
        assert world.e5.name not in html and "西湖区" not in html, url
        assert client.get(url, {"region": NEIGHBOUR}).status_code == 400
    for url in APIS:
        assert client.get(url, {"region": NEIGHBOUR}).status_code == 400, url
    rankings = client.get("/api/analytics/rankings/").json()
    assert world.e5.pk not in {e["id"] for e in rankings["highest_risk"]}
    migration = client.get("/api/analytics/migration/", {"first_date": f"{world.first:%Y-%m-%d}"}).json()
    assert migration["total"] == 4
    # the city leader sees both districts
    client.force_login(city_user())
    rankings = client.get("/api/analytics/rankings/").json()
    assert rankings["highest_risk"][0]["id"] == world.e5.pk


def test_without_the_permission_every_page_and_api_is_refused(world, client):
    client.force_login(make_user("nodash", _region(CITY), *LISTS))
    for url in (*PAGES, *APIS):
        assert client.get(url).status_code == 403, url
    client.logout()
    for url in PAGES:
        assert client.get(url).status_code == 302
    for url in APIS:
        assert client.get(url).status_code in (401, 403)


@pytest.mark.parametrize("params, message", [
    ({"first_date": "2026-13-01"}, "日期"), ({"second_date": "2999-01-01"}, "不能晚于今天"),
    ({"first_date": "2026-03-01", "second_date": "2026-02-01"}, "必须早于对比日期"), ({"grade": "E"}, "选择"),
])
def test_bad_dates_are_a_chinese_error(world, client, params, message):
    client.force_login(city_user())
    response = client.get("/analytics/migration/", params)
    assert response.status_code == 400 and message in response.content.decode()
    assert message in client.get("/api/analytics/migration/", params).json()["detail"]


def test_the_pages_are_in_chinese(world, alerts, supervision, client):
    from foodrisk.core.models import User
    from foodrisk.core.testing import english_words

    client.force_login(city_user())
    usernames = set(User.objects.values_list("username", flat=True))
    for url in PAGES:
        html = client.get(url, {"first_date": f"{world.first:%Y-%m-%d}"}).content.decode()
        assert 'id="analytics-chart-data" type="application/json"' in html
        assert "<script>" not in html and " style=" not in html
        assert not english_words(html, usernames), (url, english_words(html, usernames))


def test_the_new_apis_are_in_the_schema(world, client):
    from foodrisk.core.models import User

    client.force_login(make_user("admin", None, national=True))
    User.objects.filter(username="admin").update(is_superuser=True)
    schema = client.get("/api/schema/?format=json").json()
    for path in ("migration", "rankings", "supervision"):
        operation = schema["paths"][f"/api/analytics/{path}/"]["get"]
        assert "200" in operation["responses"] and "400" in operation["responses"]
    assert Organisation.objects.exists()


# --- the scope harness: every analytics page and API, as a district user -------------------------------------------
# Each route the analytics app serves is named here with what the harness asks of it; a new route fails
# test_every_analytics_route_is_in_the_scope_harness until it is added.
FIGURES, LIST, OBJECT = "figures", "list", "object"
SCOPE_HARNESS = {
    "analytics:dashboard": FIGURES, "analytics:migration": FIGURES, "analytics:rankings": FIGURES,
    "analytics:warnings": FIGURES, "analytics:supervision": FIGURES, "analytics:data_quality": FIGURES,
    "analytics:report_list": LIST, "analytics:report_detail": OBJECT, "analytics:report_download": OBJECT,
    "analytics:enterprise_report": OBJECT,
    "analytics-api-grades": FIGURES, "analytics-api-matrix": FIGURES, "analytics-api-alerts": FIGURES,
    "analytics-api-migration": FIGURES, "analytics-api-rankings": FIGURES, "analytics-api-supervision": FIGURES,
    "analytics-api-repairs": FIGURES, "analytics-api-data": FIGURES, "analytics-api-home": LIST,
    "analytics-report-list": LIST, "analytics-report-detail": OBJECT, "analytics-report-pdf": OBJECT,
    "analytics-report-xlsx": OBJECT, "analytics-api-enterprise-report": OBJECT,
}


def analytics_routes():
    """(full name, pattern) of every URL whose view lives in foodrisk.analytics."""
    from django.urls import URLResolver, get_resolver

    found = {}

    def walk(resolver, namespace):
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                walk(p, ":".join(filter(None, (namespace, p.namespace))) if p.namespace else namespace)
            elif getattr(p.callback, "__module__", "").startswith("foodrisk.analytics"):
                found[":".join(filter(None, (namespace, p.name)))] = p
    walk(get_resolver(), "")
    return found


def test_every_analytics_route_is_in_the_scope_harness():
    assert set(analytics_routes()) == set(SCOPE_HARNESS)


def test_no_analytics_route_shows_a_district_user_another_districts_data(world, alerts, supervision, client):
    """As a user of 上城区: every figure and list holds nothing of 西湖区 (its name, code, enterprise, USCC) and
    refuses to be asked for it; every object of 西湖区 (a report, an enterprise's credit report) is not found.
    The city leader's dashboard does show 西湖区 (the markers are real)."""
    from django.urls import reverse

    from foodrisk.analytics.report_models import Report

    report = Report.objects.create(kind="monthly", period_start=months_ago(1), period_end=timezone.localdate(),
                                   region=Region.objects.get(pk=NEIGHBOUR), title="西湖区月报", status="succeeded")
    markers = ("西湖区", NEIGHBOUR, world.e5.name, world.e5.uscc)
    objects = {"analytics:report_detail": [report.pk], "analytics:report_download": [report.pk, "xlsx"],
               "analytics:enterprise_report": [world.e5.pk], "analytics-report-detail": [report.pk],
               "analytics-report-pdf": [report.pk], "analytics-report-xlsx": [report.pk],
               "analytics-api-enterprise-report": [world.e5.pk]}
    client.force_login(make_user("harness", _region(DISTRICT), DASHBOARD, *LISTS, "ingest.view_batch",
                                 "analytics.view_report", "records.view_creditrepair"))
    for name, kind in SCOPE_HARNESS.items():
        if kind == OBJECT:
            response = client.get(reverse(name, args=objects[name]))
            assert response.status_code in (403, 404), name
            continue
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        body = response.content.decode()
        assert not [m for m in markers if m in body], name
        if kind == FIGURES:
            assert client.get(reverse(name), {"region": NEIGHBOUR}).status_code in (400, 403), name
    client.force_login(city_user())
    assert "西湖区" in client.get(reverse("analytics:dashboard")).content.decode()


def test_the_food_category_carries_into_the_alert_inspection_and_task_lists(world, alerts, supervision, client):
    """A page filtered by a food category links to lists of exactly the records of enterprises listing it."""
    from urllib.parse import urlencode

    from django.urls import reverse

    client.force_login(city_user())
    page = client.get("/analytics/warnings/", {"food_category": "乳制品"}).content.decode()
    raised = next(href for href, _n in links_in(page, "analytics-warnings-table") if "food_category=" in href)
    assert listed(client, raised) <= {alerts.a2.pk, alerts.a3.pk}  # e2 and e3 list 乳制品; e1, e4, e5 do not
    assert alerts.a2.pk in listed(client, raised)
    page = client.get("/analytics/supervision/", {"food_category": "肉制品"}).content.decode()
    hrefs = [h.replace("&amp;", "&") for h in re.findall(r'href="(/(?:records/inspections|supervision/tasks)/\?[^"]+)"',
                                                          page)]
    assert hrefs and all("food_category=" in h for h in hrefs)
    assert listed(client, "/records/inspections/?" + urlencode({"food_category": "肉制品"})) == {
        i.pk for i in Inspection.objects.filter(enterprise__in=[world.e1, world.e2, world.e5])}
    assert listed(client, "/supervision/tasks/?" + urlencode({"food_category": "乳制品"})) == {supervision.t4.pk, supervision.t5.pk}
    assert listed(client, reverse("alerts:alert_list") + "?" + urlencode({"food_category": "肉制品"})) == {alerts.a1.pk, alerts.a2.pk, alerts.a5.pk, alerts.old.pk}
