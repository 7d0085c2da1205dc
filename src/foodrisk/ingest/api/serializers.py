from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from foodrisk.core.api.generic import ScopedModelSerializer

from .. import mapping
from ..models import Batch, MatchCandidate, QualitySnapshot, QuarantinedRow


class QualitySnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = QualitySnapshot
        fields = ["rows", "pass_rate", "field_stats", "reason_counts", "note_counts"]


class BatchSerializer(ScopedModelSerializer):
    source = serializers.CharField(source="source.name", read_only=True)
    quality = QualitySnapshotSerializer(read_only=True)
    counts_add_up = serializers.BooleanField(read_only=True)

    class Meta:
        model = Batch
        fields = ["id", "source", "kind", "file_name", "file_digest", "status", "import_day", "rows_read",
                  "accepted_new", "accepted_updated", "unchanged", "merged_duplicates", "quarantined", "in_review",
                  "counts_add_up", "report", "quality", "error", "job", "region", "created_at", "started_at",
                  "finished_at"]
        read_only_fields = fields


class BatchUploadSerializer(serializers.Serializer):
    file = serializers.FileField(label=_("file"))
    source = serializers.CharField(label=_("source"), max_length=100)
    kind = serializers.ChoiceField(label=_("kind"), choices=["auto", *mapping.KINDS], default="auto")
    profile = serializers.CharField(label=_("mapping profile"), required=False, allow_blank=True)
    import_day = serializers.DateField(label=_("import day"), required=False)


class QuarantinedRowSerializer(ScopedModelSerializer):
    class Meta:
        model = QuarantinedRow
        fields = ["id", "batch", "row_no", "raw_data", "reasons", "status", "corrected_data", "note", "created_at",
                  "updated_at"]
        read_only_fields = fields


class MatchCandidateSerializer(ScopedModelSerializer):
    class Meta:
        model = MatchCandidate
        fields = ["id", "batch", "row_no", "name", "address", "enterprise", "score", "status", "raw_data",
                  "decided_at"]
        read_only_fields = fields
