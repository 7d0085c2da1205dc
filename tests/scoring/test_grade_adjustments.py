from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from scoring_testkit import activate_profile, make_population, make_user, people

from foodrisk.core.models import AuditEntry
from foodrisk.enterprises.models import Enterprise
from foodrisk.scoring import services
from foodrisk.scoring.models import GradeChange, Score

pytestmark = pytest.mark.django_db


@pytest.fixture
def graded():
    author, approver = people()
    ents = make_population()
    activate_profile(author, approver)
    today = timezone.localdate()
    services.run_scoring("full", today, author)
    e = Enterprise.objects.get(pk=ents[0].pk)
    return author, approver, e, today


def test_two_person_approval_and_publication(graded):
    author, approver, e, today = graded
    target = "D" if e.current_grade != "D" else "A"
    adj = services.propose_adjustment(e, target, "现场核查发现重大隐患", user=author, valid_until=today + timedelta(30))
    with pytest.raises(PermissionDenied):
        services.approve_adjustment(adj, user=author)
    nobody = make_user("nobody", None, national=True)
    with pytest.raises(PermissionDenied):
        services.approve_adjustment(adj, user=nobody)
    e.refresh_from_db()
    assert e.current_grade != target  # pending does not publish
    services.approve_adjustment(adj, user=approver)
    e.refresh_from_db()
    assert e.current_grade == target
    change = GradeChange.objects.get(adjustment=adj)
    assert change.new_grade == target and "现场核查" in change.reasons[0]
    assert {"scoring.gradeadjustment.propose", "scoring.gradeadjustment.approve"} <= set(
        AuditEntry.objects.values_list("action", flat=True))
    with pytest.raises(ValidationError):
        services.approve_adjustment(adj, user=approver)


def test_adjustment_survives_rescoring_then_expires(graded):
    author, approver, e, today = graded
    computed = e.current_grade
    target = "D" if computed != "D" else "A"
    adj = services.propose_adjustment(e, target, "复核", user=author, valid_until=today + timedelta(days=10))
    services.approve_adjustment(adj, user=approver)
    run = services.run_scoring("full", today, author)
    e.refresh_from_db()
    assert e.current_grade == target
    s = Score.objects.get(run=run, enterprise=e)
    assert s.adjusted and s.adjustment_id == adj.pk and s.engine_grade == computed and s.grade == target
    assert run.adjusted_count == 1
    # a run as of after the end date: the adjustment expires, the computed grade returns
    services.run_scoring("full", today + timedelta(days=11), author)
    adj.refresh_from_db()
    e.refresh_from_db()
    assert adj.status == "expired" and e.current_grade == computed
    assert AuditEntry.objects.filter(action="scoring.gradeadjustment.expire").exists()


def test_withdraw_and_reject(graded):
    author, approver, e, today = graded
    computed = e.current_grade
    target = "D" if computed != "D" else "A"
    adj = services.propose_adjustment(e, target, "复核", user=author)
    with pytest.raises(ValidationError):
        services.propose_adjustment(e, target, "again", user=author)  # one pending at a time
    services.reject_adjustment(adj, user=approver, note="证据不足")
    adj.refresh_from_db()
    assert adj.status == "rejected"
    adj2 = services.propose_adjustment(e, target, "补充证据", user=author)
    services.approve_adjustment(adj2, user=approver)
    services.withdraw_adjustment(adj2, user=author, note="已整改")
    adj2.refresh_from_db()
    e.refresh_from_db()
    assert adj2.status == "withdrawn" and e.current_grade == computed
    other = make_user("other", None, "scoring.add_gradeadjustment", national=True)
    adj3 = services.propose_adjustment(e, target, "x", user=author)
    with pytest.raises(PermissionDenied):
        services.withdraw_adjustment(adj3, user=other)
