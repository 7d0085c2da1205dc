"""The impact preview of a change of model (issue 17): the migration matrix and the enterprises that move,
computed against the published grades and seen per region; a promotion, rollback or retirement of the
champion is published only on a fresh preview of that very change, confirmed, and audited with its figures."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from model_testkit import WORLD_AS_OF, load_world, on_preview, trained_candidate
from scoring_testkit import activate_profile, make_user, people

from foodrisk.core.models import AuditEntry, Region
from foodrisk.enterprises.models import Enterprise
from foodrisk.scoring import model_services, services
from foodrisk.scoring.models import ScoringRun

pytestmark = pytest.mark.django_db

PERMS = ("scoring.view_modelversion", "scoring.add_modelversion", "scoring.promote_modelversion",
         "scoring.view_score", "scoring.view_scoringrun")


@pytest.fixture
def city():
    author, approver = people()
    activate_profile(author, approver)
    load_world()
    services.run_scoring("full", WORLD_AS_OF, author)  # published rule grades to compare with
    trainer = make_user("trainer", None, *PERMS, national=True)
    admin = make_user("modeladmin", None, *PERMS, national=True)
    return author, trainer, admin


def test_preview_matrix_and_movers_match_what_publishing_does(city):
    author, trainer, admin = city
    mv = trained_candidate(trainer)
    before = dict(Enterprise.objects.values_list("id", "current_grade"))
    run = services.preview_model(mv, as_of=WORLD_AS_OF, user=admin)
    s = run.summary
    assert run.kind == "preview" and run.status == "succeeded" and run.model_version == mv.version
    assert s["target"]["kind"] == "model" and s["target"]["model_version_id"] == mv.pk
    assert sum(sum(r.values()) for r in s["matrix"].values()) == s["population"] == run.enterprise_count
    off = sum(n for old, row in s["matrix"].items() if old for new, n in row.items() if new != old)
    assert off == s["moved"] == s["up"] + s["down"] == len(s["movers"]) > 0
    # per-region matrices add up to the whole
    assert sum(n for cells in s["regions"].values() for row in cells.values() for n in row.values()) == s["population"]
    # nothing was published by the preview
    assert dict(Enterprise.objects.values_list("id", "current_grade")) == before
    assert AuditEntry.objects.filter(action="scoring.run.preview", object_id=str(run.pk)).exists()
    # publishing it and scoring gives the grades the preview showed
    model_services.promote(mv, user=admin, note="card reviewed", preview=run, confirmed=True)
    services.run_scoring("full", WORLD_AS_OF, author)
    after = dict(Enterprise.objects.values_list("id", "current_grade"))
    for eid, _region, old, new, _score in s["movers"]:
        assert before[eid] == old and after[eid] == new


def test_preview_is_seen_per_region(city):
    _author, trainer, admin = city
    mv = trained_candidate(trainer)
    run = services.preview_model(mv, as_of=WORLD_AS_OF, user=admin)
    counts = {}
    for _e, region, *_ in run.summary["movers"]:
        counts[region] = counts.get(region, 0) + 1
    county = max(counts, key=counts.get)
    district = make_user("district", Region.objects.get(code=county), *PERMS)
    mine = services.impact_in_scope(run.summary, district)
    assert mine["moved"] == counts[county] and {m[1] for m in mine["movers"]} == {county}
    assert mine["population"] == Enterprise.objects.filter(region_id=county, status="active").count() or \
        mine["population"] <= Enterprise.objects.filter(region_id=county).count()
    assert all(m["region"] == county for m in mine["sample"])
    assert services.impact_in_scope(run.summary, admin)["moved"] == run.summary["moved"]  # national: everything
    # the scoring-run API shows a scoped user their region's counts only
    run_scoped = services.run_in_scope(ScoringRun.objects.get(pk=run.pk), district)
    assert run_scoped.changed_count == counts[county]


def test_a_stale_or_foreign_preview_cannot_carry_the_change(city):
    author, trainer, admin = city
    first, second = trained_candidate(trainer), trained_candidate(trainer)
    of_second = services.preview_model(second, as_of=WORLD_AS_OF, user=admin)
    with pytest.raises(ValidationError):  # a preview of another change
        model_services.promote(first, user=admin, note="ok", preview=of_second, confirmed=True)
    with pytest.raises(ValidationError):  # not a run id at all
        model_services.promote(first, user=admin, note="ok", preview="x", confirmed=True)
    of_first = services.preview_model(first, as_of=WORLD_AS_OF, user=admin)
    services.run_scoring("full", WORLD_AS_OF, author)  # grades published after the preview
    with pytest.raises(ValidationError, match="again|重新"):
        model_services.promote(first, user=admin, note="ok", preview=of_first, confirmed=True)
    of_first = services.preview_model(first, as_of=WORLD_AS_OF, user=admin)
    ScoringRun.objects.filter(pk=of_first.pk).update(started_at=timezone.now() - timedelta(hours=25))
    with pytest.raises(ValidationError):  # older than a day
        model_services.promote(first, user=admin, note="ok", preview=of_first, confirmed=True)
    model_services.promote(first, user=admin, note="ok", **on_preview(admin, first))
    # the champion changed after the preview of the second: it no longer describes the change
    with pytest.raises(ValidationError):
        model_services.promote(second, user=admin, note="ok", preview=of_second, confirmed=True)
    model_services.promote(second, user=admin, note="ok", **on_preview(admin, second))
    assert model_services.champion() == second


def test_who_may_preview(city):
    _author, trainer, admin = city
    mv = trained_candidate(trainer)
    viewer = make_user("viewer", None, "scoring.view_modelversion", national=True)
    with pytest.raises(PermissionDenied):
        services.preview_model(mv, as_of=WORLD_AS_OF, user=viewer)
    with pytest.raises(PermissionDenied):
        model_services.start_preview_job(mv, user=viewer)
    assert not ScoringRun.objects.filter(kind="preview").exists()
    # the trainer may look at the impact of their model; a second person still has to publish it
    run = services.preview_model(mv, as_of=WORLD_AS_OF, user=trainer)
    with pytest.raises(PermissionDenied):
        model_services.promote(mv, user=trainer, note="mine", preview=run, confirmed=True)
    model_services.promote(mv, user=admin, note="reviewed", preview=run, confirmed=True)


def test_change_page_runs_the_preview_and_shows_the_district_its_region(city, client,
                                                                       django_capture_on_commit_callbacks):
    from django.urls import reverse

    _author, trainer, admin = city
    mv = trained_candidate(trainer)
    change = reverse("scoring:modelversion_change", args=[mv.pk])
    client.force_login(admin)
    page = client.get(change).content.decode()
    assert "影响预览" in page and 'name="confirmed"' not in page  # nothing to confirm before a preview
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(change, {"do": "preview"}).status_code == 302
    run = model_services.latest_preview(mv)
    assert run is not None and run.started_by == admin
    page = client.get(change).content.decode()
    assert 'name="confirmed"' in page and f'value="{run.pk}"' in page
    county = run.summary["movers"][0][1]
    district = make_user("district", Region.objects.get(code=county), *PERMS)
    client.force_login(district)
    page = client.get(change).content.decode()
    others = {m[0] for m in run.summary["movers"] if m[1] != county}
    names = dict(Enterprise.objects.filter(pk__in=others).values_list("id", "name"))
    assert names and not any(f">{n}<" in page for n in names.values())
    assert client.get(reverse("scoring:modelversion_change", args=["x"])).status_code == 403
