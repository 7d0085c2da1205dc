"""Measures by grade: the active SupervisionProfile and what it means for one enterprise."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from foodrisk.core.services import audit

from ..choices import GRADES, Measure
from ..models import SupervisionProfile
from . import add_months


def active_profile():
    return SupervisionProfile.objects.filter(active=True).first() or SupervisionProfile.objects.first()


def validate(profile):
    errors = []
    for grade in GRADES:
        for field in ("min_per_year", "sampling_ratios"):
            value = getattr(profile, field).get(grade)
            if value is None:
                errors.append(_("%(field)s: grade %(grade)s is missing.") % {"field": field, "grade": grade})
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                errors.append(_("%(field)s: grade %(grade)s is not a number.") % {"field": field, "grade": grade})
                continue
            if number < 0 or (field == "sampling_ratios" and number > 1):
                errors.append(_("%(field)s: grade %(grade)s is out of range.") % {"field": field, "grade": grade})
        for code in profile.measures.get(grade, []):
            if code not in Measure.values:
                errors.append(_("Unknown measure %(code)s.") % {"code": code})
    if errors:
        raise ValidationError(errors)


def _state(profile):
    return audit.snapshot(profile)


def save_profile(profile, *, user):
    validate(profile)
    creating = profile._state.adding
    before = None if creating else _state(SupervisionProfile.objects.get(pk=profile.pk))
    with transaction.atomic():
        if profile.active:
            SupervisionProfile.objects.exclude(pk=profile.pk).filter(active=True).update(active=False)
        profile.save()
        audit.record(f"supervision.profile.{'create' if creating else 'update'}", profile, before=before,
                     after=_state(profile), user=user)
    return profile


def activate(profile, *, user):
    with transaction.atomic():
        previous = SupervisionProfile.objects.filter(active=True).exclude(pk=profile.pk).first()
        SupervisionProfile.objects.filter(active=True).update(active=False)
        profile.active = True
        profile.save(update_fields=["active", "updated_at"])
        audit.record("supervision.profile.activate", profile, user=user,
                     details={"previous": getattr(previous, "code", None)})
    return profile


def last_full_inspection(enterprise, profile, before=None):
    from foodrisk.records.models import Inspection

    qs = Inspection.objects.filter(enterprise=enterprise, kind__in=profile.full_inspection_kinds or ["routine"])
    if before is not None:
        qs = qs.filter(inspected_on__lte=before)
    return qs.order_by("-inspected_on").values_list("inspected_on", flat=True).first()


def measures_for(enterprise, profile=None, today=None):
    """What the active policy asks for this enterprise: frequency, ratio, measures, floor, key supervision."""
    profile = profile or active_profile()
    if profile is None:
        return None
    today = today or timezone.localdate()
    grade = enterprise.current_grade or ""
    effective = grade or "B"
    key = profile.is_key(enterprise, effective)
    last = last_full_inspection(enterprise, profile, today)
    floor_due_on = add_months(last, profile.floor_months) if last else None
    labels = dict(Measure.choices)
    return {
        "profile": profile,
        "grade": grade,
        "key": key,
        "frequency": profile.frequency(effective, key),
        "min_frequency": profile.frequency(effective),
        "ratio": profile.ratio(effective),
        "measures": [{"code": c, "label": labels.get(c, c)} for c in profile.measures.get(effective, [])],
        "last_full_inspection": last,
        "floor_due_on": floor_due_on,
        "floor_overdue": last is None or floor_due_on < today,
    }
