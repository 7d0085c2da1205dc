"""Tasks: create/assign, start, cancel, complete; an inspector's checklist result becomes an Inspection
record (through records.services.save_record, so rescoring picks it up) and, if items failed, a
rectification order; a rectification is closed after its evidence is verified."""

import datetime as dt
from contextlib import contextmanager

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodrisk.core import params
from foodrisk.core.querysets import organisation_covers
from foodrisk.core.services import audit
from foodrisk.core.workflow import InvalidTransition, Transition, Workflow
from foodrisk.records.models import Attachment, Inspection
from foodrisk.records.services import save_attachment, save_record

from .. import events
from ..choices import OPEN_TASK_STATUSES, ItemAnswer, TaskKind, TaskSource, TaskStatus
from ..models import ChecklistTemplate, Task

S = TaskStatus


OPEN = frozenset({S.ASSIGNED, S.IN_PROGRESS})
TASKS = Workflow(
    Task,
    {"start": Transition({S.ASSIGNED}, "supervision.change_task", label=gettext_lazy("start")),
     "cancel": Transition(OPEN | {S.VERIFYING}, "supervision.change_task", label=gettext_lazy("cancel")),
     "complete": Transition(OPEN, "supervision.change_task", label=gettext_lazy("complete")),
     "result": Transition(OPEN, "supervision.change_task", label=gettext_lazy("record a result")),
     "submit": Transition(OPEN, "supervision.change_task", label=gettext_lazy("submit evidence")),
     "verify": Transition({S.VERIFYING}, "supervision.verify_task", second_person="submitted_by",
                          label=gettext_lazy("verify"))},
    audit_as="supervision.task", related=("enterprise", "organisation"),
    state_fields=("kind", "status", "assignee", "second_assignee", "organisation", "due_on", "overdue", "inspection",
                  "verified_by", "submitted_by", "outcome"))


def _state(task):
    return TASKS.snapshot(task)


def _notify(task, recipients, subject):
    from foodrisk.core.models import MessageTemplate
    from foodrisk.core.services import notifications

    people = [u for u in recipients if u is not None]
    if not people or not MessageTemplate.objects.filter(code="task_assigned", enabled=True).exists():
        return
    link = task.get_absolute_url()
    context = {"task": task, "enterprise": task.enterprise, "kind": task.get_kind_display(),
               "due": task.due_on, "subject": subject}
    notifications.notify(people, "task_assigned", context, link=link)


def _check_people(enterprise, organisation, people):
    errors = {}
    if not organisation_covers(organisation, enterprise.region_id):
        errors["organisation"] = _("%(org)s has no jurisdiction over the enterprise's region %(region)s.") % {
            "org": organisation, "region": enterprise.region_id}
    for field, person in people.items():
        if person is None:
            continue
        if not person.is_active or not person.in_scope(enterprise.region_id):
            errors[field] = _("%(user)s cannot see enterprises in region %(region)s.") % {
                "user": person, "region": enterprise.region_id}
        elif not person.has_perm("supervision.change_task"):
            errors[field] = _("%(user)s lacks the permission to handle tasks.") % {"user": person}
    if people.get("assignee") is not None and people.get("assignee") == people.get("second_assignee"):
        errors["second_assignee"] = _("Two different inspectors are needed.")
    return errors


def create_task(enterprise, kind, *, user, organisation, assignee=None, second_assignee=None, due_on=None,
                title="", instructions="", source=TaskSource.MANUAL, source_ref="", parent=None, draw_item=None,
                checklist=None, notify=True):
    if kind not in TaskKind.values:
        raise ValidationError({"kind": _("Unknown task kind.")})
    if user is not None and not user.in_scope(enterprise.region_id):
        raise PermissionDenied("out of scope")
    today = timezone.localdate()
    due_on = due_on or today + dt.timedelta(days=params.get("task_default_days", 30))
    errors = _check_people(enterprise, organisation, {"assignee": assignee, "second_assignee": second_assignee})
    if due_on < today:
        errors["due_on"] = _("The due date lies in the past.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        task = Task.objects.create(
            kind=kind, enterprise=enterprise, organisation=organisation, assignee=assignee,
            second_assignee=second_assignee, due_on=due_on,
            title=title or f"{TaskKind(kind).label} · {enterprise.name}", instructions=instructions,
            source=source, source_ref=source_ref, parent=parent, draw_item=draw_item, checklist=checklist,
            created_by=user if getattr(user, "is_authenticated", False) else None)
        audit.record("supervision.task.create", task, after=_state(task), user=user,
                     details={"source": source, "source_ref": source_ref})
        if notify:
            _notify(task, [assignee, second_assignee], task.title)
        events.task_changed(task, "create")
    return task


def may_handle(task, user):
    """Assignees handle their tasks; people who may assign handle every task in their scope."""
    if not user.has_perm("supervision.change_task"):
        return False
    if user.pk in (task.assignee_id, task.second_assignee_id):
        return True
    return user.has_perm("supervision.assign_task") and user.in_scope(task.enterprise.region_id)


@contextmanager
def _step(task, name, *, user):
    """A transition by someone who may handle the task; the overdue flag follows the new state."""
    with TASKS.step(task, name, user=user) as step:
        if name != "verify" and not may_handle(step.obj, user):
            raise PermissionDenied(_("You are not assigned to this task."))
        yield step
        step.obj.overdue = step.obj.is_overdue
        events.task_changed(step.obj, name)  # queued in the step's transaction: gone if the step is undone


def start(task, *, user):
    with _step(task, "start", user=user) as step:
        task = step.obj
        task.status, task.started_at = S.IN_PROGRESS, timezone.now()
    return task


def cancel(task, *, user, reason):
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give a reason for cancelling.")})
    with _step(task, "cancel", user=user) as step:
        task = step.obj
        if not user.has_perm("supervision.assign_task") and task.created_by_id != user.pk:
            raise PermissionDenied(_("Only the person who assigned the task or a supervisor can cancel it."))
        task.status, task.completed_at, task.outcome = S.CANCELLED, timezone.now(), reason.strip()
    return task


def complete(task, *, user, outcome):
    """Close an interview or a repair follow-up with its outcome (inspections close through a result,
    rectifications through verification)."""
    if not (outcome or "").strip():
        raise ValidationError({"outcome": _("Describe the outcome.")})
    with _step(task, "complete", user=user) as step:
        task = step.obj
        if task.kind in (TaskKind.INSPECTION, TaskKind.RECTIFICATION):
            raise InvalidTransition(_("Record an inspection result or verify the rectification instead."))
        task.status, task.completed_at, task.outcome = S.DONE, timezone.now(), outcome.strip()
        task.started_at = task.started_at or task.completed_at
    return task


def checklist_for(task):
    if task.checklist_id:
        return task.checklist
    qs = ChecklistTemplate.objects.filter(active=True).prefetch_related("items")
    for template in qs:
        if not template.business_forms or task.enterprise.business_form in template.business_forms:
            return template
    return None


def evaluate_answers(template, answers):
    """(key failed, general failed, failed items, missing items) for {item id: pass|fail|na}."""
    key_failed, general_failed, failed, missing = 0, 0, [], []
    for item in template.items.all():
        answer = answers.get(str(item.pk), answers.get(item.pk))
        if answer not in ItemAnswer.values:
            missing.append(item)
            continue
        if answer == ItemAnswer.FAIL:
            failed.append(item)
            if item.key:
                key_failed += 1
            else:
                general_failed += 1
    return key_failed, general_failed, failed, missing


def result_of(key_failed, general_failed):
    """SAMR Order 49 Art. 32–33: a failed key item → non-compliant; only general items → basically compliant."""
    if key_failed:
        return "fail"
    if general_failed:
        return "basic"
    return "pass"


def record_result(task, *, user, answers, findings="", inspected_on=None, photos=(), order_rectification=None,
                  rectification_days=None, rectification_assignee=None):
    """The inspector's result: an Inspection record (rescoring follows after commit), photos as
    attachments of it, the task done, and — when items failed — a rectification order with a deadline."""
    today = timezone.localdate()
    inspected_on = inspected_on or today
    if inspected_on > today:
        raise ValidationError({"inspected_on": _("The inspection date lies in the future.")})
    with _step(task, "result", user=user) as step:
        task = step.obj
        if task.kind != TaskKind.INSPECTION:
            raise InvalidTransition(_("Only inspection tasks take a checklist result."))
        template = checklist_for(task)
        if template is None:
            raise ValidationError(_("No checklist template applies to this enterprise."))
        answers = {str(k): v for k, v in (answers or {}).items()}
        key_failed, general_failed, failed, missing = evaluate_answers(template, answers)
        if missing:
            raise ValidationError({"answers": _("Answer every checklist item (missing: %(items)s).") % {
                "items": ", ".join(i.number for i in missing)}})
        if order_rectification is None:
            order_rectification = bool(failed)
        lines = [findings.strip()] if findings and findings.strip() else []
        lines += [f"{'*' if i.key else ''}{i.number} {i.text}：{ItemAnswer.FAIL.label}" for i in failed]
        inspectors = ", ".join(str(u) for u in (task.assignee, task.second_assignee) if u is not None) or str(user)
        inspection = Inspection(
            enterprise=task.enterprise, inspection_no=f"SUP-{task.pk}-{inspected_on:%Y%m%d}",
            inspected_on=inspected_on, kind="random" if task.source == TaskSource.DRAW else "routine",
            organisation=task.organisation.name[:100], inspector=inspectors[:100],
            result=result_of(key_failed, general_failed), key_items_failed=key_failed,
            general_items_failed=general_failed, rectification_ordered=bool(order_rectification),
            findings="\n".join(lines), source="supervision")
        save_record(inspection, user=user)
        ct = ContentType.objects.get_for_model(Inspection)
        for photo in photos:
            save_attachment(Attachment(enterprise=task.enterprise, content_type=ct, object_id=inspection.pk,
                                       kind="photo", file=photo, description=getattr(photo, "name", "")[:300]),
                            user=user)
        now = timezone.now()
        task.status, task.completed_at = S.DONE, now
        task.started_at = task.started_at or now
        task.checklist, task.answers, task.findings, task.inspection = template, answers, findings, inspection
        task.outcome = inspection.get_result_display()
        step.details = {"inspection": inspection.inspection_no, "result": inspection.result,
                        "key_failed": key_failed, "general_failed": general_failed}
        task.overdue = task.is_overdue
        task.save()  # done before its follow-up order is created
        follow_up = None
        if order_rectification:
            days = rectification_days or params.get("rectification_days", 15)
            follow_up = create_task(
                task.enterprise, TaskKind.RECTIFICATION, user=user, organisation=task.organisation,
                assignee=rectification_assignee or task.assignee or user, due_on=today + dt.timedelta(days=int(days)),
                title=_("Rectification order · %(enterprise)s") % {"enterprise": task.enterprise.name},
                instructions="\n".join(lines), source=TaskSource.INSPECTION, source_ref=inspection.inspection_no,
                parent=task)
    return task, inspection, follow_up


def evidence_of(task):
    ct = ContentType.objects.get_for_model(Task)
    return Attachment.objects.filter(content_type=ct, object_id=task.pk)


def submit_rectification(task, *, user, note="", files=()):
    """The enterprise's rectification evidence is in: attach it and ask for verification."""
    with _step(task, "submit", user=user) as step:
        task = step.obj
        if task.kind != TaskKind.RECTIFICATION:
            raise InvalidTransition(_("Only rectification orders take evidence."))
        ct = ContentType.objects.get_for_model(Task)
        for f in files:
            save_attachment(Attachment(enterprise=task.enterprise, content_type=ct, object_id=task.pk,
                                       kind="evidence", file=f, description=getattr(f, "name", "")[:300]), user=user)
        if not evidence_of(task).exists():
            raise ValidationError({"files": _("Attach the rectification evidence.")})
        task.status, task.submitted_by, task.submitted_at = S.VERIFYING, user, timezone.now()
        task.started_at = task.started_at or task.submitted_at
        if note:
            task.outcome = note.strip()
        step.details = {"evidence": evidence_of(task).count()}
    return task


def verify_rectification(task, *, user, accepted, note=""):
    """A second person checks the evidence: accepted → closed (done); otherwise back to the assignee."""
    with _step(task, "verify", user=user) as step:
        task = step.obj
        if task.kind != TaskKind.RECTIFICATION:
            raise InvalidTransition(_("Only a rectification awaiting verification can be verified."))
        if not accepted and not (note or "").strip():
            raise ValidationError({"note": _("Say what is missing.")})
        if accepted:
            task.status, task.completed_at = S.DONE, timezone.now()
            task.verified_by, task.verified_at = user, task.completed_at
            task.outcome = (note or "").strip() or _("Rectification verified.")
        else:
            task.status, task.outcome = S.IN_PROGRESS, note.strip()
        step.action, step.details = "verify" if accepted else "return", {"accepted": bool(accepted)}
        if not accepted:
            _notify(task, [task.assignee], _("Rectification evidence returned"))
    return task


def flag_overdue(today=None):
    """Set or clear the overdue flag of open tasks (daily job). Returns the number newly overdue."""
    today = today or timezone.localdate()
    with transaction.atomic():
        newly = list(Task.objects.overdue(today).filter(overdue=False).values_list("pk", flat=True))
        Task.objects.filter(pk__in=newly).update(overdue=True)
        Task.objects.filter(overdue=True).exclude(pk__in=Task.objects.overdue(today).values("pk")).update(
            overdue=False)
        if newly:
            audit.record("supervision.task.overdue", object_type="supervision.task",
                         details={"tasks": newly, "date": today})
    return len(newly)


def create_task_from_alert(alert, *, user, kind=TaskKind.INSPECTION, due_on=None, assignee=None,
                           organisation=None):
    """A task from a dispatched alert (optional link to the alerts app; no-op reference by number)."""
    organisation = organisation or alert.assigned_organisation or alert.organisation
    assignee = assignee if assignee is not None else alert.assignee
    if organisation is None:
        raise ValidationError({"organisation": _("The alert has no responsible organisation.")})
    existing = Task.objects.filter(source=TaskSource.ALERT, source_ref=str(alert.pk), kind=kind).exclude(
        status=S.CANCELLED).first()
    if existing:
        return existing
    if due_on is None and alert.deadline and alert.deadline >= timezone.localdate():
        due_on = alert.deadline
    try:
        with transaction.atomic():
            return create_task(alert.enterprise, kind, user=user, organisation=organisation, assignee=assignee,
                               due_on=due_on, title=_("Alert follow-up · %(alert)s") % {"alert": alert},
                               instructions=getattr(alert, "instructions", "") or alert.summary,
                               source=TaskSource.ALERT, source_ref=str(alert.pk))
    except IntegrityError:  # one open follow-up per warning is a constraint: a concurrent one won
        return Task.objects.get(source=TaskSource.ALERT, source_ref=str(alert.pk), kind=kind,
                                status__in=list(OPEN_TASK_STATUSES))
