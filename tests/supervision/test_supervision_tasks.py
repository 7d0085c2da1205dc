import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from supervision_testkit import MANAGER_PERMS, days_ago, enterprise, inspectors, org, person

from foodrisk.core.models import AuditEntry
from foodrisk.indicators.services import bootstrap_profile
from foodrisk.records.models import Attachment, Inspection
from foodrisk.scoring import services as scoring
from foodrisk.scoring.models import Score, ScoringRun
from foodrisk.supervision.models import ChecklistTemplate, Task
from foodrisk.supervision.services import tasks

pytestmark = pytest.mark.django_db


def photo(name="p.jpg"):
    return SimpleUploadedFile(name, b"\xff\xd8\xff fake jpeg", content_type="image/jpeg")


@pytest.fixture
def setup():
    people = inspectors(3)
    manager = person("manager", "330102", *MANAGER_PERMS)
    e = enterprise(1, grade="", current_score=None)
    return org("330102"), e, people, manager


def answers(fail_key=False, fail_general=False):
    template = ChecklistTemplate.objects.get(code="general_2022")
    out = {}
    key_done = general_done = False
    for item in template.items.all():
        value = "pass"
        if item.key and fail_key and not key_done:
            value, key_done = "fail", True
        if not item.key and fail_general and not general_done:
            value, general_done = "fail", True
        out[str(item.pk)] = value
    return out


def test_result_creates_an_inspection_record_and_triggers_rescoring(setup, django_capture_on_commit_callbacks):
    organisation, e, people, manager = setup
    bootstrap_profile("food_2016")
    scoring.run_scoring("full", timezone.localdate(), manager)
    e.refresh_from_db()
    grade_before, score_before = e.current_grade, e.current_score
    task = tasks.create_task(e, "inspection", user=manager, organisation=organisation, assignee=people[0],
                             second_assignee=people[1])
    tasks.start(task, user=people[0])
    with django_capture_on_commit_callbacks(execute=True):
        task, inspection, follow_up = tasks.record_result(task, user=people[0], answers=answers(fail_key=True),
                                                          findings="冷藏柜温度超标", photos=[photo()])
    assert task.status == "done" and task.inspection == inspection
    inspection = Inspection.objects.get(pk=inspection.pk)
    assert inspection.result == "fail" and inspection.key_items_failed == 1 and inspection.rectification_ordered
    assert inspection.enterprise == e and "冷藏柜温度超标" in inspection.findings
    assert Attachment.objects.filter(object_id=inspection.pk, kind="photo").count() == 1
    run = ScoringRun.objects.get(kind="event")
    assert run.status == "succeeded"
    score = Score.objects.get(run=run, enterprise=e)
    e.refresh_from_db()
    assert score.total_score > score_before and e.current_score == score.total_score
    assert "ABCD".index(e.current_grade) >= "ABCD".index(grade_before)
    assert follow_up.kind == "rectification" and follow_up.parent == task
    assert (follow_up.due_on - timezone.localdate()).days == 15
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"records.inspection.create", "supervision.task.result", "supervision.task.create"} <= actions


def test_general_failure_is_basic_and_rectification_optional(setup):
    organisation, e, people, manager = setup
    task = tasks.create_task(e, "inspection", user=manager, organisation=organisation, assignee=people[0])
    task, inspection, follow_up = tasks.record_result(task, user=people[0], answers=answers(fail_general=True),
                                                      order_rectification=False)
    assert inspection.result == "basic" and inspection.general_items_failed == 1 and follow_up is None


def test_result_needs_every_item_and_the_assignee(setup):
    organisation, e, people, manager = setup
    task = tasks.create_task(e, "inspection", user=manager, organisation=organisation, assignee=people[0])
    partial = dict(list(answers().items())[:3])
    with pytest.raises(ValidationError):
        tasks.record_result(task, user=people[0], answers=partial)
    with pytest.raises(PermissionDenied):
        tasks.record_result(task, user=people[2], answers=answers())  # not assigned
    assert not Inspection.objects.exists()


def test_rectification_closes_only_with_verified_evidence(setup):
    organisation, e, people, manager = setup
    task = tasks.create_task(e, "inspection", user=manager, organisation=organisation, assignee=people[0])
    _t, _i, rect = tasks.record_result(task, user=people[0], answers=answers(fail_general=True),
                                       rectification_days=10)
    with pytest.raises(ValidationError):
        tasks.submit_rectification(rect, user=people[0], note="已整改")  # no evidence
    rect = tasks.submit_rectification(rect, user=people[0], note="已整改", files=[photo("after.jpg")])
    assert rect.status == "verifying" and tasks.evidence_of(rect).count() == 1
    with pytest.raises(PermissionDenied):
        tasks.verify_rectification(rect, user=people[0], accepted=True)  # no verify permission
    with pytest.raises(ValidationError):
        tasks.verify_rectification(rect, user=manager, accepted=False)  # returning needs a note
    rect = tasks.verify_rectification(rect, user=manager, accepted=False, note="照片不清晰")
    assert rect.status == "in_progress"
    rect = tasks.submit_rectification(rect, user=people[0], files=[photo("clear.jpg")])
    rect = tasks.verify_rectification(rect, user=manager, accepted=True)
    assert rect.status == "done" and rect.verified_by == manager and rect.completed_at
    assert AuditEntry.objects.filter(action="supervision.task.verify", object_id=str(rect.pk)).exists()


def test_interview_transitions_and_overdue(setup):
    organisation, e, people, manager = setup
    task = tasks.create_task(e, "interview", user=manager, organisation=organisation, assignee=people[0],
                             due_on=timezone.localdate())
    with pytest.raises(ValidationError):
        tasks.create_task(e, "interview", user=manager, organisation=organisation, due_on=days_ago(1))
    Task.objects.filter(pk=task.pk).update(due_on=days_ago(2))
    assert tasks.flag_overdue() == 1
    task.refresh_from_db()
    assert task.overdue and task.is_overdue
    with pytest.raises(ValidationError):
        tasks.complete(task, user=people[0], outcome="")
    task = tasks.complete(task, user=people[0], outcome="已约谈法定代表人")
    assert task.status == "done"
    tasks.flag_overdue()
    task.refresh_from_db()
    assert not task.overdue
    with pytest.raises(tasks.InvalidTransition):
        tasks.start(task, user=people[0])


def test_assignment_rules(setup):
    organisation, e, people, manager = setup
    outsider = person("west", "330106", "supervision.change_task", "supervision.view_task")
    with pytest.raises(ValidationError):
        tasks.create_task(e, "inspection", user=manager, organisation=organisation, assignee=outsider)
    with pytest.raises(ValidationError):
        tasks.create_task(e, "inspection", user=manager, organisation=org("330106"), assignee=people[0])
    with pytest.raises(ValidationError):
        tasks.create_task(e, "inspection", user=manager, organisation=organisation, assignee=people[0],
                          second_assignee=people[0])
