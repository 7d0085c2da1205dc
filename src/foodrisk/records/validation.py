"""Checks every record write shares (forms and API): no future event dates, ends not before starts,
amounts not negative. `problems(model, values)` returns {field: message}."""

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Complaint, CreditRepair, Inspection, ListEntry, Penalty, SamplingTest

NO_FUTURE = {
    Inspection: ["inspected_on"],
    SamplingTest: ["sampled_on"],
    Penalty: ["decided_on"],
    Complaint: ["received_on"],
    CreditRepair: ["applied_on", "decided_on"],
    ListEntry: ["listed_on", "removed_on"],
}
# (start, end, message on the end field)
ORDER = {
    Penalty: [("decided_on", "publicity_until", _("The publicity end cannot be before the decision date."))],
    CreditRepair: [("applied_on", "decided_on", _("The decision cannot be before the application date."))],
    ListEntry: [("listed_on", "removed_on", _("The removal date cannot be before the listing date."))],
}
AMOUNTS = {Penalty: ["fine", "confiscation"]}
COUNTS = {Inspection: ["key_items_failed", "general_items_failed"]}

FUTURE_MESSAGE = _("The date cannot be in the future (today is %(today)s).")


def problems(model, values):
    today = timezone.localdate()
    out = {}
    for field in NO_FUTURE.get(model, ()):
        value = values.get(field)
        if value and value > today:
            out[field] = FUTURE_MESSAGE % {"today": today.isoformat()}
    for start, end, message in ORDER.get(model, ()):
        a, b = values.get(start), values.get(end)
        if a and b and b < a and end not in out:
            out[end] = message
    for field in AMOUNTS.get(model, ()):
        value = values.get(field)
        if value is not None and Decimal(value) < 0:
            out[field] = _("The amount cannot be negative.")
    for field in COUNTS.get(model, ()):
        value = values.get(field)
        if value is not None and value < 0:
            out[field] = _("The count cannot be negative.")
    return out
