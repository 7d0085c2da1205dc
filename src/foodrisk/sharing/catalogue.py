"""The share catalogue (共享目录): the datasets other government systems may receive, each with its field
dictionary (label, meaning, sensitivity). Declared here as data; a client's grant names datasets and fields
from it (minimum necessary), and the API sends nothing else. A dataset's version changes when a field's
meaning changes; clients see it in every answer.

Each dataset also declares how it is read, so that one mechanism (services.dataset_rows and its callers: the
lookup, pages, the `since` cursor, the streamed changes, exchange files, webhook payloads) serves them all:

- `source()`: the queryset of its rows (one row = one enterprise, one warning, one task…);
- each field's `column`: the values() path it is read from (relative to the source's model), and `read`: how the
  stored value becomes the answer's (a time in Beijing time, an empty code as null);
- `region` / `uscc`: the paths of the row's enterprise region code and USCC (region scope, lookup by USCC);
- `changes()` / `change_row`: a change log whose primary key only grows (the `since` cursor) and the path from a
  change to the row it changed. A row changed twice after the cursor is sent once, in its latest state.
"""

from dataclasses import dataclass

from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PUBLIC, INTERNAL, SENSITIVE = "public", "internal", "sensitive"
SENSITIVITY_LABELS = {PUBLIC: _("public"), INTERNAL: _("internal"), SENSITIVE: _("sensitive (masked unless granted)")}


def as_time(value):
    return timezone.localtime(value).isoformat() if value else None


def as_date(value):
    return value.isoformat() if value else None


def or_null(value):
    return value or None


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    sensitivity: str
    description: str = ""
    column: str = ""  # values() path on the source; the field's name when empty
    read: object = None  # stored value → answered value; as stored when None

    @property
    def path(self):
        return self.column or self.name


@dataclass(frozen=True)
class Dataset:
    code: str
    label: str
    version: int
    description: str
    fields: tuple
    source: object = None  # () → queryset of the rows
    region: str = "region__code"
    uscc: str = "uscc"
    changes: object = None  # () → queryset of the change log
    change_row: str = "enterprise_id"
    change_region: str = "enterprise__region__code"

    def field(self, name):
        return next((f for f in self.fields if f.name == name), None)

    @property
    def field_names(self):
        return [f.name for f in self.fields]


def _enterprises():
    from foodrisk.enterprises.models import Enterprise

    return Enterprise.objects.all()


def _grade_changes():
    from foodrisk.scoring.models import GradeChange

    return GradeChange.objects.all()


def _enterprises_with_reasons():
    """Each enterprise with the reasons of its current grade: those written with the change that set it (a run's
    explanation or an adjustment's reason), so they never describe a grade the enterprise no longer has; and the
    model's contributions of its latest score (the (enterprise, -run) index finds it)."""
    from foodrisk.scoring.models import GradeChange, Score

    latest = GradeChange.objects.filter(enterprise=OuterRef("pk")).order_by("-at", "-pk")
    # by the run's id: "-run" would follow ScoringRun's own ordering (its start time), not the latest run
    score = Score.objects.filter(enterprise=OuterRef("pk")).order_by("-run_id")
    return _enterprises().annotate(current_reasons=Subquery(latest.values("reasons")[:1]),
                                   reasons_at=Subquery(latest.values("at")[:1]),
                                   current_model_reasons=Subquery(score.values("model_reasons")[:1]))


def _alerts():
    from foodrisk.alerts.models import Alert

    return Alert.objects.all()


def _alert_events():
    from foodrisk.alerts.models import AlertEvent

    return AlertEvent.objects.all()


def _tasks():
    from foodrisk.supervision.models import Task

    return Task.objects.all()


def _task_changes():
    from foodrisk.supervision.models import TaskChange

    return TaskChange.objects.all()


def _reasons(value):
    return list(value or [])


def identity(path=""):
    """The enterprise's identity, first in every dataset's rows (`path`: from the row to its enterprise)."""
    return (Field("uscc", _("unified social credit code"), PUBLIC, column=f"{path}uscc" if path else ""),
            Field("name", _("name"), PUBLIC, column=f"{path}name" if path else ""))


GRADE = Field("grade", _("credit-risk grade A/B/C/D"), INTERNAL, column="current_grade", read=or_null)


ENTERPRISE_GRADE = Dataset(
    "enterprise_grade", _("Enterprise credit-risk grade"), 1,
    _("One row per enterprise: identity, current grade and score, risk labels. Incremental pulls follow grade "
      "changes (cursor = the last change number received)."),
    (
        *identity(),
        Field("region", _("region code (GB/T 2260)"), PUBLIC, column="region_id"),
        Field("business_form", _("business form (code)"), PUBLIC),
        Field("status", _("operating status (code)"), PUBLIC),
        GRADE,
        Field("score", _("risk score"), INTERNAL, column="current_score"),
        Field("graded_at", _("time of grading (ISO 8601, Beijing time)"), INTERNAL, read=as_time),
        Field("risk_labels", _("risk labels"), INTERNAL),
        Field("key_supervision", _("under key supervision"), INTERNAL),
        Field("legal_representative", _("legal representative"), SENSITIVE),
    ),
    source=_enterprises, changes=_grade_changes,
)

ENTERPRISE_REASONS = Dataset(
    "enterprise_reasons", _("Reasons of the current grade"), 1,
    _("One row per enterprise: the explanation of its current grade, in Chinese sentences, as written when the "
      "grade was set, and the model's reasons of its latest score. Incremental pulls follow grade changes, like "
      "the grade dataset (model reasons that changed without a grade change are in the pages)."),
    (
        *identity(),
        GRADE,
        Field("reasons", _("reasons (Chinese sentences, most important first)"), INTERNAL,
              column="current_reasons", read=_reasons),
        Field("model_reasons", _("model reasons of the latest score (Chinese sentences, each with the sign and size "
                                 "of its contribution)"), INTERNAL, column="current_model_reasons", read=_reasons),
        Field("reasons_at", _("time the reasons were written (ISO 8601, Beijing time)"), INTERNAL, read=as_time),
    ),
    source=_enterprises_with_reasons, changes=_grade_changes,
)

WARNINGS = Dataset(
    "warnings", _("Risk warnings"), 1,
    _("One row per warning: the enterprise, the kind and colour, its status from raising to closing, and the "
      "handling result. Incremental pulls follow every step of a warning (cursor = the last event number)."),
    (
        Field("id", _("warning number"), PUBLIC, column="pk"),
        *identity("enterprise__"),
        Field("kind", _("warning kind (code)"), INTERNAL, column="rule__kind"),
        Field("level", _("warning level red/orange/yellow/blue"), INTERNAL),
        Field("status", _("warning status (code)"), INTERNAL),
        Field("summary", _("summary"), INTERNAL),
        Field("raised_at", _("time raised (ISO 8601, Beijing time)"), INTERNAL, read=as_time),
        Field("deadline", _("handling deadline"), INTERNAL, read=as_date),
        Field("closed_at", _("time closed (ISO 8601, Beijing time)"), INTERNAL, read=as_time),
        Field("result", _("handling result (code)"), INTERNAL, column="outcome", read=or_null),
        Field("result_note", _("handling result note"), SENSITIVE, column="outcome_note"),
    ),
    source=_alerts, region="enterprise__region__code", uscc="enterprise__uscc", changes=_alert_events,
    change_row="alert_id", change_region="alert__enterprise__region__code",
)

MEASURES = Dataset(
    "measures", _("Supervision measures"), 1,
    _("One row per supervision task (inspection, interview, rectification order, credit-repair follow-up): its "
      "status, due date, completion and outcome. Incremental pulls follow every step of a task (cursor = the "
      "last task change number)."),
    (
        Field("id", _("task number"), PUBLIC, column="pk"),
        *identity("enterprise__"),
        Field("kind", _("measure kind (code)"), INTERNAL),
        Field("status", _("task status (code)"), INTERNAL),
        Field("due", _("due date"), INTERNAL, column="due_on", read=as_date),
        Field("done", _("time completed (ISO 8601, Beijing time)"), INTERNAL, column="completed_at", read=as_time),
        Field("result", _("outcome / rectification result"), SENSITIVE, column="outcome"),
    ),
    source=_tasks, region="enterprise__region__code", uscc="enterprise__uscc", changes=_task_changes,
    change_row="task_id", change_region="task__enterprise__region__code",
)

DATASETS = {d.code: d for d in (ENTERPRISE_GRADE, ENTERPRISE_REASONS, WARNINGS, MEASURES)}


def dataset_choices():
    return [(d.code, d.label) for d in DATASETS.values()]
