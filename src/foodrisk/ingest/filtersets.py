import django_filters as filters
from django.utils.translation import gettext_lazy as _

from foodrisk.core.validators import MAX_ID

from .choices import Kind
from .models import Batch, MappingProfile, MatchCandidate, QuarantinedRow, Source
from .validators import REASON_CODES


class BatchFilterSet(filters.FilterSet):
    file_name = filters.CharFilter(label=_("file name"), lookup_expr="icontains")

    class Meta:
        model = Batch
        fields = ["source", "kind", "status", "file_name"]


class QuarantinedRowFilterSet(filters.FilterSet):
    batch = filters.NumberFilter(label=_("batch"), field_name="batch_id", max_value=MAX_ID)
    reason = filters.CharFilter(label=_("reason"), method="by_reason",
                                help_text=_("A reason code (%(codes)s) or code:field.") % {"codes": ", ".join(REASON_CODES)})
    kind = filters.ChoiceFilter(label=_("kind"), choices=Kind.choices, field_name="batch__kind")

    class Meta:
        model = QuarantinedRow
        fields = ["batch", "status", "reason", "kind"]

    def by_reason(self, qs, name, value):
        value = value.strip()
        return qs.filter(reason_codes__contains=value if ":" in value else f"{value}:")


class MatchCandidateFilterSet(filters.FilterSet):
    batch = filters.NumberFilter(label=_("batch"), field_name="batch_id", max_value=MAX_ID)
    name = filters.CharFilter(label=_("name in the record"), lookup_expr="icontains")

    class Meta:
        model = MatchCandidate
        fields = ["batch", "status", "name"]


class SourceFilterSet(filters.FilterSet):
    name = filters.CharFilter(label=_("name"), lookup_expr="icontains")

    class Meta:
        model = Source
        fields = ["name", "active"]


class MappingProfileFilterSet(filters.FilterSet):
    class Meta:
        model = MappingProfile
        fields = ["kind", "source", "builtin"]
