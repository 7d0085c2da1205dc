import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .model_services import card_auc
from .models import GradeAdjustment, GradeChange, ModelVersion, Score, ScoringRun


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


STATUS_BADGES = {"champion": "text-bg-success", "candidate": "text-bg-info", "retired": "text-bg-secondary"}


class ModelVersionTable(tables.Table):
    version = tables.Column(linkify=True)
    auc = tables.Column(verbose_name=_("hold-out AUC (combined)"), accessor="metrics", orderable=False)
    auc_rules = tables.Column(verbose_name=_("hold-out AUC (rules)"), accessor="metrics", orderable=False,
                              attrs={"td": {"class": "text-muted"}})
    window = tables.Column(verbose_name=_("training window"), accessor="data_window", orderable=False)

    class Meta:
        model = ModelVersion
        fields = ("version", "status", "indicator_set", "window", "auc", "auc_rules", "trained_by", "created_at",
                  "reviewed_by", "promoted_by", "promoted_at")
        attrs = {"class": "table table-sm table-hover"}

    def render_status(self, value, record):
        return format_html('<span class="badge {}">{}</span>', STATUS_BADGES.get(record.status, ""), value)

    def value_status(self, value):
        return value

    @staticmethod
    def _auc(metrics, which):
        v = card_auc(metrics, which)
        return "—" if v is None else f"{v:.3f}"

    def render_auc(self, value):
        return self._auc(value, "combined")

    def render_auc_rules(self, value):
        return self._auc(value, "rules")

    def value_auc(self, value):
        return self._auc(value, "combined")

    def value_auc_rules(self, value):
        return self._auc(value, "rules")

    def render_window(self, value):
        train, hold = value.get("train") or ["", ""], value.get("holdout") or ["", ""]
        return f"{train[0]} … {hold[-1]}"

    def value_window(self, value):
        return self.render_window(value)
