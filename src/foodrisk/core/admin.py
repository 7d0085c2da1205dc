from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import (
    AuditEntry,
    Delivery,
    DictionaryType,
    Job,
    Organisation,
    Parameter,
    Region,
    Role,
    User,
    WorkerProcess,
)


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


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("notification", "channel", "status", "attempts", "next_try_at", "sent_at", "last_error")
    list_filter = ("status", "channel")
    readonly_fields = ("notification", "channel", "status", "attempts", "last_error", "next_try_at", "sent_at")


@admin.register(WorkerProcess)
class WorkerProcessAdmin(admin.ModelAdmin):
    list_display = ("worker_id", "hostname", "pid", "queues", "started_at", "beat_at", "stopped_at")
