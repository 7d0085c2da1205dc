import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import GradeAdjustment, GradeChange, Score, ScoringRun


def grade_badge(value):
    return format_html('<span class="grade grade-{0}">{0}</span>', value) if value else "—"


class ScoringRunTable(tables.Table):
    id = tables.Column(linkify=True, verbose_name="#")

    class Meta:
        model = ScoringRun
        fields = ("id", "kind", "as_of", "status", "indicator_set", "enterprise_count", "changed_count",
                  "adjusted_count", "started_by", "started_at", "published_at")
        attrs = {"class": "table table-sm table-hover"}


class ScoreTable(tables.Table):
    enterprise = tables.Column(linkify=lambda record: record.get_absolute_url())
    region = tables.Column(accessor="enterprise__region__name", verbose_name=_("region"))
    run = tables.Column(linkify=True)

    class Meta:
        model = Score
        fields = ("enterprise", "region", "grade", "engine_grade", "previous_grade", "total_score", "rule_score",
                  "model_score", "adjusted", "as_of", "indicator_set_version", "run")
        attrs = {"class": "table table-sm table-hover"}

    def render_grade(self, value):
        return grade_badge(value)

    def render_engine_grade(self, value):
        return grade_badge(value)

    def render_previous_grade(self, value):
        return grade_badge(value)

    def value_grade(self, value):
        return value

    def value_engine_grade(self, value):
        return value

    def value_previous_grade(self, value):
        return value

    def render_total_score(self, value):
        return f"{value:.1f}"


class GradeAdjustmentTable(tables.Table):
    id = tables.Column(linkify=True, verbose_name="#")
    enterprise = tables.Column(linkify=lambda record: record.get_absolute_url())

    class Meta:
        model = GradeAdjustment
        fields = ("id", "enterprise", "grade_at_proposal", "proposed_grade", "status", "valid_until", "proposed_by",
                  "proposed_at", "decided_by")
        attrs = {"class": "table table-sm table-hover"}

    def render_proposed_grade(self, value):
        return grade_badge(value)

    def value_proposed_grade(self, value):
        return value


class GradeChangeTable(tables.Table):
    enterprise = tables.Column(linkify=lambda record: reverse("scoring:enterprise_why", args=[record.enterprise_id]))

    class Meta:
        model = GradeChange
        fields = ("enterprise", "old_grade", "new_grade", "score", "at", "run", "adjustment")
        attrs = {"class": "table table-sm table-hover"}

    def render_old_grade(self, value):
        return grade_badge(value)

    def render_new_grade(self, value):
        return grade_badge(value)

    def value_old_grade(self, value):
        return value

    def value_new_grade(self, value):
        return value
