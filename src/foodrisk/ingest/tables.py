import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from .models import Batch, MappingProfile, MatchCandidate, QuarantinedRow, Source


class BatchTable(tables.Table):
    id = tables.Column(verbose_name=_("batch"), linkify=True)

    class Meta:
        model = Batch
        fields = ["id", "file_name", "source", "kind", "status", "rows_read", "accepted_new", "accepted_updated",
                  "unchanged", "merged_duplicates", "quarantined", "in_review", "created_at"]


class QuarantinedRowTable(tables.Table):
    id = tables.Column(verbose_name=_("id"), linkify=True)
    batch = tables.Column(linkify=True)
    reasons = tables.Column(verbose_name=_("reasons"), orderable=False)

    class Meta:
        model = QuarantinedRow
        fields = ["id", "batch", "row_no", "reasons", "status", "updated_at"]

    def render_reasons(self, record):
        return "；".join(record.reason_labels)

    def value_reasons(self, record):
        return "；".join(record.reason_labels)


class MatchCandidateTable(tables.Table):
    id = tables.Column(verbose_name=_("id"), linkify=True)
    score = tables.Column()

    class Meta:
        model = MatchCandidate
        fields = ["id", "batch", "row_no", "name", "address", "enterprise", "score", "status"]

    def render_score(self, value):
        return f"{value:.2f}"


class SourceTable(tables.Table):
    name = tables.Column(linkify=True)

    class Meta:
        model = Source
        fields = ["name", "system", "active", "created_at"]


class MappingProfileTable(tables.Table):
    code = tables.Column(linkify=True)

    class Meta:
        model = MappingProfile
        fields = ["code", "name", "kind", "source", "builtin", "updated_at"]
