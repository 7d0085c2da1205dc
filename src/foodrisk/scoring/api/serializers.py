from rest_framework import serializers

from foodrisk.core.api.generic import ConfirmField

from ..choices import TrainingTarget
from ..models import DriftReport, GradeAdjustment, GradeChange, ModelVersion, Score, ScoringRun


class ScoringRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScoringRun
        fields = ["id", "kind", "as_of", "indicator_set", "model_version", "status", "enterprise_count",
                  "changed_count", "adjusted_count", "grade_distribution", "timing", "started_by", "job",
                  "started_at", "finished_at", "published_at", "error"]
        read_only_fields = fields

    def to_representation(self, instance):
        from ..services import run_in_scope

        request = self.context.get("request")
        if request is not None and getattr(request.user, "is_authenticated", False):
            instance = run_in_scope(instance, request.user)  # counts of the caller's scope only
        return super().to_representation(instance)


class ScoreSerializer(serializers.ModelSerializer):
    # {indicator code: [value, points]}, decoded from the compact stored form
    details = serializers.JSONField(source="indicator_details", read_only=True)

    class Meta:
        model = Score
        fields = ["id", "run", "enterprise", "as_of", "indicator_set", "indicator_set_version", "model_version",
                  "rule_score", "model_score", "total_score", "base_grade", "engine_grade", "grade",
                  "previous_grade", "new_enterprise", "adjusted", "adjustment", "subtotals", "rule_hits", "reasons",
                  "model_reasons", "details"]
        read_only_fields = fields


class GradeChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = GradeChange
        fields = ["id", "enterprise", "run", "adjustment", "old_grade", "new_grade", "score", "at", "reasons"]
        read_only_fields = fields


class GradeAdjustmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = GradeAdjustment
        fields = ["id", "enterprise", "proposed_grade", "grade_at_proposal", "reason", "valid_until", "status",
                  "proposed_by", "proposed_at", "decided_by", "decided_at", "decision_note", "ended_at"]
        read_only_fields = ["id", "grade_at_proposal", "status", "proposed_by", "proposed_at", "decided_by",
                            "decided_at", "decision_note", "ended_at"]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated and "enterprise" in fields:
            fields["enterprise"].queryset = fields["enterprise"].queryset.in_scope(request.user)
        return fields


class RunStartSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["full", "incremental"])
    as_of = serializers.DateField(required=False, allow_null=True)


class AdjustmentNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True)


class AdjustmentApprovalSerializer(AdjustmentNoteSerializer):
    """Approving publishes a grade set by hand: a high-risk action, confirmed explicitly."""

    confirmed = ConfirmField()


class ModelVersionSerializer(serializers.ModelSerializer):
    """A version and its model card (`metrics`); the artifact itself only at /artifact/."""

    class Meta:
        model = ModelVersion
        fields = ["id", "version", "status", "indicator_set", "label", "data_window", "metrics", "training",
                  "artifact_sha256", "trained_by", "created_at", "reviewed_by", "reviewed_at", "review_note",
                  "promoted_by", "promoted_at", "previous_champion", "retired_at", "notes", "job"]
        read_only_fields = fields


class ModelVersionListSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = ["id", "version", "status", "indicator_set", "data_window", "trained_by", "created_at",
                  "reviewed_by", "promoted_by", "promoted_at", "retired_at"]
        read_only_fields = fields


class DriftReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = DriftReport
        fields = ["id", "model_version", "as_of", "population", "score_psi", "status", "flagged_features", "report",
                  "notified", "created_at"]
        read_only_fields = fields


class ModelNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True)


class ModelChangeSerializer(ModelNoteSerializer):
    """Promote / roll back / retire the champion: on a fresh impact preview of that change, confirmed. `confirmed`
    is checked by the service after the preview (model_services.check_preview), so that a caller without a
    preview is told to run one first."""

    preview = serializers.IntegerField(required=False, allow_null=True,
                                       help_text="id of the impact preview run (GET /api/scoring/models/preview/)")
    confirmed = serializers.BooleanField(default=False, help_text="Must be true: the second confirmation of the "
                                                                  "change, after its impact preview.")


class ModelPreviewSerializer(serializers.Serializer):
    target = serializers.IntegerField(allow_null=True, help_text="the version to become champion; null: none")


class TrainSerializer(serializers.Serializer):
    months = serializers.IntegerField(min_value=24, max_value=120, default=24)  # as the page: fewer fail
    as_of = serializers.DateField(required=False, allow_null=True)
    target = serializers.ChoiceField(choices=TrainingTarget.choices, default=TrainingTarget.ENTERPRISE,
                                     help_text="what the model predicts: enterprise (any adverse outcome, 12 "
                                               "months) or inspection (each visit's key-item finding, 2 months)")
    horizon_months = serializers.IntegerField(min_value=1, max_value=36, required=False, allow_null=True,
                                              help_text="the window the validation folds measure; default: the "
                                                        "target's (12 or 2)")
