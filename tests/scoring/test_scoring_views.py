import itertools

import pytest
from django.urls import reverse
from django.utils import timezone
from scoring_testkit import activate_profile, make_enterprise, make_user, people

from foodrisk.core.testing import ViewTestCases, export_list, grant
from foodrisk.enterprises.models import Enterprise
from foodrisk.scoring import services
from foodrisk.scoring.models import GradeAdjustment, Score

_n = itertools.count(5000)


def adjustment_in(region, user=None):
    e = make_enterprise(next(_n), region.code)
    return GradeAdjustment.objects.create(enterprise=e, proposed_grade="D", reason="复核", proposed_by=user)


class GradeAdjustmentViews(ViewTestCases.List, ViewTestCases.Detail):
    model = GradeAdjustment

    def make_object(self, region):
        return adjustment_in(region)

    def test_export_stays_in_scope_and_is_audited(self):
        mine, theirs = self.make_object(self.region_a), self.make_object(self.region_b)
        self.grant(self.perm("view"), "core.export_data")
        body = export_list(self.client, self.url("list")).content.decode("utf-8-sig")
        assert mine.enterprise.name in body and theirs.enterprise.name not in body
        assert "export" in self.audit_actions()

    def test_propose_then_same_person_cannot_approve_but_another_can(self):
        self.grant("scoring.view_gradeadjustment", "scoring.add_gradeadjustment", "scoring.approve_gradeadjustment")
        e = make_enterprise(next(_n), self.region_a.code)
        response = self.client.post(reverse("scoring:gradeadjustment_add"),
                                    {"enterprise": e.pk, "proposed_grade": "D", "reason": "现场发现问题",
                                     "valid_until": ""})
        assert response.status_code == 302, response.context["form"].errors
        adj = GradeAdjustment.objects.get(enterprise=e)
        assert adj.proposed_by == self.user
        self.client.post(reverse("scoring:gradeadjustment_action", args=[adj.pk, "approve"]), {"confirmed": "1"})
        adj.refresh_from_db()
        assert adj.status == "pending"  # refused: same person
        other = grant(make_user("second", self.region_a), "scoring.view_gradeadjustment",
                      "scoring.approve_gradeadjustment")
        self.client.force_login(other)
        page = self.client.get(adj.get_absolute_url())
        assert page.context["can_decide"] and 'name="confirmed"' in page.content.decode()
        self.client.post(reverse("scoring:gradeadjustment_action", args=[adj.pk, "approve"]), {"note": "同意"})
        adj.refresh_from_db()
        assert adj.status == "pending"  # refused: no second confirmation
        self.client.post(reverse("scoring:gradeadjustment_action", args=[adj.pk, "approve"]),
                         {"note": "同意", "confirmed": "1"})
        adj.refresh_from_db()
        e.refresh_from_db()
        assert adj.status == "approved" and adj.decided_by == other and e.current_grade == "D"

    def test_cannot_propose_for_another_region(self):
        self.grant("scoring.view_gradeadjustment", "scoring.add_gradeadjustment")
        e = make_enterprise(next(_n), self.region_b.code)
        response = self.client.post(reverse("scoring:gradeadjustment_add"),
                                    {"enterprise": e.pk, "proposed_grade": "D", "reason": "x"})
        assert response.status_code == 200 and response.context["form"].errors
        assert not GradeAdjustment.objects.filter(enterprise=e).exists()

    def test_action_on_other_region_is_not_found(self):
        adj = adjustment_in(self.region_b)
        self.grant("scoring.view_gradeadjustment", "scoring.approve_gradeadjustment")
        url = reverse("scoring:gradeadjustment_action", args=[adj.pk, "approve"])
        assert self.client.post(url).status_code == 404


@pytest.fixture
def scored(db):
    author, approver = people()
    a = make_enterprise(1, "330102")
    b = make_enterprise(2, "330106")
    activate_profile(author, approver)
    run = services.run_scoring("full", timezone.localdate(), author)
    return author, a, b, run


def test_pages_render_and_scores_stay_in_scope(client, scored):
    author, a, b, run = scored
    user = make_user("district", None, "scoring.view_score", "scoring.view_scoringrun", "scoring.view_gradechange",
                     "scoring.view_gradeadjustment", "scoring.add_scoringrun", "indicators.view_indicatorset")
    client.force_login(user)
    for name in ("scoring:dashboard", "scoring:scoringrun_list", "scoring:score_list", "scoring:gradechange_list",
                 "scoring:gradeadjustment_list", "indicators:indicatorset_list"):
        assert client.get(reverse(name)).status_code == 200, name
    assert client.get(reverse("scoring:scoringrun_detail", args=[run.pk])).status_code == 200
    page = client.get(reverse("scoring:score_list"))
    ids = {row.record.enterprise_id for row in page.context["table"].rows}
    assert ids == {a.pk}
    why = client.get(reverse("scoring:enterprise_why", args=[a.pk]))
    assert why.status_code == 200 and why.context["score"].enterprise_id == a.pk
    assert why.context["indicator_rows"] and "data-echarts" in why.content.decode()
    assert client.get(reverse("scoring:enterprise_why", args=[b.pk])).status_code == 404
    page = client.get(reverse("scoring:score_list") + "?grade=" + Enterprise.objects.get(pk=a.pk).current_grade)
    assert page.status_code == 200
    assert "<script>" not in client.get(reverse("scoring:dashboard")).content.decode()  # CSP: no inline JS


def test_api_scores_and_adjustments_are_scoped(client, scored):
    author, a, b, run = scored
    user = make_user("district", None, "scoring.view_score", "scoring.view_gradeadjustment",
                     "scoring.add_gradeadjustment")
    client.force_login(user)
    rows = client.get(f"/api/scoring/scores/?enterprise={a.pk}").json()["results"]
    assert [r["enterprise"] for r in rows] == [a.pk] and rows[0]["run"] == run.pk
    assert client.get(f"/api/scoring/scores/?enterprise={b.pk}").json()["results"] == []
    latest = client.get(f"/api/scoring/scores/?enterprise={a.pk}&latest=1")  # sliced after the filter
    assert latest.status_code == 200 and [r["enterprise"] for r in latest.json()["results"]] == [a.pk]
    other = Score.objects.get(enterprise=b)
    assert client.get(f"/api/scoring/scores/{other.pk}/").status_code == 404
    r = client.post("/api/scoring/adjustments/", {"enterprise": a.pk, "proposed_grade": "C", "reason": "复核"},
                    content_type="application/json")
    assert r.status_code == 201, r.content
    r = client.post("/api/scoring/adjustments/", {"enterprise": b.pk, "proposed_grade": "C", "reason": "复核"},
                    content_type="application/json")
    assert r.status_code == 400
    adj = GradeAdjustment.objects.get(enterprise=a)
    approve = f"/api/scoring/adjustments/{adj.pk}/approve/"
    assert client.post(approve, {"confirmed": True}, content_type="application/json").status_code == 403  # no perm
    approver = make_user("boss", None, "scoring.view_gradeadjustment", "scoring.approve_gradeadjustment")
    client.force_login(approver)
    for body in ({}, {"confirmed": False}, {"confirmed": None}, {"note": "同意"}):  # the second confirmation
        r = client.post(approve, body, content_type="application/json")
        assert r.status_code == 400 and "confirmed" in r.json() and "高风险操作" in r.json()["confirmed"][0], body
    adj.refresh_from_db()
    assert adj.status == "pending"
    assert client.post(approve, {"confirmed": True}, content_type="application/json").status_code == 200
    adj.refresh_from_db()
    assert adj.status == "approved"
    theirs = adjustment_in(b.region)
    assert client.get(f"/api/scoring/adjustments/{theirs.pk}/").status_code == 404


def test_a_district_user_sees_the_run_figures_of_their_scope_only(client, scored):
    _author, a, _b, run = scored
    assert run.enterprise_count == 2  # the run covers both districts
    user = make_user("district", None, "scoring.view_score", "scoring.view_scoringrun", "scoring.view_gradechange")
    client.force_login(user)
    page = client.get(reverse("scoring:scoringrun_detail", args=[run.pk]))
    shown = page.context["object"]
    assert shown.enterprise_count == 1 and sum(shown.grade_distribution.values()) == 1
    assert shown.grade_distribution == {Enterprise.objects.get(pk=a.pk).current_grade: 1}
    assert "您的数据范围" in page.content.decode()
    api = client.get(f"/api/scoring/runs/{run.pk}/").json()
    assert api["enterprise_count"] == 1 and sum(api["grade_distribution"].values()) == 1
    listing = client.get(reverse("scoring:scoringrun_list"))
    assert "enterprise_count" not in [c.name for c in listing.context["table"].columns]
    run.refresh_from_db()
    assert run.enterprise_count == 2  # nothing written back


def test_a_user_with_national_scope_sees_the_whole_run(client, scored):
    _author, _a, _b, run = scored
    user = make_user("national", None, "scoring.view_score", "scoring.view_scoringrun", national=True)
    client.force_login(user)
    assert client.get(reverse("scoring:scoringrun_detail", args=[run.pk])).context["object"].enterprise_count == 2
