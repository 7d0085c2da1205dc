"""Training a candidate from the archive (synthetic city loaded through the services) and the
point-in-time snapshot provider."""

from datetime import date, timedelta

import pytest
from model_testkit import TRAIN_MONTHS, WORLD_AS_OF, load_world, trained_candidate
from scoring_testkit import activate_profile, make_enterprise, make_user, penalty, people

from foodrisk.core.models import AuditEntry
from foodrisk.enterprises.models import Enterprise, Licence
from foodrisk.records.services import save_record
from foodrisk.scoring import model_services
from foodrisk.scoring.handlers import no_auto_rescore
from foodrisk.scoring.models import ModelVersion
from foodrisk.scoring.snapshot import build_snapshot, snapshot_at

pytestmark = pytest.mark.django_db


def test_train_stores_candidate_with_model_card(monkeypatch):
    author, approver = people()
    activate_profile(author, approver)
    load_world()
    built = []

    def counting(as_of, *args, **kwargs):
        built.append(as_of)
        return snapshot_at(as_of, *args, **kwargs)

    monkeypatch.setattr(model_services, "snapshot_at", counting)
    mv = trained_candidate(author, fresh=True)
    # point in time: no snapshot later than the as-of date; the label snapshot is the as-of date's
    assert WORLD_AS_OF in built and max(built) == WORLD_AS_OF
    assert isinstance(mv, ModelVersion) and mv.status == "candidate" and mv.trained_by == author
    assert mv.indicator_set.status == "active"
    art = model_services.load_artifact(mv)
    assert art.spec_code == mv.indicator_set.code and art.features and art.feature_source == "catalogue"
    card = mv.metrics
    for key in ("data_window", "features", "metrics", "rate_by_grade", "calibration_curve", "stability",
                "checks", "limitations", "validation"):
        assert key in card, key
    assert {"rules", "model", "combined"} <= set(card["metrics"])
    assert card["metrics"]["combined"]["auc"] is not None
    # both learners on every fold, the winner named; segments for the reviewer; blend chosen on the folds
    val = card["validation"]
    assert len(val["folds"]) == 2 and all(len(f["auc"]) == 5 for f in val["folds"])
    assert val["chosen"]["mean_auc_lightgbm"] is not None and val["chosen"]["mean_auc_logistic"] is not None
    assert {"business_form", "scale", "region"} <= set(val["segments"])
    # the region is segmented on the card, never a model input (its encoding goes stale when areas change)
    assert val["segments"]["region"] and "region" not in art.features and "region" not in (art.encodings or {})
    assert "food_category" in art.features and "region_insp_key_share_3m" in art.features
    assert art.grade_thresholds["points"] and len(art.grade_thresholds["blend_folds"]) == 5
    assert mv.data_window["months"] == TRAIN_MONTHS and mv.data_window["holdout"]
    # the card's cross-section lies a full label horizon before the as-of date: its labels are complete
    assert date.fromisoformat(mv.data_window["holdout"][-1]) <= WORLD_AS_OF - timedelta(days=365)
    assert mv.label["horizon_months"] == 12
    assert AuditEntry.objects.filter(action="scoring.modelversion.train", object_id=str(mv.pk)).exists()


def test_training_needs_enough_months():
    from django.core.exceptions import ValidationError

    author, approver = people()
    activate_profile(author, approver)
    with pytest.raises(ValidationError):
        model_services.train_candidate(months=10, as_of=WORLD_AS_OF, user=author)
    with pytest.raises(ValidationError):  # no archive at all: nothing to validate on
        model_services.train_candidate(months=36, as_of=WORLD_AS_OF, user=author, horizons=(6,), folds=2)


def test_snapshot_at_is_point_in_time():
    people()
    e = make_enterprise(1)
    as_of = date(2025, 6, 30)
    with no_auto_rescore():
        # decided before as-of, repaired after it: not repaired at as-of, repaired today
        save_record(penalty(e, "P-1", on=as_of - timedelta(days=40), repaired=True,
                            repaired_on=as_of + timedelta(days=20)))
        save_record(penalty(e, "P-2", on=as_of + timedelta(days=3)))  # after as-of: invisible
        # stored status "expired" today, but still in force at as-of
        Licence.objects.create(enterprise=e, licence_no="JY13301020000001", kind="JY", issued_on=date(2021, 1, 1),
                               expires_on=date(2025, 12, 31), status="expired")
        # revoked today by a penalty decided after as-of → valid at as-of
        Licence.objects.create(enterprise=e, licence_no="JY13301020000002", kind="JY", issued_on=date(2022, 1, 1),
                               expires_on=date(2027, 1, 1), status="revoked")
        save_record(penalty(e, "P-3", on=as_of + timedelta(days=60), licence_revoked=True))
    snap = snapshot_at(as_of)
    pens = snap["penalties"].to_pylist()
    assert len(pens) == 1 and pens[0]["repaired"] is False
    assert sorted(snap["licences"]["status"].to_pylist()) == ["valid", "valid"]
    later = snapshot_at(date(2026, 3, 31))
    assert {p["repaired"] for p in later["penalties"].to_pylist() if p["decided_on"] < as_of} == {True}
    assert sorted(later["licences"]["status"].to_pylist()) == ["expired", "revoked"]
    # the scoring snapshot keeps the stored (current) licence status, as before
    assert sorted(build_snapshot(as_of)["licences"]["status"].to_pylist()) == ["expired", "revoked"]


def test_an_enterprise_closed_since_was_operating_when_it_had_records_after():
    """A stored "cancelled" has no date: at a past as-of it counts only if nothing the enterprise did is dated
    after as-of (an inspection, a penalty… after it proves it was operating then); today it counts as stored."""
    people()
    as_of = date(2025, 6, 30)
    inspected_later, closed_long_ago, open_now = make_enterprise(1), make_enterprise(2), make_enterprise(3)
    with no_auto_rescore():
        save_record(penalty(inspected_later, "P-1", on=as_of + timedelta(days=30)))
        save_record(penalty(closed_long_ago, "P-2", on=as_of - timedelta(days=30)))
    Enterprise.objects.filter(pk__in=[inspected_later.pk, closed_long_ago.pk]).update(status="cancelled")

    def status(snap):
        return dict(zip(snap["enterprises"]["enterprise_id"].to_pylist(), snap["enterprises"]["status"].to_pylist(),
                        strict=True))

    assert status(snapshot_at(as_of)) == {inspected_later.pk: "active", closed_long_ago.pk: "cancelled",
                                          open_now.pk: "active"}
    assert status(snapshot_at(date(2026, 12, 31)))[inspected_later.pk] == "cancelled"
    assert status(build_snapshot(as_of))[inspected_later.pk] == "cancelled"  # scoring: the stored status


def test_train_for_each_inspection_target_from_the_page(client):
    """The trainer chooses "each inspection" on the models page: the job trains on one row per visit (the
    label that visit's key-item finding, 2 months), the card still compares enterprises (any visit failed)."""
    from django.urls import reverse

    from foodrisk.core.models import Job
    from foodrisk.scoring.choices import TrainingTarget

    author, approver = people()
    activate_profile(author, approver)
    load_world()
    trainer = make_user("trainer", None, "scoring.view_modelversion", "scoring.add_modelversion", national=True)
    client.force_login(trainer)
    page = client.get(reverse("scoring:modelversion_list")).content.decode()
    assert 'name="target"' in page and str(TrainingTarget.INSPECTION.label) in page
    client.post(reverse("scoring:modelversion_train"), {"months": 24, "target": "inspection"})
    job = Job.objects.filter(kind="scoring.train").latest("pk")
    assert job.params["target"] == "inspection"
    assert client.post(reverse("scoring:modelversion_train"), {"months": 24, "target": "nonsense"}).status_code == 302
    assert Job.objects.filter(kind="scoring.train").count() == 1  # a bad choice queues nothing

    mv = model_services.train_candidate(months=TRAIN_MONTHS, as_of=WORLD_AS_OF, user=author, target="inspection",
                                        horizons=(1,), folds=2, threads=1)
    assert mv.label["population"] == "inspections" and mv.label["horizon_months"] == 2
    assert mv.label["kinds"] == ["key_items_inspection"] and "每次检查" in mv.label["description"]
    val = mv.metrics["validation"]
    assert val["chosen"]["horizon_months"] == 1 and all(f["events"] > 0 for f in val["folds"])
    assert mv.metrics["metrics"]["combined"]["auc"] is not None
