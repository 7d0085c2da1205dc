"""Every write of the indicator library: one transaction, one audit entry with before/after.

Lifecycle: draft → submitted → approved → active → retired.
- Only drafts are edited; each edit is validated by the engine (SpecError → SpecValidationError).
- Approval needs a second person: the approver is neither the creator nor the submitter.
- Activation retires the previously active set of the same scope (one active set per scope,
  also a database constraint) and queues `indicator_set_activated` in its transaction.
- Rollback = a new version whose spec is a copy of a previously approved version, activated at once.
  Design choice: a rollback is **not** re-approved. The copied spec is identical to one that already
  passed two-person approval (we copy it verbatim and record the source version and its approver);
  the rollback itself needs `indicators.activate_indicatorset` and is audited with who did it and why.
  A rollback must be quick when a new version misgrades enterprises.
"""

import copy
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_noop as N_

from foodrisk.core.services import audit, notifications
from foodrisk.core.workflow import Transition, Workflow
from foodrisk.engine import IndicatorSet as EngineSet
from foodrisk.engine import SpecError, list_profiles, profile_dict

from .choices import APPROVED_STATUSES, SetStatus
from .events import indicator_set_activated
from .models import IndicatorSet

AUDITED = ("code", "version", "name", "status", "scope_region", "spec", "profile", "based_on", "change_note",
           "created_by", "submitted_by", "approved_by", "activated_by")


class SpecValidationError(ValidationError):
    """The engine refused the spec; `issues` keeps the engine's (where, field, message) tuples."""

    def __init__(self, issues):
        self.issues = list(issues)
        lines = [f"{w}: {f}: {m}" if f else f"{w}: {m}" for w, f, m in self.issues]
        super().__init__(lines)


# The engine (no Django) reports in English; its messages about unknown or invalid codes are the ones an
# editor most often meets, so they are shown in the user's language. Others stay as the engine wrote them.
ENGINE_MESSAGES = [(re.compile(pattern), text) for pattern, text in [
    (r"unknown indicator (?P<c>.+)", N_("unknown indicator code %(c)s")),
    (r"indicator (?P<c>.+) is disabled; enable it \(weight 0 = signal only\)",
     N_("indicator %(c)s is disabled; enable it (weight 0 = signal only)")),
    (r"unknown op (?P<op>.+) \(one of (?P<choices>.+)\)", N_("unknown operator %(op)s (one of %(choices)s)")),
    (r"unknown table (?P<t>.+) \(one of (?P<choices>.+)\)",
     N_("unknown source table %(t)s (one of %(choices)s)")),
    (r"unknown aggregation (?P<a>.+) \(one of (?P<choices>.+)\)",
     N_("unknown aggregation %(a)s (one of %(choices)s)")),
    (r"unknown business form (?P<b>.+) \(one of (?P<choices>.+)\)",
     N_("unknown business form %(b)s (one of %(choices)s)")),
    (r"unknown value (?P<v>.+?)(?: for \S+)? \(one of (?P<choices>.+)\)",
     N_("unknown value %(v)s (one of %(choices)s)")),
    (r"table (?P<t>\S+) has no column (?P<c>.+)", N_("table %(t)s has no column %(c)s")),
    (r"must be one of (?P<choices>.+)", N_("must be one of %(choices)s")),
    (r"must be lower-case letters, digits and _ \(starting with a letter.*\)",
     N_("Lower-case letters, digits and _ (starting with a letter).")),
    (r"duplicate code", N_("duplicate code")),
    (r"unknown field", N_("unknown field")),
    (r"either equals or min/max, not both", N_("A band has either equals or min/max.")),
]]


def _translate(msg):
    for pattern, text in ENGINE_MESSAGES:
        if m := pattern.fullmatch(msg):
            return _(text) % m.groupdict()
    return msg


def _state(obj):
    return audit.snapshot(obj, fields=AUDITED)


def validate_spec(spec):
    """Return the normalised spec dict (engine's to_dict) or raise SpecValidationError."""
    try:
        return EngineSet.from_dict(spec).to_dict()
    except SpecError as exc:
        issues = exc.issues
    except (TypeError, AttributeError, ValueError) as exc:
        issues = [("indicator set", "", str(exc))]
    raise SpecValidationError([(w, f, _translate(m)) for w, f, m in issues])


def _next_version(code):
    return (IndicatorSet.objects.filter(code=code).aggregate(m=Max("version"))["m"] or 0) + 1


def _stamp(spec, code, version, name=None):
    spec = copy.deepcopy(spec)
    spec["code"], spec["version"] = code, version
    if name:
        spec["name"] = name
    return spec


def _require(user, perm):
    if user is not None and not user.has_perm(perm):
        raise PermissionDenied(perm)


def create_from_profile(profile, *, user, code=None, name=None, scope_region=None, note=""):
    """A new draft seeded from one of the shipped policy profiles (food_2016, food_2022_draft, anhui)."""
    if profile not in list_profiles():
        raise ValidationError(_("Unknown policy profile %(p)s") % {"p": profile})
    raw = profile_dict(profile)
    code = code or raw["code"]
    name = name or raw["name"]
    with transaction.atomic():
        version = _next_version(code)
        spec = validate_spec(_stamp(raw, code, version, name))
        obj = IndicatorSet.objects.create(code=code, version=version, name=name, spec=spec, profile=profile,
                                          scope_region=scope_region, change_note=note, created_by=user)
        audit.record("indicators.indicatorset.create", obj, after=_state(obj), user=user,
                     details={"profile": profile})
    return obj


def copy_version(source, *, user, note="", name=None):
    """A new draft (next version of the same code) starting from any existing version."""
    with transaction.atomic():
        version = _next_version(source.code)
        obj = IndicatorSet.objects.create(
            code=source.code, version=version, name=name or source.name,
            spec=_stamp(source.spec, source.code, version, name or source.name), profile=source.profile,
            scope_region=source.scope_region, based_on=source, change_note=note, created_by=user)
        audit.record("indicators.indicatorset.create", obj, after=_state(obj), user=user,
                     details={"copied_from": source.pk, "copied_version": source.version})
    return obj


def _locked(obj):
    return IndicatorSet.objects.select_for_update().get(pk=obj.pk)


def update_spec(obj, spec, *, user, note=None, name=None, scope_region=False):
    """Replace a draft's spec (validated by the engine). Raises SpecValidationError with the issues."""
    return change_spec(obj, lambda _current: spec, user=user, note=note, name=name, scope_region=scope_region)


def change_spec(obj, change, *, user, note=None, name=None, scope_region=False):
    """The one write path of a draft's spec: `change` gets a copy of the locked row's spec (not the
    caller's possibly stale one) and returns the new spec; nothing is saved if it or validation raises."""
    with transaction.atomic():
        obj = _locked(obj)
        if obj.status != SetStatus.DRAFT:
            raise ValidationError(_("Only drafts can be edited; copy this version to change it."))
        before = _state(obj)
        spec = change(copy.deepcopy(obj.spec))
        if not isinstance(spec, dict):
            raise SpecValidationError([("indicator set", "", _("The specification must be a JSON object."))])
        name = name or obj.name
        obj.spec = validate_spec(_stamp(spec, obj.code, obj.version, name))
        obj.name = name
        if note is not None:
            obj.change_note = note
        if scope_region is not False:
            obj.scope_region = scope_region
        obj.save()
        audit.record("indicators.indicatorset.update", obj, before=before, after=_state(obj), user=user)
    return obj


def _index(items, code, missing):
    for i, item in enumerate(items):
        if isinstance(item, dict) and item.get("code") == code:
            return i
    raise ValidationError(missing % {"c": code}, code="unknown_code")


def _replace(part, missing, code, item):
    def change(spec):
        items = spec.setdefault(part, [])
        if code is None:
            items.append(item)
        else:
            items[_index(items, code, missing)] = item
        return spec
    return change


def _remove(part, missing, code):
    def change(spec):
        items = spec.setdefault(part, [])
        del items[_index(items, code, missing)]
        return spec
    return change


def replace_indicator(obj, code, indicator, *, user):
    """Edit (code given) or add (code None) one indicator of a draft; an unknown code is an error."""
    return change_spec(obj, _replace("indicators", _("No indicator %(c)s in this set"), code, indicator), user=user)


def remove_indicator(obj, code, *, user):
    return change_spec(obj, _remove("indicators", _("No indicator %(c)s in this set"), code), user=user)


def replace_rule(obj, code, rule, *, user):
    """Edit (code given) or add (code None) one policy rule of a draft; an unknown code is an error."""
    return change_spec(obj, _replace("rules", _("No rule %(c)s in this set"), code, rule), user=user)


def remove_rule(obj, code, *, user):
    return change_spec(obj, _remove("rules", _("No rule %(c)s in this set"), code), user=user)


SETS = Workflow(
    IndicatorSet,
    {"submit": Transition({SetStatus.DRAFT}, label=gettext_lazy("submit")),
     "approve": Transition({SetStatus.SUBMITTED}, "indicators.approve_indicatorset",
                           second_person=("created_by", "submitted_by"), label=gettext_lazy("approve")),
     "reject": Transition({SetStatus.SUBMITTED}, "indicators.approve_indicatorset", label=gettext_lazy("send back")),
     "activate": Transition({SetStatus.APPROVED}, "indicators.activate_indicatorset", label=gettext_lazy("activate")),
     "retire": Transition({SetStatus.ACTIVE}, "indicators.activate_indicatorset", label=gettext_lazy("retire")),
     "delete": Transition({SetStatus.DRAFT}, label=gettext_lazy("delete"))},
    audit_as="indicators.indicatorset", state_fields=AUDITED)


def submit(obj, *, user, note=""):
    with SETS.step(obj, "submit", user=user, note=note) as step:
        obj = step.obj
        validate_spec(obj.spec)
        obj.status, obj.submitted_by, obj.submitted_at = SetStatus.SUBMITTED, user, timezone.now()
        step.details = {"note": note}
        notifications.ask_approval(obj, "indicators.approve_indicatorset", requester=user,
                                   region_code=obj.scope_region_id)
    return obj


def approve(obj, *, user, note=""):
    """Second-person approval: the approver may be neither the creator nor the submitter."""
    with SETS.step(obj, "approve", user=user, note=note) as step:
        obj = step.obj
        obj.status, obj.approved_by, obj.approved_at = SetStatus.APPROVED, user, timezone.now()
        step.details = {"note": note}
    return obj


def reject(obj, *, user, note=""):
    with SETS.step(obj, "reject", user=user, note=note) as step:
        obj = step.obj
        obj.status, obj.submitted_by, obj.submitted_at = SetStatus.DRAFT, None, None
        step.details = {"note": note}
    return obj


GRADING_KEYS = ("blend", "cutoffs", "grades")  # what turns scores into grades


def grading_changes(obj, previous):
    """Does ``obj`` grade its scope differently from ``previous`` (the set it replaces, else the national set
    that grades the scope now)? A change of blend or cut-offs is published only on an impact preview."""
    if previous is None and obj.scope_region_id is not None:
        previous = IndicatorSet.objects.filter(status=SetStatus.ACTIVE, scope_region__isnull=True).first()
    if previous is None:  # nothing graded yet: nothing to compare with
        return False
    return any((obj.spec.get(k) or None) != (previous.spec.get(k) or None) for k in GRADING_KEYS)


def activate(obj, *, user, note="", confirmed=False, previewed_as=None):
    """Make an approved set the active one of its scope; the previous active set of that scope retires.

    A set that changes the blend or the grade cut-offs (grading_changes) needs a fresh impact preview of that
    version (of ``previewed_as`` for a rollback: the version whose spec is restored) and ``confirmed``."""
    from foodrisk.scoring.services import set_preview_problem

    with SETS.step(obj, "activate", user=user, note=note) as step:
        obj = step.obj
        now = timezone.now()
        previous = (IndicatorSet.objects.select_for_update()
                    .filter(status=SetStatus.ACTIVE, scope_region=obj.scope_region).exclude(pk=obj.pk).first())
        if grading_changes(obj, previous):
            problem = set_preview_problem(previewed_as or obj)
            if problem:
                raise ValidationError(problem)
            if not confirmed:
                raise ValidationError(_("This version changes the blend or the grade cut-offs: confirm that you "
                                        "have checked its impact preview."))
        if previous is not None:
            with SETS.step(previous, "retire", user=user) as retiring:
                retiring.obj.status, retiring.obj.retired_at = SetStatus.RETIRED, now
                retiring.details = {"replaced_by": obj.pk}
        obj.status, obj.activated_by, obj.activated_at = SetStatus.ACTIVE, user, now
        obj.save()  # one active set per scope: saved after the previous one retired
        step.details = {"note": note, "retired": previous.pk if previous else None}
        indicator_set_activated(obj, previous, user)
    return obj


def rollback(target, *, user, note="", confirmed=False):
    """Activate a verbatim copy of a previously approved version (no re-approval, see module doc)."""
    _require(user, "indicators.activate_indicatorset")
    if target.status not in APPROVED_STATUSES or target.approved_by_id is None:
        raise ValidationError(_("Only a version that was approved can be rolled back to."))
    with transaction.atomic():
        version = _next_version(target.code)
        obj = IndicatorSet.objects.create(
            code=target.code, version=version, name=target.name,
            spec=_stamp(target.spec, target.code, version, target.name), profile=target.profile,
            scope_region=target.scope_region, based_on=target, created_by=user, status=SetStatus.APPROVED,
            approved_by=target.approved_by, approved_at=timezone.now(),
            change_note=note or _("Rollback to version %(v)s") % {"v": target.version})
        audit.record("indicators.indicatorset.rollback", obj, after=_state(obj), user=user,
                     details={"rolled_back_to": target.pk, "version": target.version,
                              "original_approver": target.approved_by_id, "note": note})
        return activate(obj, user=user, note=note, confirmed=confirmed, previewed_as=target)


def bootstrap_profile(profile="food_2016"):
    """First installation / demo only: activate a shipped profile without a second person.

    Allowed only while no indicator set has ever been activated (an empty library); the entry is
    audited as `indicators.indicatorset.bootstrap`. Every later change goes through two-person approval.
    """
    with transaction.atomic():
        if IndicatorSet.objects.filter(status__in=APPROVED_STATUSES).exists():
            raise ValidationError(_("The indicator library is already in use: bootstrap is refused."))
        obj = create_from_profile(profile, user=None, note=_("Activated at the first installation (no second person yet)."))
        now = timezone.now()
        obj.status, obj.approved_at, obj.activated_at = SetStatus.ACTIVE, now, now
        obj.save()
        audit.record("indicators.indicatorset.bootstrap", obj, after=_state(obj), details={"profile": profile})
    return obj


def delete_draft(obj, *, user):
    with SETS.step(obj, "delete", user=user) as step:
        step.delete = True


def active_sets():
    """Active sets, most specific scope first (longest region prefix), global (scope null) last."""
    from foodrisk.core.querysets import region_prefix

    sets = list(IndicatorSet.objects.filter(status=SetStatus.ACTIVE).select_related("scope_region"))
    return sorted(sets, key=lambda s: -len(region_prefix(s.scope_region_id or "")))
