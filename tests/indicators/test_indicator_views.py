import pytest
from django.urls import reverse
from scoring_testkit import make_population, people

from foodrisk.indicators import services as isvc
from foodrisk.indicators.models import IndicatorSet

pytestmark = pytest.mark.django_db


def test_create_edit_submit_approve_activate_through_the_ui(client):
    author, approver = people()
    client.force_login(author)
    r = client.post(reverse("indicators:indicatorset_add"), {"profile": "food_2016", "code": "city_2026",
                                                             "name": "市级指标 2026"})
    assert r.status_code == 302
    s = IndicatorSet.objects.get(code="city_2026")
    page = client.get(s.get_absolute_url())
    assert page.status_code == 200 and "d_insp_fail_12m" in page.content.decode()
    # edit one indicator through the form (JSON only for filter and bands)
    url = reverse("indicators:indicator_edit", args=[s.pk, "d_insp_fail_12m"])
    form = client.get(url).context["form"]
    data = {k: form[k].value() for k in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data["weight"] = "1.5"
    data["enabled"] = "on"
    data["filter"] = form.fields["filter"].prepare_value(form.initial["filter"])
    data["bands"] = '[{"min": 1, "max": 2, "points": 9}]'
    data["denominator_filter"] = ""
    r = client.post(url, data)
    assert r.status_code == 302, r.context["form"].errors
    s.refresh_from_db()
    ind = next(i for i in s.spec["indicators"] if i["code"] == "d_insp_fail_12m")
    assert ind["weight"] == 1.5 and ind["bands"] == [{"min": 1, "max": 2, "points": 9}]
    # an engine error is shown next to the field it concerns
    data["bands"] = '[{"min": 3, "max": 2, "points": 9}]'
    r = client.post(url, data)
    assert r.status_code == 200 and "bands" in r.context["form"].errors
    data["bands"] = "[not json"
    r = client.post(url, data)
    assert "bands" in r.context["form"].errors
    # settings: cut-offs without JSON
    url = reverse("indicators:indicatorset_settings", args=[s.pk])
    form = client.get(url).context["form"]
    data = {k: ("" if form[k].value() is None else form[k].value()) for k in form.fields}
    data.update(cutoff_A="25", cutoff_B="45", cutoff_C="60", categories=form.fields["categories"].prepare_value(
        s.spec["categories"]), exclude_repaired="on")
    r = client.post(url, data)
    assert r.status_code == 302, r.context["form"].errors
    s.refresh_from_db()
    assert s.spec["cutoffs"]["A"] == 25
    data.update(cutoff_A="50")
    r = client.post(url, data)
    assert r.status_code == 200 and r.context["form"].errors
    # rule and raw JSON editors render
    assert client.get(reverse("indicators:rule_edit", args=[s.pk, "veto_serious_list"])).status_code == 200
    assert client.get(reverse("indicators:indicatorset_json", args=[s.pk])).status_code == 200
    # lifecycle: submit, same person cannot approve, second person can, then activate
    act = lambda a: reverse("indicators:indicatorset_action", args=[s.pk, a])  # noqa: E731
    client.post(act("submit"))
    client.post(act("approve"))
    s.refresh_from_db()
    assert s.status == "submitted"
    client.force_login(approver)
    client.post(act("approve"))
    s.refresh_from_db()
    assert s.status == "approved"
    from foodrisk.scoring.handlers import no_auto_rescore

    with no_auto_rescore():
        client.post(act("activate"))  # without the second confirmation: refused
        s.refresh_from_db()
        assert s.status == "approved"
        assert "confirmed" in client.get(s.get_absolute_url()).content.decode()
        client.post(act("activate"), {"confirmed": "1"})
    s.refresh_from_db()
    assert s.status == "active"


def test_preview_page_shows_matrix(client, django_capture_on_commit_callbacks):
    author, approver = people()
    make_population(4, 0)
    s = isvc.create_from_profile("food_2016", user=author)
    client.force_login(author)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("indicators:indicatorset_action", args=[s.pk, "preview"]))
    assert r.status_code == 302
    page = client.get(reverse("indicators:indicatorset_preview", args=[s.pk]))
    assert page.status_code == 200 and page.context["result"]["population"] == 4
    assert len(page.context["matrix_rows"]) == 5
    # rendered with the preview's own template (it once rendered the set's detail page: "指标 (0)", no matrix)
    assert [t.name for t in page.templates][0] == "indicators/indicatorset_preview.html"
    html = page.content.decode()
    assert 'id="impact-matrix"' in html and "政策规则 (" not in html


def test_api_lifecycle_and_two_person_rule(client):
    author, approver = people()
    client.force_login(author)
    r = client.post("/api/indicators/sets/", {"profile": "anhui"}, content_type="application/json")
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    bad = dict(r.json()["spec"], cutoffs={"A": 1})
    r = client.put(f"/api/indicators/sets/{pk}/spec/", {"spec": bad}, content_type="application/json")
    assert r.status_code == 400 and r.json()["spec"][0]["field"] == "cutoffs"
    assert client.post(f"/api/indicators/sets/{pk}/submit/").status_code == 200
    assert client.post(f"/api/indicators/sets/{pk}/approve/").status_code == 403
    client.force_login(approver)
    assert client.post(f"/api/indicators/sets/{pk}/approve/").json()["status"] == "approved"
    # activation regrades everyone: the API's second confirmation, like the UI's ticked box
    activate = f"/api/indicators/sets/{pk}/activate/"
    for body in ({}, {"confirmed": False}, {"note": "上线"}):
        r = client.post(activate, body, content_type="application/json")
        assert r.status_code == 400 and "高风险操作" in r.json()["confirmed"][0], body
    assert IndicatorSet.objects.get(pk=pk).status == "approved"
    r = client.post(activate, {"confirmed": True, "note": "上线"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "active"
    r = client.post(f"/api/indicators/sets/{pk}/rollback/", {}, content_type="application/json")
    assert r.status_code == 400 and "confirmed" in r.json()
