"""Credit repair (信用修复): application with the credit commitment and evidence → review against the rules
(each check's result kept) → decision by a second person → on approval the penalty / list entry is marked
repaired (audited and versioned like a records-service write; one records_changed for the decision, so the
engine stops counting it and the enterprise is rescored once).

Rules (regulations.md §3.2–3.3; periods are parameters):
- serious penalties (licence revoked, severity "serious") are never repairable early (Order 45 Art. 14);
- penalty information: at least `penalty_repair_months_food` (12) months since the decision, or
  `penalty_repair_months_general` (6) for violation types listed in `non_food_violation_types`;
- not currently on the abnormal-operation or the serious list (other than the entry being repaired);
- no later penalty for the same type of violation;
- serious list: early removal only after `serious_list_min_months` (12) months on the list.
"""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodrisk.core import params
from foodrisk.core.services import audit
from foodrisk.core.workflow import Transition, Workflow, unique_or
from foodrisk.records.models import Attachment, CreditRepair, ListEntry, Penalty
from foodrisk.records.services import save_attachment, save_record, save_records

from ..choices import RepairStatus
from ..models import RepairCase
from . import add_months, require

R = RepairStatus


OPEN = frozenset({R.APPLIED, R.REVIEWED})
REPAIRS = Workflow(
    RepairCase,
    {"review": Transition(OPEN, "supervision.change_repaircase", label=gettext_lazy("review")),
     "decide": Transition(OPEN, "supervision.decide_repaircase", second_person="recorded_by",
                          label=gettext_lazy("decide"))},
    audit_as="supervision.repair", related=("enterprise",),
    state_fields=("status", "penalty", "list_entry", "record", "checks", "reviewed_by", "decided_by", "reason"))


def apply(enterprise, *, user, commitment, penalty=None, list_entry=None, evidence=(), applied_on=None):
    require(user, "supervision.add_repaircase")
    if not user.in_scope(enterprise.region_id):
        raise PermissionDenied("out of scope")
    errors = {}
    if (penalty is None) == (list_entry is None):
        errors["penalty"] = _("Choose the penalty or the list entry to repair.")
    target = penalty or list_entry
    if target is not None and target.enterprise_id != enterprise.pk:
        errors["penalty"] = _("The record belongs to another enterprise.")
    if target is not None and target.repaired:
        errors["penalty"] = _("This record is already repaired.")
    if not (commitment or "").strip():
        errors["commitment"] = _("The credit commitment (守信承诺书) is required.")
    if errors:
        raise ValidationError(errors)
    applied_on = applied_on or timezone.localdate()
    with transaction.atomic():
        # one open application per record is a constraint: of two simultaneous ones, one wins
        with unique_or(ValidationError({"penalty": _("An application for this record is already open.")})):
            case = RepairCase.objects.create(enterprise=enterprise, penalty=penalty, list_entry=list_entry,
                                             commitment=commitment.strip(), applied_on=applied_on, recorded_by=user)
        record = save_record(CreditRepair(
            enterprise=enterprise, repair_no=f"XF-{applied_on:%Y}-{case.pk:06d}",
            target_kind="penalties" if penalty else "list_entries",
            target_no=penalty.decision_no if penalty else list_entry.entry_key, applied_on=applied_on,
            commitment=case.commitment, source="supervision"), user=user)
        case.record = record
        case.save(update_fields=["record"])
        ct = ContentType.objects.get_for_model(CreditRepair)
        for f in evidence:
            save_attachment(Attachment(enterprise=enterprise, content_type=ct, object_id=record.pk, kind="proof",
                                       file=f, description=getattr(f, "name", "")[:300]), user=user)
        audit.record("supervision.repair.apply", case, after=REPAIRS.snapshot(case), user=user)
    return case


def _check(code, label, passed, detail):
    return {"code": code, "label": label, "passed": bool(passed), "detail": detail}


def is_food_penalty(penalty):
    return penalty.violation_type not in (params.get("non_food_violation_types", []) or [])


def evaluate(case, today=None):
    """Each rule with its result and the reason, in a fixed order."""
    today = today or timezone.localdate()
    checks = []
    enterprise = case.enterprise
    if case.penalty_id:
        p = Penalty.objects.get(pk=case.penalty_id)
        serious = p.licence_revoked or p.severity == "serious"
        checks.append(_check("repairable", _("Penalty may be repaired"), not serious,
                             _("Serious penalty (licence revoked or serious circumstances): publicity cannot be "
                               "stopped early.") if serious else _("Not a serious penalty.")))
        food = is_food_penalty(p)
        months = int(params.get("penalty_repair_months_food" if food else "penalty_repair_months_general",
                                12 if food else 6))
        earliest = add_months(p.decided_on, months)
        checks.append(_check(
            "min_period", _("Minimum publicity period"), today >= earliest,
            _("%(kind)s penalty decided %(decided)s: repairable from %(earliest)s (%(months)d months).") % {
                "kind": _("Food") if food else _("General"), "decided": p.decided_on, "earliest": earliest,
                "months": months}))
        repeat = Penalty.objects.filter(enterprise=enterprise, violation_type=p.violation_type,
                                        decided_on__gt=p.decided_on).exclude(pk=p.pk).order_by("decided_on").first()
        checks.append(_check(
            "no_repeat", _("No later penalty of the same violation type"), repeat is None,
            _("Later penalty %(no)s of %(date)s for the same violation (%(type)s).") % {
                "no": repeat.decision_no, "date": repeat.decided_on, "type": p.violation_type}
            if repeat else _("None found.")))
    else:
        entry = ListEntry.objects.get(pk=case.list_entry_id)
        if entry.list_kind == "serious":
            months = int(params.get("serious_list_min_months", 12))
            earliest = add_months(entry.listed_on, months)
            checks.append(_check(
                "min_period", _("Minimum time on the serious list"), today >= earliest,
                _("Listed %(listed)s: early removal possible from %(earliest)s (%(months)d months).") % {
                    "listed": entry.listed_on, "earliest": earliest, "months": months}))
        else:
            checks.append(_check("min_period", _("Minimum period"), True,
                                 _("Abnormal-list removal has no minimum period once obligations are met.")))
    listed = (ListEntry.objects.filter(enterprise=enterprise, removed_on__isnull=True, repaired=False,
                                       listed_on__lte=today)
              .exclude(pk=case.list_entry_id or 0).order_by("listed_on"))
    names = ", ".join(f"{e.get_list_kind_display()}（{e.listed_on}）" for e in listed)
    checks.append(_check("not_listed", _("Not on the abnormal-operation or serious list"), not names,
                         _("Currently listed: %(lists)s.") % {"lists": names} if names else _("Not listed.")))
    checks.append(_check("commitment", _("Credit commitment given"), bool(case.commitment.strip()),
                         _("Commitment on file.") if case.commitment.strip() else _("Missing.")))
    return checks


def failed_reasons(checks):
    return "；".join(c["detail"] for c in checks if not c["passed"])


def review(case, *, user, today=None):
    with REPAIRS.step(case, "review", user=user) as step:
        case = step.obj
        case.checks = evaluate(case, today)
        case.status, case.reviewed_by, case.reviewed_at = R.REVIEWED, user, timezone.now()
        step.details = {"passed": case.checks_passed}
    return case


def decide(case, *, user, approve, reason="", today=None):
    """Approve (every check passes) or reject (with a reason; by default the failed checks). The decider
    must not be the person who recorded the application."""
    today = today or timezone.localdate()
    with REPAIRS.step(case, "decide", user=user) as step:
        case = step.obj
        case.checks = evaluate(case, today)
        reason = (reason or "").strip()
        if approve and not case.checks_passed:
            raise ValidationError(_("The application does not meet the rules: %(reasons)s") % {
                "reasons": failed_reasons(case.checks)})
        if not approve:
            reason = reason or failed_reasons(case.checks)
            if not reason:
                raise ValidationError({"reason": _("Give the reason for the rejection.")})
        case.status = R.APPROVED if approve else R.REJECTED
        case.decided_by, case.decided_at, case.reason = user, timezone.now(), reason
        case.save()
        changed = []
        if approve:
            if case.penalty_id:
                penalty = Penalty.objects.select_for_update().get(pk=case.penalty_id)
                penalty.repaired, penalty.repaired_on = True, today
                changed.append(penalty)
            else:
                entry = ListEntry.objects.select_for_update().get(pk=case.list_entry_id)
                entry.repaired = True
                entry.removed_on = entry.removed_on or today
                changed.append(entry)
        if case.record_id:
            record = CreditRepair.objects.select_for_update().get(pk=case.record_id)
            record.decision = "approved" if approve else "rejected"
            record.decided_on, record.reason = today, reason
            changed.append(record)
        save_records(changed, user=user)  # one records_changed: one rescoring
        step.action, step.details = "approve" if approve else "reject", {"reason": reason}
    return case
