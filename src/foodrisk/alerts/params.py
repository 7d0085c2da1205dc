"""Parameters of each warning-rule kind: defaults, types and validation with clear messages.

`validate_params(kind, params)` returns the parameters completed with defaults, or raises
ValidationError naming the parameter and what is wrong. Forms, the API and the services share it.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodrisk.enterprises.choices import Grade
from foodrisk.records.choices import InspectionResult, ListKind, Severity
from foodrisk.records.models import RECORD_KINDS as RECORD_MODELS

from .choices import RuleKind

# options are (value, label) pairs: the value is stored, the label is what the form and the summary show
GRADES = Grade.choices
RECORD_KINDS = [(kind, model._meta.verbose_name) for kind, model in RECORD_MODELS.items()]
SEVERITIES = Severity.choices
INSPECTION_RESULTS = [(r.value, r.label) for r in (InspectionResult.FAIL, InspectionResult.BASIC)]
LISTS = ListKind.choices


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # "int", "number", "bool", "choices" (a list of allowed values), "choice"
    default: object
    help: str
    minimum: float | None = None
    options: tuple = ()  # (value, label) pairs
    label: str = ""

    @property
    def values(self):
        return tuple(value for value, _label in self.options)

    def display(self, value):
        """The value as a business user reads it: 是/否, option labels, 不限 for an empty list."""
        labels = dict(self.options)
        if self.type == "bool":
            return _("Yes") if value else _("No")
        if self.type == "choice":
            return str(labels.get(value, value))
        if self.type == "choices":
            return "、".join(str(labels.get(v, v)) for v in value) if value else _("Any")
        return str(value)


def _p(name, type_, default, help_, minimum=None, options=(), *, label):
    return Param(name, type_, default, help_, minimum, tuple(options), label)


LOOKBACK = _p("lookback_days", "int", 30, gettext_lazy("Only records dated within this many days before today raise "
                                                       "an alert (old records loaded later do not)."), 1,
              label=gettext_lazy("Look back (days)"))

SCHEMAS = {
    RuleKind.GRADE_DROP: [
        _p("min_steps", "int", 1, gettext_lazy("Fires when the grade worsens by at least this many steps (A→B = 1)."), 1,
           label=gettext_lazy("Minimum drop (grades)")),
        _p("to_grades", "choices", [], gettext_lazy("Only when the new grade is one of these (empty = any)."),
           options=GRADES, label=gettext_lazy("New grade")),
        _p("include_first_grading", "bool", False,
           gettext_lazy("Also fire when a never-graded enterprise is first graded into one of the grades above."),
           label=gettext_lazy("Include first grading")),
    ],
    RuleKind.INDICATOR_JUMP: [
        _p("record_kind", "choice", "complaints", gettext_lazy("Which records are counted."), options=RECORD_KINDS,
           label=gettext_lazy("Records counted")),
        _p("period_days", "int", 90, gettext_lazy("Length of the current and of the previous period (days)."), 1,
           label=gettext_lazy("Period (days)")),
        _p("factor", "number", 3, gettext_lazy("Fires when current count ≥ factor × previous count."), 1,
           label=gettext_lazy("Factor")),
        _p("min_count", "int", 3, gettext_lazy("…and the current count is at least this."), 1,
           label=gettext_lazy("Minimum count")),
    ],
    RuleKind.COMPLAINT_CLUSTER: [
        _p("count", "int", 3, gettext_lazy("Number of complaints …"), 2, label=gettext_lazy("Number of complaints")),
        _p("days", "int", 30, gettext_lazy("… received within this many days."), 1, label=gettext_lazy("Days")),
        _p("verified_only", "bool", True, gettext_lazy("Count verified complaints only."),
           label=gettext_lazy("Verified only")),
    ],
    RuleKind.NEW_PENALTY: [
        _p("severities", "choices", [], gettext_lazy("Only these severities (empty = any)."), options=SEVERITIES,
           label=gettext_lazy("Severities")),
        _p("min_fine", "number", 0, gettext_lazy("Only fines of at least this many yuan."), 0,
           label=gettext_lazy("Minimum fine (yuan)")),
        LOOKBACK,
    ],
    RuleKind.FAILED_INSPECTION: [
        _p("results", "choices", ["fail"], gettext_lazy("Inspection results that count as failed."),
           options=INSPECTION_RESULTS, label=gettext_lazy("Inspection results")),
        _p("min_key_items_failed", "int", 0, gettext_lazy("Only when at least this many key items failed."), 0,
           label=gettext_lazy("Minimum failed key items")),
        LOOKBACK,
    ],
    RuleKind.FAILED_SAMPLING: [LOOKBACK],
    RuleKind.LICENCE_EXPIRING: [
        _p("days", "int", 30, gettext_lazy("Fires when a valid licence expires within this many days."), 1,
           label=gettext_lazy("Days before expiry")),
    ],
    RuleKind.LICENCE_EXPIRED: [
        _p("grace_days", "int", 0, gettext_lazy("Fires this many days after expiry without renewal."), 0,
           label=gettext_lazy("Days after expiry")),
    ],
    RuleKind.REPAIR_REJECTED: [LOOKBACK],
    RuleKind.REPAIR_LAPSED: [
        _p("pending_days", "int", 30,
           gettext_lazy("Fires when an application is still undecided this many days after it was made."), 1,
           label=gettext_lazy("Days pending")),
    ],
    RuleKind.LISTED: [
        _p("lists", "choices", ["abnormal", "serious"], gettext_lazy("Which lists."), options=LISTS,
           label=gettext_lazy("Lists")),
        LOOKBACK,
    ],
}

# which record kinds each rule kind reacts to (records_changed); None = not record-driven
RECORD_TRIGGERS = {
    RuleKind.COMPLAINT_CLUSTER: {"complaints"},
    RuleKind.NEW_PENALTY: {"penalties"},
    RuleKind.FAILED_INSPECTION: {"inspections"},
    RuleKind.FAILED_SAMPLING: {"sampling_tests"},
    RuleKind.REPAIR_REJECTED: {"credit_repairs"},
    RuleKind.LISTED: {"list_entries"},
}
TIME_BASED = {RuleKind.LICENCE_EXPIRING, RuleKind.LICENCE_EXPIRED, RuleKind.REPAIR_LAPSED}


def triggers(kind, params):
    if kind == RuleKind.INDICATOR_JUMP:
        return {params.get("record_kind", "complaints")}
    return RECORD_TRIGGERS.get(kind, set())


def defaults(kind):
    return {p.name: (list(p.default) if isinstance(p.default, list) else p.default) for p in SCHEMAS[kind]}


def describe(kind):
    """Human help for a kind's parameters (forms and the API docs)."""
    return "; ".join(f"{p.name} ({p.help}, default {p.default!r})" for p in SCHEMAS.get(kind, []))


def summary(kind, params):
    """A rule's parameters as readable text for the pages ("天数：30；仅已核实：是"), in the schema's order;
    a missing key reads as its default, a key the kind does not know is left out (validate_params refuses it)."""
    values = {**defaults(kind), **(params or {})} if kind in SCHEMAS else {}
    return "；".join(f"{p.label}：{p.display(values[p.name])}" for p in SCHEMAS.get(kind, []))


# the values an alert's evidence records (rules.py) that are not a parameter of its kind under the same name
EVIDENCE_LABELS = {
    "threshold": gettext_lazy("threshold"),
    "current": gettext_lazy("Current period"),
    "previous": gettext_lazy("Previous period"),
    "current_from": gettext_lazy("Current period from"),
    "previous_from": gettext_lazy("Previous period from"),
    "days_left": gettext_lazy("Days left"),
    "days_overdue": gettext_lazy("Days overdue"),
    "days_pending": gettext_lazy("Days pending"),
    "limit_days": gettext_lazy("Time limit (days)"),
}
EVIDENCE_PARAMS = {"within_days": "days"}  # evidence name → the parameter it repeats


def evidence_values(kind, values):
    """An alert's evidence values as (label, value) rows for the pages: a parameter of the kind reads with its label
    and display (选项的名称), the other values with EVIDENCE_LABELS; a name neither knows is shown as it is."""
    schema = {p.name: p for p in SCHEMAS.get(kind, [])}
    rows = []
    for name, value in (values or {}).items():
        param = schema.get(EVIDENCE_PARAMS.get(name, name))
        if param is not None:
            rows.append((param.label, param.display(value)))
        else:
            rows.append((EVIDENCE_LABELS.get(name, name), value))
    return rows


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _check(param, value):
    """Return the cleaned value or an error message."""
    name = param.name
    if param.type == "int":
        if not _is_int(value):
            return None, _("“%(name)s” must be a whole number.") % {"name": name}
    elif param.type == "number":
        if not (_is_int(value) or isinstance(value, float)):
            return None, _("“%(name)s” must be a number.") % {"name": name}
    elif param.type == "bool":
        if not isinstance(value, bool):
            return None, _("“%(name)s” must be true or false.") % {"name": name}
    elif param.type == "choice":
        if value not in param.values:
            return None, _("“%(name)s” must be one of %(options)s, not %(value)r.") % {
                "name": name, "options": ", ".join(param.values), "value": value}
    elif param.type == "choices":
        if not isinstance(value, list):
            return None, _("“%(name)s” must be a list.") % {"name": name}
        bad = [v for v in value if v not in param.values]
        if bad:
            return None, _("“%(name)s” contains %(bad)s; allowed: %(options)s.") % {
                "name": name, "bad": ", ".join(map(str, bad)), "options": ", ".join(param.values)}
    if param.minimum is not None and param.type in ("int", "number") and value < param.minimum:
        return None, _("“%(name)s” must be at least %(min)s.") % {"name": name, "min": param.minimum}
    return value, None


def validate_params(kind, params):
    if kind not in SCHEMAS:
        raise ValidationError({"kind": _("Unknown rule kind %(kind)r.") % {"kind": kind}})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValidationError({"params": _("Parameters must be a JSON object, e.g. {\"days\": 30}.")})
    schema = {p.name: p for p in SCHEMAS[kind]}
    errors = []
    unknown = sorted(set(params) - set(schema))
    if unknown:
        errors.append(_("Unknown parameter(s) %(unknown)s for kind “%(kind)s”; allowed: %(allowed)s.") % {
            "unknown": ", ".join(unknown), "kind": kind, "allowed": ", ".join(schema) or "—"})
    cleaned = defaults(kind)
    for name, value in params.items():
        if name not in schema:
            continue
        value, error = _check(schema[name], value)
        if error:
            errors.append(error)
        else:
            cleaned[name] = value
    if errors:
        raise ValidationError({"params": errors})
    return cleaned
