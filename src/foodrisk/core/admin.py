from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import AuditEntry, DictionaryType, Job, Organisation, Parameter, Region, Role, User


@admin.register(User)
class FoodriskUserAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (("foodrisk", {"fields": ("full_name", "organisation", "scope_region",
                                                                "national_scope")}),)
    list_display = ("username", "full_name", "organisation", "is_active", "is_staff")


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("seq", "timestamp", "username", "action", "object_type", "object_id")
    search_fields = ("username", "action", "object_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register([Region, Organisation, Role, DictionaryType, Parameter, Job])
