import django_filters as filters
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry, ExportRequest, Job, Organisation, Region, User
from .querysets import region_prefix


class RegionSubtreeFilter(filters.ModelChoiceFilter):
    """A region and everything under it (a city includes its districts and stations). `field_name` is the path
    to the Region foreign key ("region", "enterprise__region"); the lookup goes through the region's code, as
    a foreign key itself only knows exact comparisons."""

    def __init__(self, *args, field_name="region", **kwargs):
        kwargs.setdefault("queryset", Region.objects.all())
        kwargs.setdefault("label", _("region"))
        super().__init__(*args, field_name=field_name, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__code__startswith": region_prefix(value.code)})


class ContributedFilterSet(filters.FilterSet):
    """A filter set other apps may add filters to (contribute): a list whose figures an app above it counts."""

    @classmethod
    def contribute(cls, name, filter_):
        """Add a filter that an app above this one knows how to apply (e.g. analytics: the grade held on a
        date, from scoring's grade history), called from that app's AppConfig.ready() like profile.register:
        the list page, its API and its exports then share it, and the list's app imports nothing above it."""
        if filter_.field_name is None:
            filter_.field_name = name
        cls.base_filters[name] = filter_
        return filter_


class RegionFilterSet(filters.FilterSet):
    q = filters.CharFilter(label=_("search"), method="search")

    class Meta:
        model = Region
        fields = ["level", "parent", "active"]

    def search(self, qs, name, value):
        return qs.filter(name__icontains=value) | qs.filter(code__startswith=value)


class OrganisationFilterSet(filters.FilterSet):
    name = filters.CharFilter(label=_("name"), lookup_expr="icontains")

    class Meta:
        model = Organisation
        fields = ["name", "kind", "active"]


class UserFilterSet(filters.FilterSet):
    q = filters.CharFilter(label=_("search"), method="search")

    class Meta:
        model = User
        fields = ["organisation", "is_active", "groups"]

    def search(self, qs, name, value):
        return qs.filter(username__icontains=value) | qs.filter(full_name__icontains=value)


class AuditEntryFilterSet(filters.FilterSet):
    username = filters.CharFilter(label=_("user"), lookup_expr="icontains")
    action = filters.CharFilter(label=_("action"), lookup_expr="startswith")
    object_type = filters.CharFilter(label=_("object type"))
    object_id = filters.CharFilter(label=_("object id"))
    since = filters.DateTimeFilter(label=_("from"), field_name="timestamp", lookup_expr="gte")
    until = filters.DateTimeFilter(label=_("to"), field_name="timestamp", lookup_expr="lte")

    class Meta:
        model = AuditEntry
        fields = ["username", "action", "object_type", "object_id", "since", "until"]


class ExportRequestFilterSet(filters.FilterSet):
    class Meta:
        model = ExportRequest
        fields = ["status", "format", "include_sensitive"]


class JobFilterSet(filters.FilterSet):
    class Meta:
        model = Job
        fields = ["kind", "status"]
