from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from foodrisk.core.api.generic import ScopedModelSerializer

from .. import mapping
from ..models import (
    Batch,
    MappingProfile,
    MappingProfileVersion,
    MatchCandidate,
    QualitySnapshot,
    QuarantinedRow,
)
from ..validators import reason_label


class QualitySnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = QualitySnapshot
        fields = ["rows", "pass_rate", "field_stats", "reason_counts", "note_counts"]


class BatchSerializer(ScopedModelSerializer):
    source = serializers.CharField(source="source.name", read_only=True)
    quality = QualitySnapshotSerializer(read_only=True)
    counts_add_up = serializers.BooleanField(read_only=True)
    findings = serializers.SerializerMethodField(help_text=_("The report's findings in words: reason, label, rows."))

    class Meta:
        model = Batch
        fields = ["id", "source", "kind", "file_name", "file_digest", "status", "import_day", "rows_read",
                  "accepted_new", "accepted_updated", "unchanged", "merged_duplicates", "quarantined", "in_review",
                  "counts_add_up", "report", "findings", "quality", "error", "job", "region", "created_at", "started_at",
                  "finished_at"]
        read_only_fields = fields

    def get_findings(self, batch) -> list[dict]:
        reasons = (batch.report or {}).get("reasons") or {}
        return [{"reason": code, "label": reason_label(code, batch.kind), "rows": n} for code, n in reasons.items()]


class BatchUploadSerializer(serializers.Serializer):
    file = serializers.FileField(label=_("file"))
    source = serializers.CharField(label=_("source"), max_length=100)
    kind = serializers.ChoiceField(label=_("kind"), choices=["auto", *mapping.KINDS], default="auto")
    profile = serializers.CharField(label=_("mapping profile"), required=False, allow_blank=True)
    import_day = serializers.DateField(label=_("import day"), required=False)
    confirm_duplicate = serializers.BooleanField(
        label=_("import again"), default=False,
        help_text=_("A file already imported (same SHA-256, source and kind) is refused with 409 unless this is true."))


class ShownCellsMixin:
    """Raw and corrected cells as the pages show them: a sensitive cell masked (it is stored encrypted)."""

    def to_representation(self, instance):
        from ..services.quarantine import shown

        data = super().to_representation(instance)
        for name in ("raw_data", "corrected_data"):
            if data.get(name):
                data[name] = shown(data[name])
        return data


class QuarantinedRowSerializer(ShownCellsMixin, ScopedModelSerializer):
    reason_labels = serializers.ListField(child=serializers.CharField(), read_only=True,
                                          help_text=_("The reasons in words (Chinese)."))

    class Meta:
        model = QuarantinedRow
        fields = ["id", "batch", "row_no", "raw_data", "reasons", "reason_labels", "status", "corrected_data", "note", "created_at",
                  "updated_at"]
        read_only_fields = fields


class MatchCandidateSerializer(ShownCellsMixin, ScopedModelSerializer):
    class Meta:
        model = MatchCandidate
        fields = ["id", "batch", "row_no", "name", "address", "enterprise", "score", "status", "raw_data",
                  "decided_at"]
        read_only_fields = fields


class MappingProfileSerializer(ScopedModelSerializer):
    """A profile; `config` is format 2 (docs/data-formats.md). Writes go through designer.save_profile: the
    configuration is validated, a new version kept, the profile scoped to the user's region."""

    source = serializers.CharField(source="source.name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = MappingProfile
        fields = ["id", "code", "name", "kind", "source", "region", "version", "builtin", "config", "updated_at"]
        read_only_fields = ["id", "kind", "source", "region", "version", "builtin", "updated_at"]
        # the model's default {} is not a profile: a new one names its configuration (a 500 without it)
        extra_kwargs = {"config": {"required": True}}


class MappingProfileVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = MappingProfileVersion
        fields = ["version", "config", "created_by", "created_at"]
        read_only_fields = fields


class ProfileConfigSerializer(serializers.Serializer):
    config = serializers.JSONField(label=_("configuration"))


class ValidationResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    errors = serializers.ListField(child=serializers.CharField())
    config = serializers.JSONField(required=False, help_text=_("The configuration as stored (when valid)."))


class SampleSerializer(serializers.Serializer):
    file = serializers.FileField(label=_("sample file"))
    kind = serializers.ChoiceField(label=_("kind"), choices=list(mapping.KINDS))
    sheet = serializers.CharField(label=_("sheet"), max_length=100, required=False,
                                  help_text=_("A workbook's sheet: its name or number (default the first)."))
    header_row = serializers.IntegerField(label=_("header row"), min_value=1, max_value=50, required=False,
                                          help_text=_("The row holding the column headers (default: detected)."))


class DryRunSerializer(serializers.Serializer):
    file = serializers.FileField(label=_("sample file"))
    config = serializers.JSONField(label=_("configuration"), required=False)
    profile = serializers.CharField(label=_("mapping profile"), required=False)
    source = serializers.CharField(label=_("source"), max_length=100, required=False, default="designer")
    import_day = serializers.DateField(label=_("import day"), required=False)


class ProfileFileSerializer(serializers.Serializer):
    file = serializers.FileField(label=_("profile file"))
    code = serializers.CharField(label=_("code"), required=False, allow_blank=True)
