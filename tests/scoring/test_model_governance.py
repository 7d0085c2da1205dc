"""Model governance: review + a second person before promotion, one champion, rollback, audit; every change
of champion (promotion, rollback, retiring the champion) published only on a fresh, confirmed impact
preview; UI and API permissions."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from model_testkit import WORLD_AS_OF, load_world, on_preview, trained_candidate
from scoring_testkit import activate_profile, make_user, people

from foodrisk.core.models import AuditEntry
from foodrisk.scoring import model_services, services
from foodrisk.scoring.models import ModelVersion

pytestmark = pytest.mark.django_db

MODEL_PERMS = ("scoring.view_modelversion", "scoring.add_modelversion", "scoring.promote_modelversion",
               "scoring.view_driftreport")


@pytest.fixture
def team():
    author, approver = people()
    activate_profile(author, approver)
    load_world()
    trainer = make_user("trainer", None, *MODEL_PERMS, national=True)
    admin = make_user("modeladmin", None, *MODEL_PERMS, national=True)
    viewer = make_user("viewer", None, "scoring.view_modelversion", national=True)
    nobody = make_user("nobody", None, "scoring.view_score", national=True)
    return trainer, admin, viewer, nobody


def actions(mv):
    return list(AuditEntry.objects.filter(object_type="scoring.modelversion", object_id=str(mv.pk))
                .order_by("seq").values_list("action", flat=True))


def test_promotion_needs_review_and_a_second_person(team):
    trainer, admin, viewer, _n = team
    mv = trained_candidate(trainer)
    with pytest.raises(PermissionDenied):  # the trainer may not promote their own model
        model_services.promote(mv, user=trainer, note="looks fine")
    with pytest.raises(PermissionDenied):
        model_services.review(mv, user=trainer, note="self review")
    with pytest.raises(PermissionDenied):  # no promote permission
        model_services.promote(mv, user=viewer, note="ok")
    with pytest.raises(ValidationError):  # no review, no note
        model_services.promote(mv, user=admin)
    model_services.review(mv, user=admin, note="AUC combined > rules; grade rates rise A<B<C<D")
    with pytest.raises(ValidationError, match="影响预览"):  # no impact preview
        model_services.promote(mv, user=admin)
    kw = on_preview(admin, mv)
    with pytest.raises(ValidationError, match="确认"):  # a preview, not confirmed
        model_services.promote(mv, user=admin, preview=kw["preview"])
    model_services.promote(mv, user=admin, **kw)
    mv.refresh_from_db()
    assert mv.status == "champion" and mv.reviewed_by == admin and mv.promoted_by == admin and mv.promoted_at
    assert model_services.champion() == mv
    # (the train entry exists only when this test trained the session's model; later ones copy its artifact)
    assert actions(mv)[-2:] == ["scoring.modelversion.review", "scoring.modelversion.promote"]
    assert set(actions(mv)) <= {"scoring.modelversion.train", "scoring.modelversion.review",
                                "scoring.modelversion.promote"}
    promoted = AuditEntry.objects.get(action="scoring.modelversion.promote", object_id=str(mv.pk))
    assert promoted.details["preview_run"] == kw["preview"].pk
    assert promoted.details["moved"] == kw["preview"].summary["moved"]
    with pytest.raises(ValidationError):  # already champion
        model_services.promote(mv, user=admin, note="again", **on_preview(admin, mv))


def test_one_champion_and_rollback(team):
    trainer, admin, _v, _n = team
    first = trained_candidate(trainer)
    second = trained_candidate(trainer)
    with pytest.raises(ValidationError):
        model_services.rollback(user=admin)  # nothing to roll back to
    model_services.promote(first, user=admin, note="first review", **on_preview(admin, first))
    model_services.promote(second, user=admin, note="second review", **on_preview(admin, second))
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("retired", "champion")
    assert second.previous_champion == first
    assert ModelVersion.objects.filter(status="champion").count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():  # the database refuses a second champion
        ModelVersion.objects.filter(pk=first.pk).update(status="champion")

    assert model_services.previous_champion() == first
    with pytest.raises(ValidationError):  # a rollback is a change of model: previewed and confirmed too
        model_services.rollback(user=admin, note="drift on second")
    back = model_services.rollback(user=admin, note="drift on second", **on_preview(admin, first))
    second.refresh_from_db()
    assert back == first and back.status == "champion" and second.status == "retired"
    assert model_services.champion() == first
    assert "scoring.modelversion.rollback" in actions(first)
    assert "scoring.modelversion.retire" in actions(second)
    # retiring the champion leaves scoring rule-only: previewed (no model) and confirmed
    with pytest.raises(ValidationError):
        model_services.retire(first, user=admin, note="switch off", **on_preview(admin, second))
    model_services.retire(first, user=admin, note="switch off", **on_preview(admin, None))
    assert model_services.champion() is None


def test_ui_permissions(team, client):
    trainer, admin, viewer, nobody = team
    mv = trained_candidate(trainer)
    client.force_login(nobody)
    assert client.get(reverse("scoring:modelversion_list")).status_code == 403
    assert client.get(reverse("scoring:modelversion_detail", args=[mv.pk])).status_code == 403
    client.force_login(viewer)
    assert client.get(reverse("scoring:modelversion_list")).status_code == 200
    page = client.get(reverse("scoring:modelversion_detail", args=[mv.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert mv.version in body and "data-echarts" in body and "<script>" not in body.replace(
        '<script src=', '')
    assert "formaction" not in body  # no governance buttons without permission
    change = reverse("scoring:modelversion_change", args=[mv.pk])
    assert client.get(change).status_code == 403
    assert client.post(change, {"do": "preview"}).status_code == 403
    assert client.post(change, {"do": "publish", "note": "x", "confirmed": "1"}).status_code == 403
    assert client.post(reverse("scoring:modelversion_train"), {"months": 24}).status_code == 403
    mv.refresh_from_db()
    assert mv.status == "candidate"
    # the trainer sees no promote button on their own model and cannot publish it
    client.force_login(trainer)
    assert change not in client.get(reverse("scoring:modelversion_detail", args=[mv.pk])).content.decode()
    run = services.preview_model(mv, as_of=WORLD_AS_OF, user=admin)
    client.post(change, {"do": "publish", "note": "self", "preview": run.pk, "confirmed": "1"})
    mv.refresh_from_db()
    assert mv.status == "candidate"
    # the admin opens the preview from the card, sees the matrix and the movers, confirms and promotes
    client.force_login(admin)
    body = client.get(reverse("scoring:modelversion_detail", args=[mv.pk])).content.decode()
    assert change in body
    page = client.get(change).content.decode()
    assert "迁移矩阵" in page and str(run.summary["population"]) in page and 'name="confirmed"' in page
    r = client.post(change, {"do": "publish", "note": "reviewed card", "preview": run.pk})  # not ticked
    mv.refresh_from_db()
    assert r.status_code == 302 and mv.status == "candidate"
    r = client.post(change, {"do": "publish", "note": "reviewed card", "preview": run.pk, "confirmed": "1"})
    assert r.status_code == 302
    mv.refresh_from_db()
    assert mv.status == "champion" and mv.review_note == "reviewed card"
    assert client.get(reverse("scoring:modelversion_list")).status_code == 200
    # retiring the champion goes through the preview of rule-only scoring
    assert reverse("scoring:modelversion_change", args=["none"]) in client.get(mv.get_absolute_url()).content.decode()


def test_api_permissions(team, client):
    trainer, admin, viewer, nobody = team
    mv = trained_candidate(trainer)
    base = "/api/scoring/models/"
    client.force_login(nobody)
    assert client.get(base).status_code == 403
    assert client.get(f"{base}{mv.pk}/").status_code == 403
    assert client.post(f"{base}{mv.pk}/promote/", {"note": "x"}).status_code == 403
    client.force_login(viewer)
    data = client.get(base).json()
    rows = data["results"] if isinstance(data, dict) and "results" in data else data
    assert [r["version"] for r in rows] == [mv.version]
    card = client.get(f"{base}{mv.pk}/").json()
    assert card["metrics"]["metrics"]["combined"]["auc"] is not None
    assert client.get(f"{base}{mv.pk}/artifact/").json()["format"] == "foodrisk.model/1"
    assert client.post(f"{base}{mv.pk}/promote/", {"note": "x"}).status_code == 403
    assert client.post(f"{base}rollback/").status_code == 403
    assert client.post(f"{base}train/", {"months": 24}).status_code == 403
    assert client.post(f"{base}preview/", {"target": mv.pk}, content_type="application/json").status_code == 403
    assert client.get(f"{base}preview/?target={mv.pk}").status_code == 403
    client.force_login(trainer)
    assert client.post(f"{base}{mv.pk}/promote/", {"note": "mine"}).status_code == 403
    client.force_login(admin)
    assert client.post(f"{base}{mv.pk}/promote/", {}).status_code == 400  # review note required
    r = client.post(f"{base}{mv.pk}/promote/", {"note": "reviewed"})
    assert r.status_code == 400 and "影响预览" in r.content.decode()  # no preview yet
    r = client.post(f"{base}preview/", {"target": mv.pk}, content_type="application/json")
    assert r.status_code == 202 and r.json()["job"]
    run = services.preview_model(mv, as_of=WORLD_AS_OF, user=admin)  # what the queued job runs
    got = client.get(f"{base}preview/?target={mv.pk}").json()
    assert got["run"] == run.pk and got["change"] == "promote" and got["problem"] == ""
    assert got["summary"]["population"] == run.summary["population"]
    assert client.get(f"{base}preview/?target=x").status_code == 400
    r = client.post(f"{base}{mv.pk}/promote/", {"note": "reviewed", "preview": run.pk}, content_type="application/json")
    assert r.status_code == 400  # not confirmed
    r = client.post(f"{base}{mv.pk}/promote/", {"note": "reviewed", "preview": run.pk, "confirmed": True},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "champion"
