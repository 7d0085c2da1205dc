from django.contrib import admin

from .models import Batch, MappingProfile, MatchCandidate, QualitySnapshot, QuarantinedRow, Source


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "system", "active"]
    search_fields = ["name", "system"]


@admin.register(MappingProfile)
class MappingProfileAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "source", "builtin"]
    list_filter = ["kind", "builtin"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Batches, quarantine and the review queue change only through services (audited)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin):
    list_display = ["id", "file_name", "kind", "status", "rows_read", "quarantined", "in_review", "created_at"]
    list_filter = ["kind", "status"]


@admin.register(QuarantinedRow)
class QuarantinedRowAdmin(ReadOnlyAdmin):
    list_display = ["id", "batch", "row_no", "reason_codes", "status"]
    list_filter = ["status"]


@admin.register(MatchCandidate)
class MatchCandidateAdmin(ReadOnlyAdmin):
    list_display = ["id", "batch", "row_no", "name", "enterprise", "score", "status"]
    list_filter = ["status"]


@admin.register(QualitySnapshot)
class QualitySnapshotAdmin(ReadOnlyAdmin):
    list_display = ["batch", "kind", "rows", "pass_rate"]
