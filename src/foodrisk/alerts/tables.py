import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import Alert, WarningRule

LEVEL_CLASSES = {"red": "text-bg-danger", "orange": "text-bg-warning", "yellow": "bg-warning-subtle text-warning-emphasis",
                 "blue": "text-bg-primary"}


def level_badge(record):
    return format_html('<span class="badge {}">{}</span>', LEVEL_CLASSES.get(record.level, "text-bg-secondary"),
                       record.get_level_display())


class AlertTable(tables.Table):
    id = tables.Column(linkify=True, verbose_name="#")
    level = tables.Column()
    enterprise = tables.Column(linkify=lambda record: record.get_absolute_url())
    region = tables.Column(accessor="enterprise__region__name", verbose_name=_("region"))
    grade = tables.Column(accessor="enterprise__current_grade", verbose_name=_("grade"))
    rule = tables.Column()

    class Meta:
        model = Alert
        fields = ("id", "level", "enterprise", "region", "grade", "rule", "summary", "status", "occurrences",
                  "raised_at", "deadline", "overdue", "organisation", "assigned_organisation", "assignee")
        attrs = {"class": "table table-sm table-hover"}

    def render_level(self, record):
        return level_badge(record)

    def value_level(self, record):
        return record.get_level_display()

    def value_id(self, record):
        return str(record)  # exports name the alert ("#12 enterprise · rule")

    def render_deadline(self, record, value):
        if record.is_overdue:
            return format_html('<span class="text-danger fw-semibold">{}</span>', value)
        return value


class WarningRuleTable(tables.Table):
    name = tables.Column(linkify=True)
    level = tables.Column()

    class Meta:
        model = WarningRule
        fields = ("code", "name", "kind", "level", "target", "deadline_days", "enabled", "params")
        attrs = {"class": "table table-sm table-hover"}

    def render_level(self, record):
        return level_badge(record)

    def value_level(self, record):
        return record.get_level_display()
