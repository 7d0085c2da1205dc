import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import Alert, WarningRule
from .params import summary as params_summary

LEVEL_CLASSES = {"red": "text-bg-danger", "orange": "text-bg-warning", "yellow": "bg-warning-subtle text-warning-emphasis",
                 "blue": "text-bg-primary"}


def level_badge(record):
    return format_html('<span class="badge {}">{}</span>', LEVEL_CLASSES.get(record.level, "text-bg-secondary"),
                       record.get_level_display())


def _truncated(text, title=None):
    """One line, cut with an ellipsis by CSS (app.css .app-truncate), the whole text in the tooltip."""
    return format_html('<span class="app-truncate" title="{}">{}</span>', title or text, text)


class AlertTable(tables.Table):
    """The work queue. A page shows the columns of the person's role (visible_columns); exports keep them all."""

    select = tables.CheckBoxColumn(accessor="pk", exclude_from_export=True, orderable=False,
                                   attrs={"input": {"form": "alert-bulk", "aria-label": _("select")},
                                          "th__input": {"class": "js-select-all", "data-form": "alert-bulk",
                                                        "aria-label": _("select all")}})
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
        sequence = ("select", "level", "enterprise", "rule", "status", "deadline", "raised_at", "region",
                    "organisation", "...")
        attrs = {"class": "table table-sm table-hover app-queue"}

    def render_level(self, record):
        return level_badge(record)

    def value_level(self, record):
        return record.get_level_display()

    def value_id(self, record):
        return str(record)  # exports name the alert ("#12 enterprise · rule")

    def render_enterprise(self, value):
        return _truncated(str(value))  # linkify puts it in the link to the alert

    def render_rule(self, record, value):
        return _truncated(str(value), title=f"{value}：{record.summary}" if record.summary else None)

    def render_summary(self, value):
        return _truncated(value)

    def render_organisation(self, value):
        return _truncated(str(value))

    def render_deadline(self, record, value):
        if record.is_overdue:
            return format_html('<span class="text-danger fw-semibold">{}</span>', value)
        return value


# What a page shows (the pilot's 15 columns wrapped every cell at 1,440 px). Someone working alerts in one
# county sees what to act on; someone whose scope spans several counties (a city bureau, a leader) also
# where and whose. Checkboxes only for those who may review (bulk confirm / dismiss). Each person may choose
# other columns (the page's column menu, kept per person); these are the default of his role.
WORK_COLUMNS = ("level", "enterprise", "rule", "status", "deadline", "raised_at")
WIDE_COLUMNS = (*WORK_COLUMNS, "region", "organisation")
COUNTY_CODE_LENGTH = 6
CHOOSABLE_COLUMNS = tuple(name for name in (*AlertTable.Meta.sequence[1:-1], *AlertTable.Meta.fields)
                          if name != "select" and name in AlertTable.base_columns)
CHOOSABLE_COLUMNS = tuple(dict.fromkeys(CHOOSABLE_COLUMNS))  # the page's order, each once


def default_columns(user):
    prefix = user.scope_prefix
    wide = prefix is not None and len(prefix) < COUNTY_CODE_LENGTH
    return WIDE_COLUMNS if wide else WORK_COLUMNS


def fixed_columns(user):
    return ("select",) if user.has_perm("alerts.review_alert") else ()


def visible_columns(user):
    """The columns a person's page shows by default: the checkboxes he may use, then his role's columns."""
    return fixed_columns(user) + default_columns(user)


class WarningRuleTable(tables.Table):
    code = tables.TemplateColumn("<code>{{ value }}</code>", verbose_name=_("code"))  # an identifier, not a word
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

    def render_params(self, record):  # readable, as the rule page shows them (天数：30；仅已核实：是)
        return params_summary(record.kind, record.params)
