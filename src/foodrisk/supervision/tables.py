import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import (
    ConflictOfInterest,
    InspectionPlan,
    InspectorAbsence,
    PlanItem,
    RandomDraw,
    RepairCase,
    Task,
)

ATTRS = {"class": "table table-sm table-hover align-middle"}


def grade_badge(value):
    return format_html('<span class="grade grade-{0}">{0}</span>', value) if value else "—"


class TaskTable(tables.Table):
    id = tables.Column(linkify=True, verbose_name="#")
    enterprise = tables.Column(linkify=lambda record: record.enterprise.get_absolute_url())
    overdue = tables.BooleanColumn(accessor="is_overdue", verbose_name=_("overdue"), orderable=False)

    class Meta:
        model = Task
        fields = ("id", "kind", "enterprise", "title", "organisation", "assignee", "second_assignee", "due_on",
                  "status", "overdue", "source", "created_at")
        attrs = ATTRS
        row_attrs = {"class": lambda record: "table-danger" if record.is_overdue else ""}


class RepairCaseTable(tables.Table):
    id = tables.Column(linkify=True, verbose_name="#")
    enterprise = tables.Column(linkify=lambda record: record.enterprise.get_absolute_url())
    target = tables.Column(accessor="target_label", verbose_name=_("target"), orderable=False)

    class Meta:
        model = RepairCase
        fields = ("id", "enterprise", "target", "applied_on", "status", "recorded_by", "reviewed_by", "decided_by",
                  "decided_at")
        attrs = ATTRS


class InspectionPlanTable(tables.Table):
    name = tables.Column(linkify=True)

    class Meta:
        model = InspectionPlan
        fields = ("name", "organisation", "profile", "period_start", "period_end", "enterprise_count",
                  "capacity", "required_total", "planned_total", "uncovered_total", "created_by", "created_at")
        attrs = ATTRS


class PlanItemTable(tables.Table):
    enterprise = tables.Column(linkify=lambda record: record.enterprise.get_absolute_url())
    reasons = tables.Column(orderable=False)

    class Meta:
        model = PlanItem
        fields = ("rank", "enterprise", "grade", "key_supervision", "frequency", "last_full_inspection",
                  "floor_due", "done", "required", "planned", "uncovered", "reasons")
        attrs = ATTRS
        row_attrs = {"class": lambda record: "table-warning" if record.uncovered else ""}

    def render_grade(self, value):
        return grade_badge(value)

    def value_grade(self, value):
        return value

    def render_reasons(self, value):
        return "；".join(value or [])


class RandomDrawTable(tables.Table):
    id = tables.Column(linkify=True, verbose_name="#")

    class Meta:
        model = RandomDraw
        fields = ("id", "name", "organisation", "profile", "seed", "period_start", "period_end",
                  "population_counts", "selected_counts", "unassigned", "tasks_created", "created_by", "created_at")
        attrs = ATTRS


class ConflictTable(tables.Table):
    id = tables.Column(linkify=True, verbose_name="#")

    class Meta:
        model = ConflictOfInterest
        fields = ("id", "inspector", "enterprise", "reason", "declared_on", "active")
        attrs = ATTRS


class AbsenceTable(tables.Table):
    id = tables.Column(linkify=True, verbose_name="#")

    class Meta:
        model = InspectorAbsence
        fields = ("id", "user", "user__organisation", "start", "end", "reason")
        attrs = ATTRS
