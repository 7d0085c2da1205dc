import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from scoring_testkit import activate_profile, make_user, people

from foodrisk.core.models import AuditEntry
from foodrisk.indicators import services as isvc
from foodrisk.indicators.models import IndicatorSet
from foodrisk.indicators.services import SpecValidationError
from foodrisk.scoring import services as scoring

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("profile", ["food_2016", "food_2022_draft", "anhui"])
def test_draft_from_each_policy_profile(profile):
    author, _ = people()
    s = isvc.create_from_profile(profile, user=author)
    assert s.status == "draft" and s.version == 1 and s.profile == profile
    assert s.spec["version"] == 1 and s.spec["code"] == s.code
    s.engine_spec()  # valid for the engine
    assert AuditEntry.objects.filter(action="indicators.indicatorset.create", object_id=str(s.pk)).exists()


def test_second_person_must_approve():
    author, approver = people()
    s = isvc.create_from_profile("food_2016", user=author)
    isvc.submit(s, user=author)
    with pytest.raises(PermissionDenied):
        isvc.approve(s, user=author)  # the creator cannot approve
    s.refresh_from_db()
    assert s.status == "submitted" and s.approved_by is None
    # someone else who submitted it cannot approve either
    other = make_user("other", None, "indicators.approve_indicatorset", national=True)
    s2 = isvc.create_from_profile("anhui", user=author)
    isvc.submit(s2, user=other)
    with pytest.raises(PermissionDenied):
        isvc.approve(s2, user=other)
    # a person without the permission cannot approve
    nobody = make_user("nobody", None, national=True)
    with pytest.raises(PermissionDenied):
        isvc.approve(s, user=nobody)
    isvc.approve(s, user=approver)
    s.refresh_from_db()
    assert s.status == "approved" and s.approved_by == approver
    entry = AuditEntry.objects.get(action="indicators.indicatorset.approve")
    assert entry.before["status"] == "submitted" and entry.after["status"] == "approved"


def test_only_drafts_are_edited_and_spec_is_validated_by_the_engine():
    author, approver = people()
    s = isvc.create_from_profile("food_2016", user=author)
    spec = dict(s.spec, cutoffs={"A": 50, "B": 40, "C": 60})
    with pytest.raises(SpecValidationError) as err:
        isvc.update_spec(s, spec, user=author)
    assert any(f == "cutoffs" for _w, f, _m in err.value.issues)
    ind = dict(s.spec["indicators"][4], weight=2.0)
    s = isvc.replace_indicator(s, ind["code"], ind, user=author)
    assert s.spec["indicators"][4]["weight"] == 2.0
    entry = AuditEntry.objects.filter(action="indicators.indicatorset.update").latest("seq")
    assert entry.before["spec"]["indicators"][4]["weight"] == 1.0
    assert entry.after["spec"]["indicators"][4]["weight"] == 2.0
    isvc.submit(s, user=author)
    with pytest.raises(ValidationError):
        isvc.update_spec(s, s.spec, user=author)


def test_only_one_active_set_per_scope():
    author, approver = people()
    first = activate_profile(author, approver)
    second = activate_profile(author, approver, "anhui", code="food_2016")
    first.refresh_from_db()
    assert first.status == "retired" and second.status == "active"
    assert IndicatorSet.objects.filter(status="active", scope_region=None).count() == 1
    # the database refuses a second active set of the same scope, whatever the code path
    with pytest.raises(IntegrityError), transaction.atomic():
        IndicatorSet.objects.filter(pk=first.pk).update(status="active")


def test_regional_set_is_active_beside_the_national_one():
    from foodrisk.core.models import Region
    from foodrisk.core.testing import make_regions

    make_regions()
    author, approver = people()
    national = activate_profile(author, approver)
    s = isvc.create_from_profile("anhui", user=author, scope_region=Region.objects.get(pk="330102"))
    isvc.submit(s, user=author)
    isvc.approve(s, user=approver)
    isvc.activate(s, user=approver)
    national.refresh_from_db()
    assert national.status == "active"
    assert [x.pk for x in isvc.active_sets()] == [s.pk, national.pk]


def test_rollback_activates_a_copy_of_an_approved_version_without_reapproval():
    author, approver = people()
    v1 = activate_profile(author, approver)
    v2 = isvc.copy_version(v1, user=author)
    isvc.update_spec(v2, dict(v2.spec, cutoffs={"A": 5, "B": 10, "C": 15}), user=author)
    isvc.submit(v2, user=author)
    isvc.approve(v2, user=approver)
    scoring.preview(v2, user=approver)  # other cut-offs: activated on an impact preview, confirmed
    isvc.activate(v2, user=approver, confirmed=True)
    scoring.preview(v1, user=author)
    v3 = isvc.rollback(v1, user=author, note="v2 misgrades", confirmed=True)
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status, v3.status) == ("retired", "retired", "active")
    assert v3.version == 3 and v3.based_on == v1 and v3.approved_by == approver
    assert v3.spec["cutoffs"] == v1.spec["cutoffs"] and v3.spec["indicators"] == v1.spec["indicators"]
    assert AuditEntry.objects.filter(action="indicators.indicatorset.rollback").exists()
    draft = isvc.create_from_profile("anhui", user=author)
    with pytest.raises(ValidationError):
        isvc.rollback(draft, user=author)  # never approved


def test_activation_queues_the_event_in_its_transaction(django_capture_on_commit_callbacks):
    from foodrisk.core.testing import capture_events
    from foodrisk.scoring.handlers import no_auto_rescore

    author, approver = people()
    with capture_events("indicator_set_activated") as seen, no_auto_rescore(), \
            django_capture_on_commit_callbacks(execute=True):
        s = activate_profile(author, approver)
    assert [payload["indicator_set_id"] for _event, payload in seen] == [s.pk]
