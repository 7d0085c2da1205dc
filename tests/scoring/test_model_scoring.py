"""Scoring with the champion: model scores and version recorded, model reasons only for changed or
non-A enterprises, vetoes still win after the blend, rollback switches the version of the next run,
drift monitoring notifies model admins."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from model_testkit import WORLD_AS_OF, load_world, on_preview, trained_candidate
from scoring_testkit import activate_profile, make_user, people

from foodrisk.core.models import Notification
from foodrisk.enterprises.models import Enterprise
from foodrisk.indicators.models import IndicatorSet
from foodrisk.records.models import ListEntry
from foodrisk.records.services import upsert_records
from foodrisk.scoring import model_services, services
from foodrisk.scoring.handlers import no_auto_rescore
from foodrisk.scoring.models import DriftReport, Score

pytestmark = pytest.mark.django_db

PERMS = ("scoring.view_modelversion", "scoring.add_modelversion", "scoring.promote_modelversion",
         "scoring.view_score")


@pytest.fixture
def city():
    author, approver = people()
    active = activate_profile(author, approver)
    ids = load_world()
    trainer = make_user("trainer", None, *PERMS, national=True)
    admin = make_user("modeladmin", None, *PERMS, national=True)
    return author, active, ids, trainer, admin


def champion(trainer, admin):
    mv = trained_candidate(trainer)
    return model_services.promote(mv, user=admin, note="card reviewed", **on_preview(admin, mv))


def test_run_with_champion_records_model_and_explains_only_changed_or_non_a(city, client):
    author, active, ids, trainer, admin = city
    rules_only = services.run_scoring("full", WORLD_AS_OF, author)
    assert rules_only.model_version is None
    assert not Score.objects.filter(run=rules_only, model_score__isnull=False).exists()
    assert not Score.objects.filter(run=rules_only).exclude(model_reasons=[]).exists()

    mv = champion(trainer, admin)
    run = services.run_scoring("full", WORLD_AS_OF, author)
    assert run.model_version == mv.version and run.summary["model"]["version"] == mv.version
    scores = list(Score.objects.filter(run=run))
    active_ents = set(Enterprise.objects.filter(status="active").values_list("id", flat=True))
    assert {s.model_version for s in scores} == {mv.version}
    with_model = [s for s in scores if s.model_score is not None]
    assert {s.enterprise_id for s in with_model} <= active_ents and len(with_model) >= 0.8 * len(active_ents)
    # the blend moved scores (artifact blend: the shipped set gives the model no weight)
    assert run.summary["model"]["blend"][str(active.pk)]["source"] == "model"
    moved = [s for s in with_model if abs(s.total_score - s.rule_score) > 1e-6]
    assert moved
    # explanations: only grade ≠ A or score changed vs the published grade; first model run → most moved
    explained = [s for s in scores if s.model_reasons]
    assert explained and all(r.startswith("模型：") for s in explained for r in s.model_reasons)
    # what the officer reads is Chinese: labels and values (no "sales", "micro", "False", "static.tier"), each
    # reason carrying its real sign
    for s in explained:
        for r in s.model_reasons:
            assert not re.search(r"[A-Za-z_]", r) and ("增加风险" in r) != ("降低风险" in r), r
    licensed = {e for e, in Enterprise.objects.filter(licences__status="valid",
                                                     licences__expires_on__gte=WORLD_AS_OF).values_list("id")}
    for s in explained:  # a valid licence is never "no valid licence"
        assert s.enterprise_id not in licensed or not any("无有效许可证" in r for r in s.model_reasons)
    prev = {s.enterprise_id: s.total_score for s in Score.objects.filter(run=rules_only)}
    for s in scores:
        if s.model_reasons:
            assert s.engine_grade != "A" or abs(s.total_score - prev[s.enterprise_id]) > 0.5
    assert run.timing["explained"] <= len(with_model)

    # same data again: nothing moved → only non-A enterprises are explained
    again = services.run_scoring("full", WORLD_AS_OF, author)
    a_graded = Score.objects.filter(run=again, engine_grade="A")
    assert a_graded.exists() and not a_graded.exclude(model_reasons=[]).exists()
    assert Score.objects.filter(run=again).exclude(engine_grade="A").exclude(model_reasons=[]).exists()
    assert again.timing["explained"] == Score.objects.filter(run=again, model_score__isnull=False).exclude(
        engine_grade="A").count()

    # the "why this grade" page shows model reasons next to the rule reasons and the version
    s = Score.objects.filter(run=again).exclude(model_reasons=[]).first()
    client.force_login(admin)
    body = client.get(reverse("scoring:enterprise_why", args=[s.enterprise_id])).content.decode()
    assert s.model_reasons[0] in body and mv.version in body and mv.get_absolute_url() in body
    # API exposes the model reasons
    api = client.get(f"/api/scoring/scores/?run={again.pk}&enterprise={s.enterprise_id}").json()
    rows = api["results"] if isinstance(api, dict) and "results" in api else api
    assert rows[0]["model_reasons"] == s.model_reasons


def test_veto_wins_after_the_blend(city):
    author, active, ids, trainer, admin = city
    # give the model almost all the weight: the blended score is ~ the model score
    spec = dict(active.spec, blend={"rule": 0.05, "model": 0.95})
    IndicatorSet.objects.filter(pk=active.pk).update(spec=spec)
    champion(trainer, admin)
    first = services.run_scoring("full", WORLD_AS_OF, author)
    assert first.summary["model"]["blend"][str(active.pk)]["source"] == "indicator_set"
    low = (Score.objects.filter(run=first, model_score__isnull=False, engine_grade="A", rule_hits=[])
           .order_by("model_score").first())
    assert low is not None and low.model_score < 30
    uscc = Enterprise.objects.get(pk=low.enterprise_id).uscc
    on = WORLD_AS_OF - timedelta(days=10)
    with no_auto_rescore():
        upsert_records("list_entries", [{"enterprise_id": low.enterprise_id, "list_kind": "serious", "listed_on": on,
                                         "reason": "严重违法失信", "entry_key": ListEntry.make_key(uscc, "serious", on)}])
    run = services.run_scoring("full", WORLD_AS_OF, author)
    s = Score.objects.get(run=run, enterprise_id=low.enterprise_id)
    assert s.model_score is not None and s.model_score < 60
    assert s.base_grade != "D"  # the blend alone would not make it D …
    assert s.engine_grade == "D" and s.grade == "D"  # … the veto does
    assert "veto_serious_list" in s.rule_hits and s.model_reasons


def test_rollback_switches_the_version_of_the_next_run(city):
    author, active, ids, trainer, admin = city
    first = champion(trainer, admin)
    second = champion(trainer, admin)
    run = services.run_scoring("full", WORLD_AS_OF, author)
    assert run.model_version == second.version
    back = model_services.rollback(user=admin, note="back", **on_preview(admin, first))
    assert back == first
    run2 = services.run_scoring("full", WORLD_AS_OF, author)
    assert run2.model_version == first.version
    assert set(Score.objects.filter(run=run2).values_list("model_version", flat=True)) == {first.version}
    model_services.retire(first, user=admin, **on_preview(admin, None))
    run3 = services.run_scoring("full", WORLD_AS_OF, author)
    assert run3.model_version is None and not Score.objects.filter(run=run3, model_score__isnull=False).exists()


def test_drift_notifies_model_admins_when_psi_exceeds_threshold(city, client):
    from foodrisk.core import seeds
    from foodrisk.core.models import Role

    author, active, ids, trainer, admin = city
    seeds.seed_roles()
    role_user = make_user("roleadmin", None, national=True)
    role_user.groups.add(Role.objects.get(code="model_admin"))
    bystander = make_user("bystander", None, "scoring.view_score", national=True)
    assert model_services.run_drift(as_of=WORLD_AS_OF) is None  # no champion: nothing to monitor
    mv = champion(trainer, admin)
    assert {admin, trainer, role_user} <= set(model_services.model_admins())
    assert bystander not in model_services.model_admins()

    # shift the population: three failed inspections and a penalty for every enterprise this quarter
    rows, pens = [], []
    for n, eid in enumerate(sorted(ids.values())):
        for k in range(3):
            rows.append({"enterprise_id": eid, "inspection_no": f"DRIFT-{n}-{k}", "kind": "routine",
                         "inspected_on": WORLD_AS_OF - timedelta(days=10 + 20 * k), "result": "fail",
                         "key_items_failed": 2, "general_items_failed": 3, "rectification_ordered": True})
        pens.append({"enterprise_id": eid, "decision_no": f"DRIFT-P-{n}", "decided_on": WORLD_AS_OF - timedelta(days=5),
                     "violation_type": "生产经营超过保质期食品", "severity": "general", "fine": 5000})
    with no_auto_rescore():
        upsert_records("inspections", rows)
        upsert_records("penalties", pens)
    report = model_services.run_drift(as_of=WORLD_AS_OF, user=admin)
    assert isinstance(report, DriftReport) and report.model_version == mv
    assert report.score_psi > 0.25 and report.status == "act"
    assert report.notified >= 3
    notes = Notification.objects.filter(title__contains=mv.version)
    recipients = set(notes.values_list("recipient_id", flat=True))
    assert {admin.pk, trainer.pk, role_user.pk} <= recipients and bystander.pk not in recipients
    assert "PSI" in notes.first().title
    # the model card shows the drift report
    client.force_login(admin)
    body = client.get(mv.get_absolute_url()).content.decode()
    assert f"{report.score_psi:.3f}" in body
