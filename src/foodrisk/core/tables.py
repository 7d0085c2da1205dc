import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from . import audit_labels, jobs
from .models import (
    Announcement,
    AuditEntry,
    Delivery,
    DictionaryType,
    ExportRequest,
    Job,
    MessageTemplate,
    Organisation,
    Parameter,
    Region,
    Role,
    Schedule,
    User,
)


class RegionTable(tables.Table):
    code = tables.Column(linkify=True)

    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent", "active"]


class OrganisationTable(tables.Table):
    name = tables.Column(linkify=True)

    class Meta:
        model = Organisation
        fields = ["code", "name", "kind", "region", "parent", "active"]


class UserTable(tables.Table):
    username = tables.Column(linkify=True)
    roles = tables.Column(verbose_name=_("roles"), accessor="pk", orderable=False)

    class Meta:
        model = User
        fields = ["username", "full_name", "organisation", "scope_region", "is_active", "last_login"]

    def render_roles(self, record):
        return "、".join(g.name for g in record.groups.all())

    def value_roles(self, record):
        return self.render_roles(record)


class RoleTable(tables.Table):
    name = tables.Column(linkify=True)
    users = tables.Column(verbose_name=_("users"), accessor="user_set__count", orderable=False)

    class Meta:
        model = Role
        fields = ["name", "description", "builtin"]


class DictionaryTypeTable(tables.Table):
    name = tables.Column(linkify=True)

    class Meta:
        model = DictionaryType
        fields = ["code", "name", "description"]


class ParameterTable(tables.Table):
    name = tables.Column(linkify=True)

    def render_category(self, record):
        return record.display_category()

    class Meta:
        model = Parameter
        fields = ["category", "key", "name", "value", "source"]


class JobKindColumn(tables.Column):
    """A job kind by its registered title (评分批次), not its code (scoring.full)."""

    def render(self, value):
        try:
            return jobs.get(value).title
        except KeyError:  # a kind no longer registered
            return value


class MessageTemplateTable(tables.Table):
    name = tables.Column(linkify=True)
    channels = tables.Column(verbose_name=_("channels"))
    subject = tables.TemplateColumn("<code>{{ value }}</code>", verbose_name=_("subject"))  # template text, not prose

    def render_channels(self, record):
        return record.display_channels()

    class Meta:
        model = MessageTemplate
        fields = ["code", "name", "channels", "subject", "enabled"]


class AuditEntryTable(tables.Table):
    seq = tables.Column(linkify=True)

    def render_action(self, value):
        return audit_labels.action_label(value)

    def render_object_type(self, value):
        return audit_labels.object_type_label(value)

    class Meta:
        model = AuditEntry
        fields = ["seq", "timestamp", "username", "action", "object_type", "object_id", "object_repr",
                  "region_code", "ip"]


class JobTable(tables.Table):
    title = tables.Column(linkify=True)
    kind = JobKindColumn()
    progress = tables.TemplateColumn("{% widthratio record.progress 1 100 %}%", verbose_name=_("progress"))

    class Meta:
        model = Job
        fields = ["title", "kind", "status", "progress", "created_by", "created_at", "finished_at"]


class ExportRequestTable(tables.Table):
    id = tables.Column(linkify=True, verbose_name="#")

    class Meta:
        model = ExportRequest
        fields = ("id", "title", "format", "rows", "include_sensitive", "status", "requested_by", "requested_at",
                  "approved_by", "decided_at", "job")


class DeliveryTable(tables.Table):
    notification = tables.Column(linkify=lambda record: record.get_absolute_url(), verbose_name=_("notification"))
    recipient = tables.Column(accessor="notification__recipient", verbose_name=_("recipient"), orderable=False)

    class Meta:
        model = Delivery
        fields = ["notification", "recipient", "channel", "status", "attempts", "last_error", "next_try_at",
                  "sent_at", "created_at"]


class ScheduleTable(tables.Table):
    name = tables.Column(linkify=True)
    job_kind = JobKindColumn()

    class Meta:
        model = Schedule
        fields = ["name", "job_kind", "frequency", "enabled", "next_run_at", "last_run_at"]


class AnnouncementTable(tables.Table):
    title = tables.Column(linkify=True)

    class Meta:
        model = Announcement
        fields = ["title", "level", "audience", "published_by", "published_at", "expires_at", "withdrawn_at"]
