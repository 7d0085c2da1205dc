from django.contrib import admin

from .models import Enterprise, Licence


class LicenceInline(admin.TabularInline):
    model = Licence
    extra = 0
    fields = ["licence_no", "kind", "category", "issued_on", "expires_on", "status"]


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    """Read-mostly: changes go through the UI/API services (audit, events); the admin is for inspection."""

    list_display = ["uscc", "name", "region", "business_form", "status", "current_grade"]
    list_filter = ["business_form", "status", "current_grade", "key_supervision"]
    search_fields = ["uscc", "name", "name_initials"]
    exclude = ["legal_representative"]
    raw_id_fields = ["region"]
    inlines = [LicenceInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Licence)
class LicenceAdmin(admin.ModelAdmin):
    list_display = ["licence_no", "enterprise", "kind", "issued_on", "expires_on", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["licence_no", "enterprise__name", "enterprise__uscc"]
    raw_id_fields = ["enterprise"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
