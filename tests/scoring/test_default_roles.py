"""The roles a bureau has: the default approver (审核人) is the second person of every two-person rule, with the
demo accounts — an indicator set, a grade adjustment and a model promotion get through without the superuser,
and nobody approves what they asked for themselves."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import timezone
from scoring_testkit import activate_profile, make_population

from foodrisk.core.models import Organisation, User
from foodrisk.core.seeds import seed_roles
from foodrisk.core.testing import make_regions
from foodrisk.enterprises.models import Enterprise
from foodrisk.scoring import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    make_regions()
    seed_roles()
    call_command("demo_accounts", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return {u.username: u for u in User.objects.all()}


def test_demo_has_an_approver_and_two_inspectors_per_district(demo):
    district = Organisation.objects.get(code="FJ330102")
    assert {u.username for u in User.objects.filter(organisation=district) if u.has_perm("alerts.review_alert")} == {
        "inspector", "inspector2"}
    approver = demo["approver"]
    assert not approver.is_superuser
    for perm in ("scoring.approve_gradeadjustment", "indicators.approve_indicatorset",
                 "indicators.activate_indicatorset", "scoring.promote_modelversion", "core.approve_exportrequest"):
        assert approver.has_perm(perm), perm
    # the requesters do not approve
    assert not demo["inspector"].has_perm("scoring.approve_gradeadjustment")
    assert not demo["model"].has_perm("scoring.approve_gradeadjustment")


def test_the_approver_approves_an_indicator_set_and_a_grade_adjustment(demo):
    make_population()
    # the indicator administrator drafts and submits; the approver approves and activates (not the superuser)
    active = activate_profile(demo["indicator"], demo["approver"])
    assert active.approved_by == demo["approver"]
    services.run_scoring("full", timezone.localdate(), demo["indicator"])
    ent = Enterprise.objects.filter(region_id="330102").order_by("pk").first()
    target = "D" if ent.current_grade != "D" else "A"
    adj = services.propose_adjustment(ent, target, "现场检查发现重大隐患", user=demo["inspector"])
    with pytest.raises(PermissionDenied):  # a colleague inspector may not decide it
        services.approve_adjustment(adj, user=demo["inspector2"])
    services.approve_adjustment(adj, user=demo["approver"])
    ent.refresh_from_db()
    assert ent.current_grade == target
    # the approver's own proposal needs another approver
    own = services.propose_adjustment(Enterprise.objects.filter(region_id="330102").order_by("pk")[1], "D", "复核",
                                      user=demo["approver"])
    with pytest.raises(PermissionDenied):
        services.approve_adjustment(own, user=demo["approver"])
