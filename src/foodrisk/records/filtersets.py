import django_filters as filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from foodrisk.core.filtersets import ContributedFilterSet, RegionSubtreeFilter
from foodrisk.core.validators import is_digits
from foodrisk.enterprises.choices import BusinessForm, Grade
from foodrisk.enterprises.filtersets import FoodCategoryFilter, search_enterprises

from .choices import (
    AttachmentKind,
    ComplaintChannel,
    ComplaintStatus,
    InspectionKind,
    InspectionResult,
    ListKind,
    RepairDecision,
    RepairTarget,
    SamplingLevel,
    SamplingResult,
    Severity,
)
from .models import Attachment, Complaint, CreditRepair, Inspection, ListEntry, Penalty, SamplingTest


class RecordFilterSet(filters.FilterSet):
    """Date range on the kind's event date, the enterprise (id, name, USCC, initials, licence) and its region."""

    q = filters.CharFilter(label=_("number"), method="search_number")
    enterprise = filters.CharFilter(label=_("enterprise"), method="search_enterprise",
                                    help_text=_("name, USCC, pinyin initials or licence number"))
    region = RegionSubtreeFilter(field_name="enterprise__region")
    since = filters.DateFilter(label=_("from"), method="date_from")
    until = filters.DateFilter(label=_("to"), method="date_to")

    def search_number(self, qs, name, value):
        key = self._meta.model.natural_key_field
        return qs.filter(**{f"{key}__icontains": value.strip()})

    def search_enterprise(self, qs, name, value):
        value = value.strip()
        if is_digits(value) and len(value) < 16:
            return qs.filter(enterprise_id=int(value))
        return search_enterprises(qs, value, prefix="enterprise__")

    def date_from(self, qs, name, value):
        return qs.filter(**{f"{self._meta.model.date_field}__gte": value})

    def date_to(self, qs, name, value):
        return qs.filter(**{f"{self._meta.model.date_field}__lte": value})


COMMON = ["q", "enterprise", "region", "since", "until"]


class GradedRecordFilterSet(RecordFilterSet):
    """The enterprise's current grade and business form: the lists behind the statistics figures."""

    grade = filters.ChoiceFilter(label=_("enterprise's grade"), field_name="enterprise__current_grade",
                                 choices=Grade.choices)
    business_form = filters.ChoiceFilter(label=_("business form"), field_name="enterprise__business_form",
                                         choices=BusinessForm.choices)
    food_category = FoodCategoryFilter(via="enterprise__")


class InspectionFilterSet(GradedRecordFilterSet, ContributedFilterSet):
    kind = filters.ChoiceFilter(label=_("kind"), choices=InspectionKind.choices)
    result = filters.ChoiceFilter(label=_("result"), choices=InspectionResult.choices)

    class Meta:
        model = Inspection
        fields = [*COMMON, "kind", "result", "rectification_ordered", "grade", "business_form", "food_category"]


class SamplingTestFilterSet(RecordFilterSet):
    level = filters.ChoiceFilter(label=_("level"), choices=SamplingLevel.choices)
    result = filters.ChoiceFilter(label=_("result"), choices=SamplingResult.choices)

    class Meta:
        model = SamplingTest
        fields = [*COMMON, "level", "result"]

    def search_number(self, qs, name, value):
        value = value.strip()
        return qs.filter(Q(report_no__icontains=value) | Q(product__icontains=value)
                         | Q(announcement_no__icontains=value))


class PenaltyFilterSet(RecordFilterSet):
    severity = filters.ChoiceFilter(label=_("severity"), choices=Severity.choices)

    class Meta:
        model = Penalty
        fields = [*COMMON, "severity", "licence_revoked", "repaired"]


class ComplaintFilterSet(RecordFilterSet):
    channel = filters.ChoiceFilter(label=_("channel"), choices=ComplaintChannel.choices)
    status = filters.ChoiceFilter(label=_("status"), choices=ComplaintStatus.choices)

    class Meta:
        model = Complaint
        fields = [*COMMON, "channel", "verified", "status"]


class CreditRepairFilterSet(GradedRecordFilterSet):
    target_kind = filters.ChoiceFilter(label=_("target kind"), choices=RepairTarget.choices)
    decision = filters.ChoiceFilter(label=_("decision"), choices=RepairDecision.choices)

    class Meta:
        model = CreditRepair
        fields = [*COMMON, "target_kind", "decision", "grade", "business_form", "food_category"]


class ListEntryFilterSet(RecordFilterSet):
    list_kind = filters.ChoiceFilter(label=_("list"), choices=ListKind.choices)
    current = filters.BooleanFilter(label=_("still listed"), field_name="removed_on", lookup_expr="isnull")

    class Meta:
        model = ListEntry
        fields = [*COMMON, "list_kind", "current", "repaired"]


class AttachmentFilterSet(filters.FilterSet):
    enterprise = filters.CharFilter(label=_("enterprise"), method="search_enterprise")
    region = RegionSubtreeFilter(field_name="enterprise__region")
    kind = filters.ChoiceFilter(label=_("kind"), choices=AttachmentKind.choices)
    since = filters.DateFilter(label=_("from"), field_name="uploaded_at", lookup_expr="date__gte")
    until = filters.DateFilter(label=_("to"), field_name="uploaded_at", lookup_expr="date__lte")

    class Meta:
        model = Attachment
        fields = ["enterprise", "region", "kind", "since", "until"]

    search_enterprise = RecordFilterSet.search_enterprise


FILTERSETS = {
    "inspections": InspectionFilterSet,
    "sampling_tests": SamplingTestFilterSet,
    "penalties": PenaltyFilterSet,
    "complaints": ComplaintFilterSet,
    "credit_repairs": CreditRepairFilterSet,
    "list_entries": ListEntryFilterSet,
}
