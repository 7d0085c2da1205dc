"""The precomputed path of the statistics (the monthly per-enterprise snapshot, the counts with categories) gives
the same numbers as the direct computation from the grade history and the published scores, publishing a run
keeps it current, and the food-category filter narrows every figure to exactly the enterprises listing it."""

import datetime as dt
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from analytics_testkit import graded_world, months_ago, publish_run
from django.utils import timezone
from test_figures import city_user, district_user, listed, supervision, world  # noqa: F401  (the hand-made history)

from foodrisk.analytics import handlers, services, stats
from foodrisk.analytics.forms import Query
from foodrisk.analytics.models import EnterpriseCategory, EnterpriseMonth, Precomputed, SnapshotMonth
from foodrisk.enterprises.models import Enterprise
from foodrisk.records.models import Inspection

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def month_end(month):
    return services.add_months(month, 1) - DAY


def queries():
    """Every pair of days the snapshot answers (a month's last day, today), with and without the filters."""
    today = timezone.localdate()
    firsts = [month_end(months_ago(n)) for n in (13, 12, 6, 5, 4, 3, 2, 1)]  # 12, 13: a year before a second
    seconds = [month_end(months_ago(n)) for n in (3, 1)] + [today]
    this = services.current_month()
    for first in firsts:
        for second in seconds:
            if first >= second:
                continue
            for extra in ({}, {"grade": "D"}, {"grade": "A"}, {"food_category": "肉制品"},
                          {"food_category": "乳制品", "business_form": "catering"}):
                yield Query(services.add_months(this, -11), this, None, extra.get("business_form", ""),
                            extra.get("grade", ""), extra.get("food_category", ""), first, second)


def figures(user, query):
    return {"migration": stats.migration(user, query),
            "rise": [(e.pk, e.before, e.after, e.rise) for e in stats.largest_rise(user, query)],
            "highest": [e.pk for e in stats.highest_risk(user, query)],
            "by_form": stats.ranking_by_form(user, query),
            "by_category": stats.ranking_by_category(user, query) if not query.food_category else None,
            "supervision": [{k: v for k, v in row.items()} for row in stats.supervision(user, query)["rows"]]}


def a_year_earlier(w):
    """History a year and more back: e4 graded B, e1 and e2 A fourteen months ago by a run scoring them (a scored
    enterprise has a grade: the snapshot keeps graded enterprises only)."""
    from analytics_testkit import moment

    from foodrisk.indicators.models import IndicatorSet
    from foodrisk.scoring.models import GradeChange, Score, ScoringRun

    early = months_ago(14)
    GradeChange.objects.create(enterprise=w.e4, new_grade="B", at=moment(early))
    GradeChange.objects.create(enterprise=w.e2, new_grade="A", at=moment(early))
    GradeChange.objects.create(enterprise=w.e1, new_grade="A", at=moment(early))
    run = ScoringRun.objects.create(kind="full", as_of=early.replace(day=20), status="succeeded",
                                    published_at=timezone.now())
    iset = IndicatorSet.objects.get(code="t-set")
    for ent, score in ((w.e1, 20), (w.e2, 10), (w.e4, 50)):
        Score.objects.create(run=run, enterprise=ent, as_of=run.as_of, indicator_set=iset, indicator_set_version=1,
                             rule_score=score, total_score=score, base_grade="A", engine_grade="A", grade="A")


def test_the_snapshot_gives_the_numbers_of_the_history(world, supervision):  # noqa: F811
    users = [district_user(), city_user()]
    a_year_earlier(world)
    services.backfill()
    year = EnterpriseMonth.objects.filter(month=services.current_month(), year_before_grade="B")
    assert list(year.values_list("enterprise_id", flat=True)) == [world.e4.pk]  # the year-apart path is read
    assert SnapshotMonth.objects.filter(month=services.current_month()).exists()
    assert EnterpriseMonth.objects.filter(month=months_ago(4)).count() == 4  # e1, e2, e4, e5 graded then
    cases = [(user, query) for user in users for query in queries()]
    precomputed = [figures(user, query) for user, query in cases]
    assert any(f["rise"] for f in precomputed) and any(f["migration"]["worse"] for f in precomputed)
    assert any(row["inspected"] for f in precomputed for row in f["supervision"])
    SnapshotMonth.objects.all().delete()  # the same questions, now answered from the history and the records
    Precomputed.objects.all().delete()
    for (user, query), snap in zip(cases, precomputed, strict=True):
        assert figures(user, query) == snap, query


def test_publishing_a_run_keeps_the_snapshot_current(django_capture_on_commit_callbacks):
    from scoring_testkit import penalty

    author, ents, run = graded_world(django_capture_on_commit_callbacks)
    month = services.current_month()

    def held():
        return dict(EnterpriseMonth.objects.filter(month=month).values_list("enterprise_id", "grade"))

    assert held() == dict(Enterprise.objects.exclude(current_grade="").values_list("pk", "current_grade"))
    ents[3].food_categories = ["水产品"]
    ents[3].save()
    for n in range(3):
        penalty(ents[3], f"罚-新-{n}", severity="serious").save()
    publish_run(django_capture_on_commit_callbacks, author)
    ents[3].refresh_from_db()
    assert held()[ents[3].pk] == ents[3].current_grade
    assert held() == dict(Enterprise.objects.exclude(current_grade="").values_list("pk", "current_grade"))
    assert list(EnterpriseCategory.objects.filter(category="水产品").values_list("enterprise_id", flat=True)) == [
        ents[3].pk]


def _links(html, table_id):
    table = html[html.index(f'id="{table_id}"'):]
    return re.findall(r'<a href="([^"]+)"[^>]*>(\d+)</a>', table[:table.index("</table>")])


def test_the_food_category_filter_narrows_to_exactly_those_enterprises(world, client):  # noqa: F811
    services.backfill()
    client.force_login(district_user())
    listing = {e.pk: e for e in (world.e2, world.e3)}  # 乳制品 in 上城区: e2 B (catering), e3 D
    response = client.get("/analytics/", {"food_category": "乳制品"})
    assert response.status_code == 200
    now = response.context["figures"]["now"]
    assert {g: now[g] for g in "ABCD"} == {"A": 0, "B": 1, "C": 0, "D": 1}
    links = _links(response.content.decode(), "analytics-matrix-table")
    assert links
    for href, n in links:
        params = dict(parse_qsl(urlsplit(href.replace("&amp;", "&")).query))
        assert params["food_category"] == "乳制品"
        pks = listed(client, href + "&x=1")
        assert len(pks) == int(n) and pks <= set(listing)
    # the migration and the rankings count only them, and their links carry the filter
    migration = client.get("/analytics/migration/", {"food_category": "乳制品"})
    assert migration.context["figures"]["total"] == 2
    for href, _n in _links(migration.content.decode(), "analytics-migration-table"):
        assert "food_category=%E4%B9%B3%E5%88%B6%E5%93%81" in href
        assert listed(client, href) <= set(listing)
    rankings = client.get("/analytics/rankings/", {"food_category": "乳制品"}).context["figures"]
    assert {e.pk for e in rankings["highest"]} == set(listing)
    assert sum(row["total"] for row in rankings["by_form"]) == 2
    # the API takes the same filter
    api = client.get("/api/analytics/grades/", {"food_category": "乳制品"})
    assert api.status_code == 200


def test_inspections_written_keep_the_monthly_counts_current(world, supervision):  # noqa: F811
    services.backfill()
    user = district_user()
    this = services.current_month()
    query = Query(services.add_months(this, -11), this, None, "", "", "", months_ago(2), timezone.localdate())
    Inspection.objects.create(enterprise=world.e2, inspection_no="JC-new", inspected_on=timezone.localdate() - DAY,
                              kind="routine", result="fail")
    handlers.on_records_changed(kind="inspections", enterprise_ids=[world.e2.pk])
    precomputed = stats.supervision(user, query)["rows"]
    assert next(r for r in precomputed if r["grade"] == "B")["inspected"] == 1
    Precomputed.objects.all().delete()
    assert stats.supervision(user, query)["rows"] == precomputed
