"""core.workflow, the one transition mechanism, seen through indicator sets and grade adjustments: the stored
row decides (not the caller's copy), messages are Chinese and name what is allowed, two-person rules name the
person, every step is audited with the state before and after, a discarded draft leaves its audit entry, and
"only one open …" rules hold in the database even when a service's own check is bypassed."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scoring"))
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from scoring_testkit import make_population, people

from foodrisk.alerts import services as alert_services
from foodrisk.core.models import AuditEntry
from foodrisk.core.workflow import InvalidTransition
from foodrisk.indicators import services as isvc
from foodrisk.indicators.models import IndicatorSet
from foodrisk.scoring import model_services
from foodrisk.scoring import services as scoring
from foodrisk.scoring.models import GradeAdjustment
from foodrisk.supervision.services import repairs, tasks

pytestmark = pytest.mark.django_db


def test_a_stale_copy_cannot_repeat_a_step_someone_else_took():
    author, approver = people()
    s = isvc.create_from_profile("food_2016", user=author)
    stale = IndicatorSet.objects.get(pk=s.pk)
    isvc.submit(s, user=author)
    isvc.reject(IndicatorSet.objects.get(pk=s.pk), user=approver, note="权重需复核")
    # the stale copy still says "draft"; the stored row says "draft" too, but submitted_by was reset — and a
    # stale "submitted" copy may not be approved once the set went back to draft
    submitted = IndicatorSet.objects.get(pk=s.pk)
    submitted.status = "submitted"
    with translation.override("zh-hans"), pytest.raises(InvalidTransition) as exc:
        isvc.approve(submitted, user=approver)
    message = exc.value.messages[0]
    assert message == "无法批准：当前状态为“草稿”；仅在以下状态时可以执行：待批准。", message
    isvc.submit(stale, user=author)  # the stored row is a draft again: allowed
    assert IndicatorSet.objects.get(pk=s.pk).status == "submitted"


def test_the_two_person_rule_names_the_person_in_chinese():
    author, _approver = people()
    s = isvc.create_from_profile("food_2016", user=author)
    isvc.submit(s, user=author)
    with translation.override("zh-hans"), pytest.raises(PermissionDenied) as exc:
        isvc.approve(s, user=author)
    assert "须由另一人办理" in str(exc.value) and "创建人" in str(exc.value)


def test_each_step_is_audited_with_the_state_before_and_after():
    author, approver = people()
    s = isvc.create_from_profile("food_2016", user=author)
    isvc.submit(s, user=author, note="请审核")
    isvc.approve(s, user=approver, note="同意")
    entries = {e.action: e for e in AuditEntry.objects.filter(object_id=str(s.pk),
                                                              object_type="indicators.indicatorset")}
    submit, approve = entries["indicators.indicatorset.submit"], entries["indicators.indicatorset.approve"]
    assert submit.before["status"] == "draft" and submit.after["status"] == "submitted"
    assert submit.details == {"note": "请审核"} and submit.user_id == author.pk
    assert approve.before["status"] == "submitted" and approve.after["status"] == "approved"
    assert approve.user_id == approver.pk


def test_a_discarded_draft_leaves_its_audit_entry():
    author, _ = people()
    s = isvc.create_from_profile("food_2016", user=author)
    pk = s.pk
    isvc.delete_draft(s, user=author)
    assert not IndicatorSet.objects.filter(pk=pk).exists()
    entry = AuditEntry.objects.get(action="indicators.indicatorset.delete")
    assert entry.object_id == str(pk) and entry.before["status"] == "draft" and entry.after is None
    s2 = isvc.create_from_profile("food_2016", user=author)
    isvc.submit(s2, user=author)
    with pytest.raises(InvalidTransition):  # only drafts are discarded
        isvc.delete_draft(s2, user=author)
    assert IndicatorSet.objects.filter(pk=s2.pk).exists()


def test_a_failed_step_changes_nothing_and_records_nothing():
    author, _ = people()
    s = isvc.create_from_profile("food_2016", user=author)
    s.spec = {"bad": True}
    IndicatorSet.objects.filter(pk=s.pk).update(spec={"bad": True})
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError):
        isvc.submit(s, user=author)
    assert IndicatorSet.objects.get(pk=s.pk).status == "draft" and AuditEntry.objects.count() == before


@pytest.fixture
def scored():
    author, approver = people()
    ents = make_population()
    from django.utils import timezone
    from scoring_testkit import activate_profile

    activate_profile(author, approver)
    scoring.run_scoring("full", timezone.localdate(), author)
    return author, approver, ents


def test_one_pending_and_one_approved_adjustment_per_enterprise_hold_in_the_database(scored):
    author, approver, ents = scored
    e = ents[0]
    adj = scoring.propose_adjustment(e, "D", "现场核查发现隐患", user=author)
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        scoring.propose_adjustment(e, "C", "另一人同时提出", user=approver)
    assert "已有一项待批准" in exc.value.messages[0]
    with pytest.raises(IntegrityError), transaction.atomic():  # even written around the service
        GradeAdjustment.objects.create(enterprise=e, proposed_grade="C", reason="绕过服务", proposed_by=author)
    scoring.approve_adjustment(adj, user=approver)
    with pytest.raises(IntegrityError), transaction.atomic():
        GradeAdjustment.objects.create(enterprise=e, proposed_grade="C", reason="绕过服务", proposed_by=author,
                                       status="approved")
    # a new approval ends the earlier one (audited as withdrawn), so the rule never blocks the work
    second = scoring.propose_adjustment(e, "C", "复查后调整", user=author)
    scoring.approve_adjustment(second, user=approver)
    adj.refresh_from_db()
    assert adj.status == "withdrawn" and f"#{second.pk}" in adj.decision_note
    assert AuditEntry.objects.filter(action="scoring.gradeadjustment.withdraw", object_id=str(adj.pk)).exists()


def test_the_workflows_offer_only_what_the_user_may_do(scored):
    author, approver, ents = scored
    adj = scoring.propose_adjustment(ents[1], "D", "现场核查发现隐患", user=author)
    assert scoring.ADJUSTMENTS.may(adj, "approve", approver)
    assert not scoring.ADJUSTMENTS.may(adj, "approve", author)  # he proposed it
    scoring.reject_adjustment(adj, user=approver, note="证据不足")
    adj.refresh_from_db()
    assert not scoring.ADJUSTMENTS.may(adj, "approve", approver)  # decided


def test_every_workflow_app_declares_its_transitions():
    """The services of each workflow object go through one Workflow (no second engine per app)."""
    from foodrisk.core.services import exports
    from foodrisk.core.workflow import Workflow

    for workflow in (alert_services.WORKFLOW, scoring.ADJUSTMENTS, isvc.SETS, model_services.MODELS, tasks.TASKS,
                     repairs.REPAIRS, exports.EXPORTS):
        assert isinstance(workflow, Workflow) and workflow.transitions


def test_a_request_for_approval_reaches_the_approvers_not_the_requester(scored):
    """Issue 13 (first week): a submitted indicator set or a proposed adjustment waited unseen in a list."""
    from foodrisk.core.models import Notification

    author, approver, ents = scored
    s = isvc.create_from_profile("food_2016", user=author)
    isvc.submit(s, user=author)
    scoring.propose_adjustment(ents[2], "D", "现场核查发现隐患", user=author)
    titles = list(Notification.objects.filter(recipient=approver).values_list("title", flat=True))
    assert f"待您审批：等级调整“{ents[2]} → D”" in titles, titles
    assert f"待您审批：指标体系“{s.name} v{s.version}”" in titles, titles
    assert not Notification.objects.filter(recipient=author, title__startswith="待您审批").exists()
