"""Alerts (风险预警): the service API. Every write goes through these functions — one transaction, one
audit entry in it, an AlertEvent on the alert's timeline, notifications and events after commit.

Models (foodrisk.alerts.models)
    WarningRule   code, name, kind (choices.RuleKind), params (JSON, validated per kind by
                  params.validate_params), level (red/orange/yellow/blue), target (local / county / fixed)
                  + target_organisation, deadline_days, enabled.
    Alert         rule, enterprise, region (at raise), level, status (choices.AlertStatus), summary,
                  evidence (JSON of the latest occurrence: {"records": [...], "grades": {...}, "values": {...}}),
                  occurrences, raised_at, last_occurred_at, deadline, organisation (responsible at raise),
                  review / dispatch (assigned_organisation, assignee) / feedback / outcome fields,
                  overdue, escalated_at, escalations.  scope_field = "enterprise__region".
                  Alert.objects.restrict(user, "view" | "review" | "dispatch" | "handle" | "close"),
                  .open(), .overdue(today).
    AlertOccurrence  one triggering (fingerprint, summary, evidence, at).
    AlertEvent       the timeline (action, from_status, to_status, user, note, data, at).

Statuses and transitions (anything else raises InvalidTransition, a ValidationError):
    raised ──review(confirm)──▶ confirmed ──dispatch──▶ dispatched ──handle──▶ in_hand ──close──▶ closed
    raised ──review(dismiss, reason required)──▶ dismissed
    dispatched ──dispatch──▶ dispatched (re-dispatch);  in_hand ──handle──▶ in_hand (more feedback)
    open + deadline passed ──escalate_overdue──▶ same status, overdue=True (督办)

Raising (called by the signal handlers and the daily job `alerts.scan`; other apps may call them):
    evaluate_records(enterprise_ids, record_kinds=None, *, today=None) -> list[Alert]
    evaluate_grade_changes(changes, *, run=None, adjustment=None) -> list[Alert]
    scan(today=None) -> {"raised": n, "repeated": n, "escalated": n}
    raise_alert(rule, enterprise, *, fingerprint, summary, evidence) -> (alert | None, created)
        One open alert per (enterprise, rule): a repeat with new evidence adds an occurrence; evidence
        already seen (same fingerprint, even on a closed alert) is ignored.

Workflow (user = the acting person; permission "alerts.<action>_alert" and region scope are checked):
    review(alert, *, user, confirm, note="")
    dispatch(alert, *, user, organisation=None, assignee=None, deadline=None, instructions="")
    handle(alert, *, user, feedback, files=())       # files → records.Attachment linked to the alert
    close(alert, *, user, outcome, note="")           # outcome: choices.Outcome
    escalate_overdue(today=None) -> list[Alert]       # system; notifies the parent organisation
    allowed_actions(alert, user) -> set of "review", "dispatch", "handle", "close"

Bulk (one event, many alerts):
    batched_notifications()                          # context manager: each recipient is notified once per
                                                     # template (a digest when they have several alerts)
    bulk_review(ids, *, user, confirm, note="") -> (done alerts, refused [(id, label, message)])

Reads:
    queue(user, which="mine" | "organisation" | "all") -> Alert queryset in the user's scope
    attachments(alert) -> records.Attachment queryset

Rules:
    save_rule(rule, *, user=None) -> WarningRule      # validates params, audited
    delete_rule(rule, *, user=None)                   # audited; RuleInUse while alerts refer to it
    seeds.seed_default_rules() -> number created      # idempotent

Events (foodrisk.alerts.events, queued in the transaction; reactions run in the worker): alert_raised(alert, created, occurrence),
alert_transitioned(alert, action, from_status, to_status, user).
"""

import contextvars
import datetime as dt
import logging
from contextlib import contextmanager

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, ProtectedError, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodrisk.core.models import Organisation, Region, User
from foodrisk.core.querysets import organisation_covers
from foodrisk.core.services import audit, objects
from foodrisk.core.services.accounts import users_with_perm
from foodrisk.core.services.notifications import notify
from foodrisk.core.workflow import InvalidTransition, Transition, Workflow

from . import events, rules
from .choices import LEVEL_ORDER, OPEN_STATUSES, AlertLevel, AlertStatus, EventAction, Outcome, TargetRule
from .models import Alert, AlertEvent, AlertOccurrence, WarningRule
from .params import TIME_BASED, triggers

logger = logging.getLogger(__name__)

S = AlertStatus
NOTIFICATION_LEVEL = {"red": "danger", "orange": "warning", "yellow": "warning", "blue": "info"}


class RuleInUse(ValidationError):
    """A rule that alerts still refer to cannot be deleted (they keep their history): disable it instead."""


# --------------------------------------------------------------------------------------------------
# rules
# --------------------------------------------------------------------------------------------------
def save_rule(rule, *, user=None):
    """Create or update a warning rule (params validated and completed with defaults), audited."""
    creating = rule._state.adding
    before = None if creating else audit.snapshot(WarningRule.objects.get(pk=rule.pk))
    with transaction.atomic():
        rule.full_clean()
        rule.save()
        audit.record(f"alerts.warningrule.{'create' if creating else 'update'}", rule, before=before,
                     after=audit.snapshot(rule), user=user)
    return rule


def delete_rule(rule, *, user=None):
    """Delete a warning rule, audited. Raises RuleInUse while alerts (models.PROTECT) refer to it."""
    def in_use(count):
        return RuleInUse(_("The warning rule “%(rule)s” cannot be deleted: %(count)s alerts still refer to it. "
                           "Disable the rule instead.") % {"rule": rule, "count": count}, code="rule_in_use")

    count = rule.alerts.count()  # counted up front: Django's PROTECT check would load every alert
    if count:
        raise in_use(count)
    try:
        objects.delete_instance(rule, user=user)  # audited in the same transaction: a refused delete rolls it back
    except ProtectedError as exc:  # an alert raised meanwhile
        raise in_use(len(exc.protected_objects)) from exc


# --------------------------------------------------------------------------------------------------
# where an alert goes
# --------------------------------------------------------------------------------------------------
def _region_chain(code, cache):
    """The region and its ancestors, most specific first."""
    if code in cache:
        return cache[code]
    chain, current = [], code
    parents = {}
    while current:
        chain.append(current)
        if current not in parents:
            parents[current] = Region.objects.filter(pk=current).values_list("parent_id", flat=True).first()
        current = parents[current]
    cache[code] = chain
    return chain


def target_organisation(rule, region_code, cache=None):
    """The organisation responsible for an alert of this rule about an enterprise in region_code."""
    if rule.target == TargetRule.FIXED:
        return rule.target_organisation
    cache = {} if cache is None else cache
    chain = _region_chain(region_code, cache.setdefault("chain", {}))
    key = ("orgs", tuple(chain))
    if key not in cache:
        cache[key] = list(Organisation.objects.filter(active=True, region_id__in=chain).select_related("region")
                          .order_by("code"))
    orgs = sorted(cache[key], key=lambda o: chain.index(o.region_id))
    if rule.target == TargetRule.COUNTY:
        county = [o for o in orgs if o.region.level == "county"]
        if county:
            return county[0]
    return orgs[0] if orgs else None


# --------------------------------------------------------------------------------------------------
# raising
# --------------------------------------------------------------------------------------------------
def _users_with(org, perm, exclude=None):
    if org is None:
        return []
    users = users_with_perm(perm).filter(organisation=org).order_by("pk")
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    return list(users)


def _context(alert, **extra):
    return {"level": alert.get_level_display(), "enterprise": alert.enterprise.name, "rule": alert.rule.name,
            "summary": alert.summary, "deadline": alert.deadline.isoformat() if alert.deadline else "—",
            "status": alert.get_status_display(), "alert": alert, **extra}


def _notify(recipients, template, alert, **extra):
    recipients = list({u.pk: u for u in recipients if u is not None}.values())
    if not recipients:
        return
    pending = _batch.get()
    if pending is not None and template in DIGEST_LINKS:  # inside one event: collected, sent at its end
        for user in recipients:
            pending.setdefault(template, {}).setdefault(user.pk, (user, []))[1].append((alert.pk, extra))
        return
    link, level = alert.get_absolute_url(), NOTIFICATION_LEVEL.get(alert.level, "info")
    context = _context(alert, **extra)
    notify(recipients, template, context, link=link, level=level)  # in-app now, mail/SMS by the worker


# One event (a scoring run, an import, a scan, a bulk review) can raise or change thousands of alerts: one
# notification per alert buried the pilot's administrator under 4,026 of them. Inside batched_notifications()
# each recipient gets one notification per template: the individual one when it is about a single alert,
# otherwise a digest ("<template>_digest", seeds.DIGEST_TEMPLATES) linking to their queue filtered to what it counts.
_batch = contextvars.ContextVar("alerts_notification_batch", default=None)
DIGEST_LINKS = {  # template → (queue url name, filter of the linked list)
    "alert_raised": ("alerts:my_alerts", "status=raised"),
    "alert_confirmed": ("alerts:my_alerts", "status=confirmed"),
    "alert_dismissed": ("alerts:alert_list", "status=dismissed"),
    "alert_dispatched": ("alerts:my_alerts", "status=dispatched"),
    "alert_overdue": ("alerts:alert_list", "open=true&overdue=true"),
}


@contextmanager
def batched_notifications():
    """Collect the alert notifications of the block and send them at its end, one per recipient and template.
    Nested blocks join the outermost one. Alerts whose raise was rolled back meanwhile are left out."""
    if _batch.get() is not None:
        yield
        return
    pending = {}
    token = _batch.set(pending)
    failed = True
    try:
        yield
        failed = False
    finally:
        _batch.reset(token)
        try:
            _send_batch(pending)
        except Exception:
            if not failed:
                raise
            # what was committed before the error still deserves its notifications; the error itself wins
            logger.exception("sending the batched alert notifications failed")


def _levels(alerts):
    counts = {}
    for alert in alerts:
        counts[alert.level] = counts.get(alert.level, 0) + 1
    return "、".join(f"{AlertLevel(level).label} {n}" for level, n in
                    sorted(counts.items(), key=lambda item: LEVEL_ORDER.get(item[0], 9)))


def _send_batch(pending):
    for template, people in pending.items():
        ids = {pk for _user, items in people.values() for pk, _extra in items}
        alerts = Alert.objects.select_related("enterprise", "rule").in_bulk(ids)
        name, query = DIGEST_LINKS[template]
        link = f"{reverse(name)}?{query}"
        for user, items in people.values():
            items = [(alerts[pk], extra) for pk, extra in dict(items).items() if pk in alerts]
            if len(items) == 1:
                _notify([user], template, items[0][0], **items[0][1])
            elif items:
                batch = [a for a, _extra in items]
                top = min(batch, key=lambda a: LEVEL_ORDER.get(a.level, 9))
                deadlines = [a.deadline for a in batch if a.deadline]
                context = {**items[0][1], "count": len(batch), "levels": _levels(batch),
                           "deadline": min(deadlines).isoformat() if deadlines else "—", "link": link,
                           "enterprises": "、".join(a.enterprise.name for a in batch[:3])
                           + ("…" if len(batch) > 3 else "")}
                notify([user], f"{template}_digest", context, link=link,
                       level=NOTIFICATION_LEVEL.get(top.level, "info"))


def raise_alert(rule, enterprise, *, fingerprint, summary, evidence, cache=None):
    """Raise (or repeat) one alert. Returns (alert, created) or (None, False) when the evidence was seen."""
    fingerprint = fingerprint[:200]
    now = timezone.now()
    with transaction.atomic():
        if AlertOccurrence.objects.filter(alert__rule=rule, alert__enterprise=enterprise,
                                          fingerprint=fingerprint).exists():
            return None, False
        alert = Alert.objects.select_for_update().filter(rule=rule, enterprise=enterprise,
                                                         status__in=OPEN_STATUSES).first()
        created = alert is None
        if created:
            org = target_organisation(rule, enterprise.region_id, cache)
            alert = Alert(rule=rule, enterprise=enterprise, region_id=enterprise.region_id, level=rule.level,
                          summary=summary[:300], evidence=evidence, grade_at_raise=enterprise.current_grade or "",
                          raised_at=now, last_occurred_at=now, organisation=org,
                          deadline=timezone.localdate() + dt.timedelta(days=rule.deadline_days))
            try:
                with transaction.atomic():
                    alert.save()
            except IntegrityError:  # another process raised it meanwhile: become a repeat
                created = False
                alert = Alert.objects.select_for_update().get(rule=rule, enterprise=enterprise,
                                                              status__in=OPEN_STATUSES)
        if not created:
            alert.occurrences += 1
            alert.last_occurred_at, alert.evidence, alert.summary = now, evidence, summary[:300]
            alert.save(update_fields=["occurrences", "last_occurred_at", "evidence", "summary"])
        occurrence = AlertOccurrence.objects.create(alert=alert, fingerprint=fingerprint, summary=summary[:300],
                                                    evidence=evidence, at=now)
        action = EventAction.RAISE if created else EventAction.REPEAT
        AlertEvent.objects.create(alert=alert, action=action, to_status=alert.status, note=summary[:300],
                                  data={"fingerprint": fingerprint, "occurrence": occurrence.pk}, at=now)
        audit.record(f"alerts.alert.{action}", alert, after=WORKFLOW.snapshot(alert),
                     details={"rule": rule.code, "fingerprint": fingerprint})
        if created:
            _notify(_users_with(alert.organisation, "alerts.review_alert"), "alert_raised", alert)
        events.emit_raised(alert, created, occurrence)
    return alert, created


def _raise_hits(rule, hits, ents, cache, out):
    for hit in hits:
        ent = ents.get(hit.enterprise_id)
        if ent is None:
            continue
        try:
            alert, _created = raise_alert(rule, ent, fingerprint=hit.fingerprint, summary=hit.summary,
                                          evidence=hit.evidence, cache=cache)
        except Exception:  # one bad hit must not stop the others
            logger.exception("raising alert %s for enterprise %s failed", rule.code, hit.enterprise_id)
            continue
        if alert is not None:
            out.append(alert)


def _enabled_rules(kinds):
    return [r for r in WarningRule.objects.filter(enabled=True, kind__in=kinds).select_related(
        "target_organisation")]


def evaluate_records(enterprise_ids, record_kinds=None, *, today=None):
    """Record-driven rules (penalty, inspection, sampling, complaints, repair rejected, listed, jumps)
    for these enterprises; record_kinds limits to rules triggered by those kinds (None = all)."""
    today = today or timezone.localdate()
    ids = set(enterprise_ids or ())
    if not ids:
        return []
    out, cache, ents = [], {}, None
    with batched_notifications():
        for rule in _enabled_rules(list(rules.RECORD_EVALUATORS)):
            if record_kinds is not None and not (triggers(rule.kind, rule.params) & set(record_kinds)):
                continue
            hits = rules.RECORD_EVALUATORS[rule.kind](rule, ids, today)
            if hits:
                ents = ents if ents is not None else rules.enterprises(ids)
                _raise_hits(rule, hits, ents, cache, out)
    return out


def evaluate_grade_changes(changes, *, run=None, adjustment=None):
    """Grade-drop rules for the changes of one scoring run or one approved adjustment, but not for an enterprise
    whose grade changed again since (see _superseded)."""
    changes = _superseded(list(changes or ()), run, adjustment)
    if not changes:
        return []
    out, cache, ents = [], {}, None
    with batched_notifications():
        for rule in _enabled_rules(["grade_drop"]):
            hits = rules.grade_drop(rule, changes, run=run, adjustment=adjustment)
            if hits:
                ents = ents if ents is not None else rules.enterprises({c["enterprise_id"] for c in changes})
                _raise_hits(rule, hits, ents, cache, out)
    return out


def _superseded(changes, run, adjustment):
    """The changes without those of enterprises whose grade a later run or adjustment changed again before this
    reaction ran (past months scored one after another, a review right after a run): a warning about a grade
    that no longer stands is noise. Later = a grade change written after the last of this run's (adjustment's)."""
    from foodrisk.scoring.models import GradeChange

    if not changes or (run is None and adjustment is None):
        return changes
    own = GradeChange.objects.filter(run=run) if run is not None else GradeChange.objects.filter(adjustment=adjustment)
    last = own.aggregate(last=Max("pk"))["last"]
    if last is None:
        return changes
    later = set(GradeChange.objects.filter(pk__gt=last).values_list("enterprise_id", flat=True))
    return [c for c in changes if c["enterprise_id"] not in later]


def evaluate_time_rules(today=None, enterprise_ids=None):
    today = today or timezone.localdate()
    out, cache = [], {}
    with batched_notifications():
        for rule in _enabled_rules(list(TIME_BASED)):
            hits = rules.TIME_EVALUATORS[rule.kind](rule, enterprise_ids, today)
            if hits:
                _raise_hits(rule, hits, rules.enterprises({h.enterprise_id for h in hits}), cache, out)
    return out


CATCH_UP_KEY = "alerts_evaluated_until"
CATCH_UP_OVERLAP = dt.timedelta(minutes=10)  # a change stamped before a slow commit is still inside the next window


def catch_up(now=None):
    """Evaluate what changed since the watermark (enterprises whose data changed, grade changes), then move the
    watermark to now minus an overlap. Reactions normally did this already; the catch-up finds what a suppressed
    or exhausted reaction left (evaluating twice raises nothing twice: fingerprints). The first call only sets the
    watermark. Returns {"enterprises": n, "grade_changes": n, "alerts": n}."""
    from foodrisk.core.models import Parameter
    from foodrisk.enterprises.models import DataChange
    from foodrisk.scoring.models import GradeChange

    now = now or timezone.now()
    row = Parameter.objects.filter(key=CATCH_UP_KEY).first()
    out = {"enterprises": 0, "grade_changes": 0, "alerts": 0}
    with batched_notifications():  # one catch-up, one notification per person and kind
        if row is not None and row.value:
            since = dt.datetime.fromisoformat(row.value)
            ids = sorted(DataChange.objects.filter(changed_at__gt=since, changed_at__lte=now)
                         .values_list("enterprise_id", flat=True))
            for start in range(0, len(ids), 1000):
                out["alerts"] += len(evaluate_records(set(ids[start:start + 1000])))
            out["enterprises"] = len(ids)
            changes = (GradeChange.objects.filter(at__gt=since, at__lte=now).order_by("pk")
                       .values("enterprise_id", "old_grade", "new_grade", "score", "reasons", "run_id", "adjustment_id"))
            by_source = {}
            for change in changes:
                by_source.setdefault((change.pop("run_id"), change.pop("adjustment_id")), []).append(change)
            for (run_id, adjustment_id), group in by_source.items():
                run = adjustment = None
                if run_id is not None:
                    from foodrisk.scoring.models import ScoringRun

                    run = ScoringRun.objects.get(pk=run_id)
                elif adjustment_id is not None:
                    from foodrisk.scoring.models import GradeAdjustment

                    adjustment = GradeAdjustment.objects.get(pk=adjustment_id)
                out["alerts"] += len(evaluate_grade_changes(group, run=run, adjustment=adjustment))
                out["grade_changes"] += len(group)
    Parameter.objects.update_or_create(key=CATCH_UP_KEY, defaults={
        "name": "预警补评水位", "category": "alerts", "value_type": "text",
        "value": (now - CATCH_UP_OVERLAP).isoformat(),
        "description": "预警补评已覆盖到的时间点（系统维护，请勿手工修改）"})
    return out


def scan(today=None):
    """The daily job: time-based rules (licence expiring / expired, repair lapsed), then escalation."""
    today = today or timezone.localdate()
    with batched_notifications():  # one scan, one notification per person and kind
        alerts = evaluate_time_rules(today)
        escalated = escalate_overdue(today)
    raised = sum(1 for a in alerts if a.occurrences == 1)
    return {"raised": raised, "repeated": len(alerts) - raised, "escalated": len(escalated)}


# --------------------------------------------------------------------------------------------------
# workflow
# --------------------------------------------------------------------------------------------------
def _timeline(alert, step, to_status, user):
    AlertEvent.objects.create(alert=alert, action=step.action, from_status=step.from_state, to_status=to_status,
                              user=user, note=step.note, data=step.details)


def _announce(alert, step, to_status, user):
    events.emit_transitioned(alert, step.action, step.from_state, to_status, user)


WORKFLOW = Workflow(
    Alert,
    {"review": Transition({S.RAISED}, "alerts.review_alert", label=gettext_lazy("review")),
     "dispatch": Transition({S.CONFIRMED, S.DISPATCHED}, "alerts.dispatch_alert", label=gettext_lazy("dispatch")),
     "handle": Transition({S.DISPATCHED, S.IN_HAND}, "alerts.handle_alert", label=gettext_lazy("handle")),
     "close": Transition({S.IN_HAND}, "alerts.close_alert", label=gettext_lazy("close")),
     "escalate": Transition(OPEN_STATUSES)},  # the system's 督办, no user
    audit_as="alerts.alert", timeline=_timeline, announce=_announce, related=("enterprise", "rule"),
    state_fields=("status", "level", "deadline", "organisation", "assigned_organisation", "assignee", "review_note",
                  "feedback", "outcome", "outcome_note", "occurrences", "overdue", "escalations"))
USER_ACTIONS = ("review", "dispatch", "handle", "close")


def review(alert, *, user, confirm, note=""):
    """Confirm (→ confirmed, ready to dispatch) or dismiss (→ dismissed; a reason is required)."""
    note = (note or "").strip()
    with WORKFLOW.step(alert, "review", user=user, note=note) as step:
        alert = step.obj
        if not confirm and not note:
            raise ValidationError({"note": _("Give the reason for dismissing the alert.")}, code="reason_required")
        alert.status = S.CONFIRMED if confirm else S.DISMISSED
        alert.reviewed_by, alert.reviewed_at, alert.review_note = user, timezone.now(), note
        if not confirm:
            alert.overdue = False
        step.action = EventAction.CONFIRM if confirm else EventAction.DISMISS
        perm = "alerts.dispatch_alert" if confirm else "alerts.review_alert"
        _notify(_users_with(alert.organisation, perm, exclude=user),
                "alert_confirmed" if confirm else "alert_dismissed", alert, note=note, actor=str(user))
    return alert


def bulk_review(ids, *, user, confirm, note=""):
    """Confirm or dismiss several alerts with one decision and reason. Each goes through review() — its own
    transaction, permission, scope and state checked, audited per alert — so what can be reviewed is, and the
    others are reported. Returns (reviewed alerts, refused [(id, label, message)]). An alert the user cannot
    see is refused like one that does not exist (nothing about other regions leaks)."""
    note = (note or "").strip()
    if not confirm and not note:
        raise ValidationError({"note": _("Give the reason for dismissing the alerts.")}, code="reason_required")
    ids = sorted({int(pk) for pk in ids})
    visible = Alert.objects.in_scope(user).select_related("enterprise", "rule").in_bulk(ids) \
        if getattr(user, "is_authenticated", False) else {}
    done, refused = [], []
    with batched_notifications():  # the people who dispatch hear once about the whole batch
        for pk in ids:
            alert = visible.get(pk)
            if alert is None:
                refused.append((pk, f"#{pk}", _("Not found or outside your jurisdiction.")))
                continue
            try:
                done.append(review(alert, user=user, confirm=confirm, note=note))
            except (PermissionDenied, ValidationError) as exc:
                message = str(exc) if isinstance(exc, PermissionDenied) else "；".join(exc.messages)
                refused.append((pk, str(alert), message or _("Not allowed.")))
    return done, refused


def dispatch(alert, *, user, organisation=None, assignee=None, deadline=None, instructions=""):
    """Send to an organisation and/or a person with a deadline. The organisation's jurisdiction (or the
    person's scope) must contain the enterprise; the person must be able to handle alerts."""
    with WORKFLOW.step(alert, "dispatch", user=user) as step:
        alert = step.obj
        region = alert.enterprise.region_id
        errors = {}
        if organisation is None and assignee is None:
            errors["organisation"] = _("Choose an organisation or a person to dispatch to.")
        if organisation is not None and not organisation_covers(organisation, region):
            errors["organisation"] = _("%(org)s has no jurisdiction over the enterprise's region %(region)s.") % {
                "org": organisation, "region": region}
        if assignee is not None:
            if not assignee.is_active or not assignee.in_scope(region):
                errors["assignee"] = _("%(user)s cannot see enterprises in region %(region)s.") % {
                    "user": assignee, "region": region}
            elif not assignee.has_perm("alerts.handle_alert"):
                errors["assignee"] = _("%(user)s lacks the permission to handle alerts.") % {"user": assignee}
            elif organisation is not None and assignee.organisation_id and assignee.organisation_id != organisation.pk \
                    and not organisation_covers(organisation, assignee.organisation.region_id):
                errors["assignee"] = _("%(user)s does not belong to %(org)s.") % {"user": assignee,
                                                                                  "org": organisation}
        today = timezone.localdate()
        if deadline is None:
            deadline = alert.deadline if alert.deadline and alert.deadline >= today else \
                today + dt.timedelta(days=alert.rule.deadline_days)
        if deadline < today:
            errors["deadline"] = _("The deadline lies in the past.")
        if errors:
            raise ValidationError(errors)
        if organisation is None and assignee is not None:
            organisation = assignee.organisation
        alert.status = S.DISPATCHED
        alert.assigned_organisation, alert.assignee = organisation, assignee
        alert.dispatched_by, alert.dispatched_at = user, timezone.now()
        alert.deadline, alert.instructions = deadline, (instructions or "").strip()
        alert.overdue = False
        step.note = alert.instructions
        step.details = {"organisation": getattr(organisation, "pk", None), "assignee": getattr(assignee, "pk", None),
                        "deadline": deadline}
        recipients = [assignee] if assignee is not None else _users_with(organisation, "alerts.handle_alert")
        _notify(recipients, "alert_dispatched", alert, instructions=alert.instructions)
    return alert


def _may_handle(alert, user):
    """A person-dispatched alert is handled by that person (or someone who may dispatch)."""
    return alert.assignee_id is None or alert.assignee_id == user.pk or user.has_perm("alerts.dispatch_alert")


def handle(alert, *, user, feedback, files=()):
    """Report what was done (→ in hand). Files become records.Attachment rows linked to the alert."""
    from foodrisk.records.models import Attachment
    from foodrisk.records.services import save_attachment

    feedback = (feedback or "").strip()
    with WORKFLOW.step(alert, "handle", user=user, note=feedback) as step:
        alert = step.obj
        if not _may_handle(alert, user):
            raise PermissionDenied(_("This alert was dispatched to %(user)s.") % {"user": alert.assignee})
        if not feedback:
            raise ValidationError({"feedback": _("Describe what was done.")}, code="feedback_required")
        stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        alert.feedback = (alert.feedback + "\n\n" if alert.feedback else "") + f"[{stamp} {user}] {feedback}"
        alert.status, alert.handled_by, alert.handled_at = S.IN_HAND, user, timezone.now()
        alert.save()  # before the attachments, which point at it
        ct = ContentType.objects.get_for_model(Alert)
        saved = []
        for f in files or ():
            att = Attachment(enterprise=alert.enterprise, content_type=ct, object_id=alert.pk, kind="evidence",
                             file=f, description=f"{_('Alert')} #{alert.pk}: {getattr(f, 'name', '')}"[:300])
            saved.append(save_attachment(att, user=user).pk)
        step.details = {"attachments": saved}
        _notify([alert.dispatched_by] if alert.dispatched_by_id != user.pk else [], "alert_handled",
                             alert, feedback=feedback, actor=str(user))
    return alert


def close(alert, *, user, outcome, note=""):
    """Close with an outcome (choices.Outcome)."""
    with WORKFLOW.step(alert, "close", user=user) as step:
        alert = step.obj
        if outcome not in Outcome.values:
            raise ValidationError({"outcome": _("Choose an outcome: %(choices)s.") % {
                "choices": ", ".join(Outcome.values)}})
        alert.status, alert.outcome, alert.outcome_note = S.CLOSED, outcome, (note or "").strip()
        alert.closed_by, alert.closed_at, alert.overdue = user, timezone.now(), False
        step.note, step.details = alert.outcome_note, {"outcome": outcome}
        recipients = [u for u in (alert.assignee, alert.dispatched_by) if u is not None and u.pk != user.pk]
        _notify(recipients, "alert_closed", alert, outcome=alert.get_outcome_display(),
                             actor=str(user))
    return alert


def escalate_overdue(today=None):
    """督办: open alerts past their deadline (not yet escalated for this deadline) are flagged, the parent
    organisation of the responsible one is notified (template alert_overdue) and an escalation recorded."""
    today = today or timezone.localdate()
    done = []
    with batched_notifications():  # a parent organisation hears once about all its overdue alerts
        for pk in Alert.objects.overdue(today).filter(overdue=False).values_list("pk", flat=True):
            try:
                with WORKFLOW.step(Alert(pk=pk), "escalate", user=None) as step:
                    alert = step.obj
                    if alert.overdue or alert.deadline is None or alert.deadline >= today:
                        step.skip = True  # someone acted on it meanwhile
                        continue
                    responsible = alert.responsible_organisation
                    parent = responsible.parent if responsible is not None and responsible.parent_id else responsible
                    recipients = list(User.objects.filter(organisation=parent, is_active=True)) if parent else []
                    if alert.assignee is not None:
                        recipients.append(alert.assignee)
                    alert.overdue, alert.escalated_at, alert.escalations = True, timezone.now(), alert.escalations + 1
                    step.action = EventAction.ESCALATE
                    step.note = _("Overdue since %(date)s; escalated to %(org)s.") % {"date": alert.deadline,
                                                                                     "org": parent or "—"}
                    step.details = {"deadline": alert.deadline, "days_overdue": (today - alert.deadline).days,
                                    "responsible": getattr(responsible, "pk", None),
                                    "notified_organisation": getattr(parent, "pk", None),
                                    "recipients": sorted({u.pk for u in recipients})}
                    _notify(recipients, "alert_overdue", alert, organisation=str(parent or ""))
            except InvalidTransition:  # closed meanwhile
                continue
            done.append(alert)
    return done


def allowed_actions(alert, user):
    """The actions this user may take on the alert now (for buttons and forms)."""
    return {action for action in USER_ACTIONS if WORKFLOW.may(alert, action, user)
            and (action != "handle" or _may_handle(alert, user))}


# --------------------------------------------------------------------------------------------------
# reads
# --------------------------------------------------------------------------------------------------
def queue(user, which="mine"):
    """The work queue. mine: open alerts waiting for something this user may do (assigned to them, or
    their organisation's to review / dispatch / handle); organisation: everything of the user's
    organisation (responsible or dispatched to); all: everything in scope."""
    qs = Alert.objects.restrict(user, "view").select_related("enterprise", "enterprise__region", "rule",
                                                             "organisation", "assigned_organisation", "assignee")
    if which == "all":
        return qs
    org = user.organisation_id
    if which == "organisation":
        return qs.filter(Q(organisation_id=org) | Q(assigned_organisation_id=org)) if org else qs.none()
    cond = Q(assignee=user, status__in=[S.DISPATCHED, S.IN_HAND])
    if org:
        if user.has_perm("alerts.review_alert"):
            cond |= Q(organisation_id=org, status=S.RAISED)
        if user.has_perm("alerts.dispatch_alert"):
            cond |= Q(organisation_id=org, status=S.CONFIRMED)
        if user.has_perm("alerts.handle_alert"):
            cond |= Q(assignee__isnull=True, assigned_organisation_id=org, status__in=[S.DISPATCHED, S.IN_HAND])
        if user.has_perm("alerts.close_alert"):
            cond |= (Q(organisation_id=org) | Q(dispatched_by=user)) & Q(status=S.IN_HAND)
    return qs.filter(cond)


def attachments(alert):
    from foodrisk.records.models import Attachment

    return Attachment.objects.filter(content_type=ContentType.objects.get_for_model(Alert), object_id=alert.pk)
