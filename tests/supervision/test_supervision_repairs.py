import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from supervision_testkit import MANAGER_PERMS, days_ago, enterprise, person

from foodrisk.core.models import AuditEntry
from foodrisk.indicators.services import bootstrap_profile
from foodrisk.records.models import CreditRepair, ListEntry, Penalty
from foodrisk.records.timeline import timeline
from foodrisk.scoring import services as scoring
from foodrisk.supervision.services import repairs

pytestmark = pytest.mark.django_db


def penalty(e, no, decided, severity="heavy", violation="经营超过保质期的食品", **kw):
    return Penalty.objects.create(enterprise=e, decision_no=no, decided_on=decided, violation_type=violation,
                                  severity=severity, fine=kw.pop("fine", 50000), **kw)


@pytest.fixture
def people():
    clerk = person("clerk", "330102", *MANAGER_PERMS)
    chief = person("chief", "330102", *MANAGER_PERMS)
    return clerk, chief


def failed(case):
    return {c["code"] for c in case.checks if not c["passed"]}


def test_too_early_is_rejected_with_the_reason(people):
    clerk, chief = people
    e = enterprise(1)
    p = penalty(e, "P-early", days_ago(90))
    case = repairs.apply(e, user=clerk, commitment="本企业承诺守法经营", penalty=p)
    assert case.record.decision == "pending" and case.record.target_no == "P-early"
    case = repairs.review(case, user=clerk)
    assert failed(case) == {"min_period"}
    with pytest.raises(ValidationError) as err:
        repairs.decide(case, user=chief, approve=True)
    assert "12" in str(err.value)
    case = repairs.decide(case, user=chief, approve=False)
    assert case.status == "rejected" and "12" in case.reason
    p.refresh_from_db()
    assert not p.repaired
    record = CreditRepair.objects.get(pk=case.record_id)
    assert record.decision == "rejected" and record.reason == case.reason


def test_on_a_list_or_a_repeat_or_serious_is_rejected(people):
    clerk, chief = people
    e = enterprise(2)
    p = penalty(e, "P-listed", days_ago(400))
    ListEntry.objects.create(enterprise=e, entry_key="k1", list_kind="abnormal", listed_on=days_ago(30))
    case = repairs.review(repairs.apply(e, user=clerk, commitment="承诺", penalty=p), user=clerk)
    assert failed(case) == {"not_listed"}
    case = repairs.decide(case, user=chief, approve=False)
    assert case.status == "rejected" and "经营异常名录" in case.reason

    e2 = enterprise(3)
    first = penalty(e2, "P-first", days_ago(500))
    penalty(e2, "P-again", days_ago(100))  # same violation type, later
    case = repairs.review(repairs.apply(e2, user=clerk, commitment="承诺", penalty=first), user=clerk)
    assert "no_repeat" in failed(case)

    e3 = enterprise(4)
    revoked = penalty(e3, "P-revoked", days_ago(800), severity="serious", licence_revoked=True)
    case = repairs.review(repairs.apply(e3, user=clerk, commitment="承诺", penalty=revoked), user=clerk)
    assert "repairable" in failed(case)


def test_general_violation_uses_six_months(people):
    from foodrisk.core.models import Parameter

    clerk, _chief = people
    Parameter.objects.filter(key="non_food_violation_types").update(value=["未按规定公示营业执照"])
    e = enterprise(5)
    p = penalty(e, "P-general", days_ago(200), violation="未按规定公示营业执照")
    case = repairs.review(repairs.apply(e, user=clerk, commitment="承诺", penalty=p), user=clerk)
    assert not failed(case)


def test_two_person_rule_and_duplicates(people):
    clerk, chief = people
    e = enterprise(6)
    p = penalty(e, "P-two", days_ago(400))
    case = repairs.apply(e, user=clerk, commitment="承诺", penalty=p)
    with pytest.raises(ValidationError):
        repairs.apply(e, user=clerk, commitment="承诺", penalty=p)  # already open
    with pytest.raises(ValidationError):
        repairs.apply(e, user=clerk, commitment=" ", penalty=penalty(e, "P-other", days_ago(400), violation="x"))
    with pytest.raises(PermissionDenied):
        repairs.decide(case, user=clerk, approve=True)
    outsider = person("outsider", "330106", *MANAGER_PERMS)
    with pytest.raises(PermissionDenied):
        repairs.decide(case, user=outsider, approve=True)


def test_approval_repairs_the_penalty_and_the_grade_improves(people, django_capture_on_commit_callbacks):
    clerk, chief = people
    bootstrap_profile("food_2016")
    e = enterprise(7, grade="", static_tier=2)
    p = penalty(e, "P-repair", days_ago(400), confiscation=5000)
    scoring.run_scoring("full", timezone.localdate(), chief)
    e.refresh_from_db()
    before_grade, before_score = e.current_grade, e.current_score
    case = repairs.review(repairs.apply(e, user=clerk, commitment="本企业承诺", penalty=p), user=clerk)
    assert case.checks_passed, case.checks
    with django_capture_on_commit_callbacks(execute=True):
        case = repairs.decide(case, user=chief, approve=True, reason="符合修复条件")
    p.refresh_from_db()
    assert case.status == "approved" and p.repaired and p.repaired_on == timezone.localdate()
    e.refresh_from_db()
    assert e.current_score < before_score
    assert "ABCD".index(e.current_grade) < "ABCD".index(before_grade), (before_grade, e.current_grade)
    assert CreditRepair.objects.get(pk=case.record_id).decision == "approved"
    assert AuditEntry.objects.filter(action="supervision.repair.approve", object_id=str(case.pk)).exists()
    entries, _total, counts = timeline(e, chief, limit=None)
    assert counts["credit_repairs"] == 1 and any(x.kind == "credit_repairs" for x in entries)


def test_serious_list_early_exit(people):
    clerk, chief = people
    e = enterprise(8)
    young = ListEntry.objects.create(enterprise=e, entry_key="s1", list_kind="serious", listed_on=days_ago(100))
    case = repairs.review(repairs.apply(e, user=clerk, commitment="承诺", list_entry=young), user=clerk)
    assert failed(case) == {"min_period"}
    e2 = enterprise(9)
    old = ListEntry.objects.create(enterprise=e2, entry_key="s2", list_kind="serious", listed_on=days_ago(400))
    case = repairs.decide(repairs.apply(e2, user=clerk, commitment="承诺", list_entry=old), user=chief, approve=True)
    old.refresh_from_db()
    assert case.status == "approved" and old.repaired and old.removed_on == timezone.localdate()


def test_one_open_application_per_record_holds_in_the_database(people):
    """The rule is a constraint: a second open application written around the service (two clerks at once) fails."""
    from django.db import IntegrityError, transaction

    from foodrisk.supervision.models import RepairCase

    clerk, chief = people
    e = enterprise(7)
    p = penalty(e, "P-race", days_ago(400))
    repairs.apply(e, user=clerk, commitment="承诺", penalty=p)
    with pytest.raises(IntegrityError), transaction.atomic():
        RepairCase.objects.create(enterprise=e, penalty=p, commitment="承诺", applied_on=days_ago(0),
                                  recorded_by=chief)
    assert RepairCase.objects.filter(penalty=p).count() == 1
