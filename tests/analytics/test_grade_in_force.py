"""The supervision figures count each inspection and each rectification order under the grade in force on its
day (the grade held at the end of the day before), not under the enterprise's grade now: a failure that brought a
D counts under the B before it. The monthly counts (InspectionMonth) and the direct count from the inspection
records give the same figures, an enterprise not graded yet is in no row, and a district's figures stay its own."""

import datetime as dt

import pytest
from analytics_testkit import CITY, DASHBOARD, DISTRICT, NEIGHBOUR, moment, months_ago
from django.utils import timezone
from scoring_testkit import make_enterprise, make_user
from test_figures import LISTS, _region, district_user

from foodrisk.analytics import handlers, services, stats
from foodrisk.analytics.forms import Query
from foodrisk.analytics.models import InspectionMonth, Precomputed
from foodrisk.records.models import Inspection
from foodrisk.scoring.models import GradeChange, ScoringRun
from foodrisk.supervision.models import Task

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)
FIELDS = ("done", "inspected", "failed", "rectifications", "rectified")


class World:
    pass


def _graded(ent, *changes):
    old = ""
    for at, grade in changes:
        GradeChange.objects.create(enterprise=ent, old_grade=old, new_grade=grade, at=at)
        old = grade
    ent.current_grade = old
    ent.save()


def _inspect(ent, no, on, result="fail"):
    return Inspection.objects.create(enterprise=ent, inspection_no=no, inspected_on=on, kind="routine", result=result)


@pytest.fixture
def regraded():
    """上城区: b graded B, fails an inspection two months ago, is graded D a month ago (and made to rectify while
    B); same failed on the very day its D took effect (a run scoring that day counts the failure); late inspected
    before its first grade, graded C only later. All are D or C now."""
    from supervision_testkit import org

    w = World()
    m3, m2, m1 = months_ago(3), months_ago(2), months_ago(1)
    w.failed_on = m2.replace(day=5)
    w.b = make_enterprise(1, DISTRICT)
    _graded(w.b, (moment(m3), "B"), (moment(m1), "D"))
    _inspect(w.b, "JC-b1", w.failed_on)
    _inspect(w.b, "JC-b2", w.failed_on + DAY, result="pass")
    w.same = make_enterprise(2, DISTRICT)
    _graded(w.same, (moment(m3), "B"), (moment(m2, 5), "D"))
    _inspect(w.same, "JC-s1", w.failed_on)
    w.late = make_enterprise(3, DISTRICT)
    _inspect(w.late, "JC-l1", w.failed_on)
    _graded(w.late, (moment(m1), "C"))
    w.task = Task.objects.create(kind="rectification", enterprise=w.b, title="整改", organisation=org(DISTRICT),
                                 due_on=timezone.localdate() - 10 * DAY, status="done")
    Task.objects.filter(pk=w.task.pk).update(created_at=moment(m2, 6))  # made while B
    return w


def _query(grade=""):
    this = services.current_month()
    return Query(services.add_months(this, -11), this, None, "", grade)


def _rows(user, query):
    return {r["grade"]: tuple(r[f] for f in FIELDS) for r in stats.supervision(user, query)["rows"]}


def _both_paths(user, query):
    """(precomputed figures, figures from the records), asserting the two agree."""
    services.backfill()
    assert Precomputed.objects.filter(name=services.INSPECTION_MONTHS).exists()
    precomputed = stats.supervision(user, query)["rows"]
    Precomputed.objects.all().delete()
    direct = stats.supervision(user, query)["rows"]
    assert precomputed == direct
    return {r["grade"]: tuple(r[f] for f in FIELDS) for r in precomputed}


def test_a_failure_counts_under_the_grade_in_force_when_inspected(regraded):
    user = district_user()
    rows = _both_paths(user, _query())
    # b's failure and pass and same's failure under B; nothing under D (both are D now); late (not graded then)
    # nowhere; the order made while b was B under B
    assert rows == {"A": (0, 0, 0, 0, 0), "B": (3, 2, 2, 1, 1), "C": (0, 0, 0, 0, 0), "D": (0, 0, 0, 0, 0),
                    "CD": (0, 0, 0, 0, 0)}
    page = {r["grade"]: r for r in stats.supervision(user, _query())["rows"]}
    assert page["B"]["failed_share"] == 66.7 and page["D"]["failed_share"] is None
    assert page["D"]["enterprises"] == 2 and page["C"]["enterprises"] == 1  # the enterprise counts: grade now
    # coverage on the grade now: both D enterprises were inspected (while B), though none under D; B has 2
    # enterprises inspected under it and none holding it now — no share over 100 %
    assert (page["D"]["covered"], page["D"]["coverage"], page["D"]["inspected"]) == (2, 100.0, 0)
    assert (page["B"]["inspected"], page["B"]["enterprises"], page["B"]["coverage"]) == (2, 0, None)
    assert all(r["covered"] + r["uninspected"] == r["enterprises"] for r in page.values())


def test_what_came_before_the_first_grade_is_counted_apart(regraded, client):
    """late's failure came before its first grade: in no row, but counted as "ungraded" on both paths and said
    under the table, so a bureau's first year does not look uninspected."""
    user = district_user()
    services.backfill()
    precomputed = stats.supervision(user, _query())["ungraded"]
    Precomputed.objects.all().delete()
    assert stats.supervision(user, _query())["ungraded"] == precomputed == {
        "done": 1, "inspected": 1, "failed": 1, "rectifications": 0, "rectified": 0}
    assert stats.supervision(user, _query("C"))["ungraded"] is None  # one grade asked for: not this question
    neighbour = make_user("westlake", _region(NEIGHBOUR), DASHBOARD, *LISTS)
    assert stats.supervision(neighbour, _query())["ungraded"] is None
    client.force_login(user)
    page = client.get("/analytics/supervision/").content.decode()
    assert "analytics-supervision-ungraded" in page and "首次评级之前" in page
    api = client.get("/api/analytics/supervision/").json()
    assert api["ungraded"]["failed"] == 1


def test_the_grade_filter_reads_the_grade_in_force(regraded):
    user = district_user()
    assert _both_paths(user, _query("D")) == {"D": (0, 0, 0, 0, 0)}
    assert _both_paths(user, _query("B")) == {"B": (3, 2, 2, 1, 1)}


def test_an_enterprise_inspected_under_two_grades_counts_under_each(regraded):
    _inspect(regraded.b, "JC-b3", timezone.localdate() - DAY)  # D since the 15th of last month
    rows = _both_paths(district_user(), _query())
    assert rows["B"] == (3, 2, 2, 1, 1) and rows["D"] == (1, 1, 1, 0, 0) and rows["CD"] == (1, 1, 1, 0, 0)
    months = InspectionMonth.objects.filter(enterprise=regraded.b).order_by("month")
    assert [(m.grade, m.inspections, m.failed) for m in months] == [("B", 2, 1), ("D", 1, 1)]


def test_another_district_sees_nothing_of_it(regraded):
    neighbour = make_user("westlake", _region(NEIGHBOUR), DASHBOARD, *LISTS)
    rows = _both_paths(neighbour, _query())
    assert all(row == (0, 0, 0, 0, 0) for row in rows.values())
    city = make_user("city", _region(CITY), DASHBOARD, *LISTS)
    assert _both_paths(city, _query())["B"] == (3, 2, 2, 1, 1)


def test_a_run_published_after_the_day_it_scores_moves_the_inspections_since(regraded):
    """The monthly counts once built: a run scoring a past day regrades b from then, so its inspections dated
    after that day are counted again under the new grade; those before keep theirs."""
    services.backfill()
    user = district_user()
    run = ScoringRun.objects.create(kind="full", as_of=regraded.failed_on, status="succeeded",
                                    published_at=timezone.now())
    GradeChange.objects.create(enterprise=regraded.b, run=run, old_grade="D", new_grade="C", at=timezone.now())
    assert services.inspections_regraded(run.pk) == 1
    rows = _rows(user, _query())
    # the pass of the day after and the order made then: C
    assert rows["B"] == (2, 2, 2, 0, 0) and rows["C"] == (1, 1, 0, 1, 1)
    assert handlers.on_grade_changed(run_id=run.pk)["backfill"]  # its reaction (a past month: a backfill)
    assert _rows(user, _query()) == rows
    Precomputed.objects.all().delete()
    assert _rows(user, _query()) == rows


def test_inspection_records_written_keep_the_grade_in_force(regraded):
    services.backfill()
    _inspect(regraded.late, "JC-l2", timezone.localdate() - DAY, result="pass")
    services.inspections_changed([regraded.late.pk])
    grades = set(InspectionMonth.objects.filter(enterprise=regraded.late).values_list("grade", flat=True))
    assert grades == {"", "C"}  # the first before its grade, kept as such; the new one under C
    services.refresh_month()  # a published grade does not rewrite them
    assert set(InspectionMonth.objects.filter(enterprise=regraded.late).values_list("grade", flat=True)) == grades


@pytest.mark.parametrize("precomputed", [False, True])
def test_each_number_lists_what_it_counts(regraded, client, precomputed):
    """The inspections and orders listed under the grade in force when made, the enterprises inspected while
    holding the grade, the enterprises of the grade now not inspected (idle: D now, never inspected)."""
    from test_figures import links_in, listed

    idle = make_enterprise(4, DISTRICT)
    _graded(idle, (moment(months_ago(3)), "D"))
    _inspect(regraded.b, "JC-b3", timezone.localdate() - DAY)  # now D: b inspected under B and D
    if precomputed:
        services.backfill()
    client.force_login(district_user())
    page = client.get("/analytics/supervision/")
    rows = {r["grade"]: r for r in page.context["figures"]["rows"]}
    assert (rows["D"]["enterprises"], rows["D"]["inspected"], rows["D"]["uninspected"]) == (3, 1, 1)
    assert (rows["B"]["enterprises"], rows["B"]["inspected"], rows["B"]["uninspected"]) == (0, 2, 0)
    assert rows["CD"]["inspected"] == 1 and rows["CD"]["uninspected"] == 1
    checked = 0
    for href, n in links_in(page.content.decode(), "analytics-supervision-table"):
        assert len(listed(client, href)) == int(n), href
        checked += 1
    assert checked >= 20
    assert listed(client, rows["B"]["links"]["done"]) == set(
        Inspection.objects.filter(inspection_no__in=["JC-b1", "JC-b2", "JC-s1"]).values_list("pk", flat=True))
    assert listed(client, rows["B"]["links"]["rectifications"]) == {regraded.task.pk}
    assert listed(client, rows["D"]["links"]["uninspected"]) == {idle.pk}
    assert listed(client, rows["CD"]["links"]["inspected"]) == {regraded.b.pk}


@pytest.mark.parametrize("precomputed", [False, True])
def test_the_page_asks_as_many_queries_for_more_records(regraded, client, precomputed):
    """The grade in force is looked up inside the database: more enterprises, grade changes, inspections and
    orders add no query to the page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from supervision_testkit import org

    client.force_login(district_user())

    def queries():
        if precomputed:
            services.backfill()
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/analytics/supervision/").status_code == 200
        return len(ctx.captured_queries)

    before = queries()
    for n in range(10, 20):
        ent = make_enterprise(n, DISTRICT)
        _graded(ent, (moment(months_ago(3)), "A"), (moment(months_ago(2), 20), "C"))
        for k in range(3):
            _inspect(ent, f"JC-{n}-{k}", regraded.failed_on + k * 10 * DAY)
        Task.objects.create(kind="rectification", enterprise=ent, title="整改", organisation=org(DISTRICT),
                            due_on=timezone.localdate() - DAY, status="assigned")
    assert queries() == before
