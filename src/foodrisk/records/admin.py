"""Read-only admin views of the archive: writes go through services (audit, events), i.e. the UI and API."""

from django.contrib import admin

from .models import RECORD_KINDS, Attachment


class ReadOnlyAdmin(admin.ModelAdmin):
    raw_id_fields = ["enterprise"]
    list_select_related = ["enterprise"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


for model in RECORD_KINDS.values():
    admin.site.register(model, type(f"{model.__name__}Admin", (ReadOnlyAdmin,), {
        "list_display": [model.natural_key_field, "enterprise", model.date_field],
        "search_fields": [model.natural_key_field, "enterprise__name", "enterprise__uscc"],
        "date_hierarchy": model.date_field,
    }))


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "enterprise", "kind", "sha256", "uploaded_at"]
