from rest_framework import serializers

from ..models import GradeAdjustment, GradeChange, Score, ScoringRun


class ScoringRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScoringRun
        fields = ["id", "kind", "as_of", "indicator_set", "model_version", "status", "enterprise_count",
                  "changed_count", "adjusted_count", "grade_distribution", "timing", "started_by", "job",
                  "started_at", "finished_at", "published_at", "error"]
        read_only_fields = fields


class ScoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = Score
        fields = ["id", "run", "enterprise", "as_of", "indicator_set", "indicator_set_version", "model_version",
                  "rule_score", "model_score", "total_score", "base_grade", "engine_grade", "grade",
                  "previous_grade", "new_enterprise", "adjusted", "adjustment", "subtotals", "rule_hits", "reasons",
                  "details"]
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
