from rest_framework import serializers

from foodrisk.core.api.generic import ConfirmField

from ..models import IndicatorSet


class IndicatorSetSerializer(serializers.ModelSerializer):
    class Meta:
        model = IndicatorSet
        fields = ["id", "code", "version", "name", "status", "scope_region", "profile", "based_on", "change_note",
                  "created_by", "created_at", "submitted_by", "submitted_at", "approved_by", "approved_at",
                  "activated_by", "activated_at", "retired_at", "spec"]
        read_only_fields = fields


class CreateSerializer(serializers.Serializer):
    profile = serializers.CharField(required=False)
    copy_of = serializers.PrimaryKeyRelatedField(queryset=IndicatorSet.objects.all(), required=False)
    code = serializers.CharField(required=False, allow_blank=True)
    name = serializers.CharField(required=False, allow_blank=True)
    scope_region = serializers.CharField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True)

    def validate(self, attrs):
        if bool(attrs.get("profile")) == bool(attrs.get("copy_of")):
            raise serializers.ValidationError("give either profile or copy_of")
        return attrs


class SpecSerializer(serializers.Serializer):
    spec = serializers.JSONField()
    note = serializers.CharField(required=False, allow_blank=True)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True)


class ActivateSerializer(NoteSerializer):
    """Activation / rollback regrade every enterprise: a high-risk action, confirmed explicitly with
    ``"confirmed": true`` (the pages' ticked box), which also confirms the impact preview that a version changing
    the blend or the grade cut-offs needs (POST …/preview/)."""

    confirmed = ConfirmField()
