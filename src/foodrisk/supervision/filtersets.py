import django_filters
from django.utils.translation import gettext_lazy as _

from foodrisk.core.filtersets import ContributedFilterSet, RegionSubtreeFilter
from foodrisk.core.models import Organisation, Region
from foodrisk.core.validators import MAX_ID
from foodrisk.enterprises.choices import BusinessForm, Grade
from foodrisk.enterprises.filtersets import FoodCategoryFilter

from .choices import RepairStatus, TaskKind, TaskSource, TaskStatus
from .models import (
    ConflictOfInterest,
    InspectionPlan,
    InspectorAbsence,
    PlanItem,
    RandomDraw,
    RepairCase,
    Task,
)


class EnterpriseSearchMixin(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Enterprise"), method="search")
    region = RegionSubtreeFilter(field_name="enterprise__region", label=_("Region"),
                                 queryset=Region.objects.exclude(level="station"))
    enterprise = django_filters.NumberFilter(field_name="enterprise_id", label=_("Enterprise ID"), max_value=MAX_ID)

    def search(self, qs, name, value):
        return qs.filter(enterprise__name__icontains=value) | qs.filter(enterprise__uscc__iexact=value)


class TaskFilterSet(EnterpriseSearchMixin, ContributedFilterSet):
    kind = django_filters.MultipleChoiceFilter(label=_("Kind"), choices=TaskKind.choices)
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=TaskStatus.choices)
    source = django_filters.ChoiceFilter(label=_("Source"), choices=TaskSource.choices)
    overdue = django_filters.BooleanFilter(label=_("Overdue"), method="is_overdue")
    organisation = django_filters.ModelChoiceFilter(label=_("Organisation"), queryset=Organisation.objects.all())
    due_after = django_filters.DateFilter(field_name="due_on", lookup_expr="gte", label=_("Due from"))
    due_before = django_filters.DateFilter(field_name="due_on", lookup_expr="lte", label=_("Due until"))
    mine = django_filters.BooleanFilter(label=_("Assigned to me"), method="assigned_to_me")
    grade = django_filters.ChoiceFilter(label=_("Enterprise's grade"), field_name="enterprise__current_grade",
                                        choices=Grade.choices)
    business_form = django_filters.ChoiceFilter(label=_("Business form"), field_name="enterprise__business_form",
                                                choices=BusinessForm.choices)
    food_category = FoodCategoryFilter(via="enterprise__")

    class Meta:
        model = Task
        fields = ["q", "kind", "status", "source", "overdue", "organisation", "region", "due_after", "due_before",
                  "mine", "enterprise", "grade", "business_form", "food_category"]

    def is_overdue(self, qs, name, value):
        if value is None:
            return qs
        overdue = Task.objects.overdue().values("pk")
        return qs.filter(pk__in=overdue) if value else qs.exclude(pk__in=overdue)

    def assigned_to_me(self, qs, name, value):
        user = getattr(self.request, "user", None)
        if not value or user is None:
            return qs
        return qs.filter(assignee=user) | qs.filter(second_assignee=user)


class RepairCaseFilterSet(EnterpriseSearchMixin):
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=RepairStatus.choices)
    applied_after = django_filters.DateFilter(field_name="applied_on", lookup_expr="gte", label=_("Applied from"))
    applied_before = django_filters.DateFilter(field_name="applied_on", lookup_expr="lte", label=_("Applied until"))

    class Meta:
        model = RepairCase
        fields = ["q", "status", "region", "applied_after", "applied_before", "enterprise"]


class InspectionPlanFilterSet(django_filters.FilterSet):
    organisation = django_filters.ModelChoiceFilter(label=_("Organisation"), queryset=Organisation.objects.all())

    class Meta:
        model = InspectionPlan
        fields = ["organisation"]


class RandomDrawFilterSet(django_filters.FilterSet):
    organisation = django_filters.ModelChoiceFilter(label=_("Organisation"), queryset=Organisation.objects.all())
    seed = django_filters.NumberFilter(label=_("Seed"), max_value=MAX_ID)

    class Meta:
        model = RandomDraw
        fields = ["organisation", "seed"]


class ConflictFilterSet(EnterpriseSearchMixin):
    class Meta:
        model = ConflictOfInterest
        fields = ["q", "active", "enterprise"]


class AbsenceFilterSet(django_filters.FilterSet):
    on = django_filters.DateFilter(label=_("Absent on"), method="filter_on")

    class Meta:
        model = InspectorAbsence
        fields = ["on"]

    def filter_on(self, queryset, name, value):
        return queryset.filter(start__lte=value, end__gte=value)


class PlanItemFilterSet(django_filters.FilterSet):
    plan = django_filters.ModelChoiceFilter(label=_("inspection plan"), queryset=InspectionPlan.objects.all())

    class Meta:
        model = PlanItem
        fields = ["plan", "grade"]


class ProfileFilterSet(django_filters.FilterSet):
    class Meta:
        from .models import SupervisionProfile

        model = SupervisionProfile
        fields = ["active"]


class ChecklistFilterSet(django_filters.FilterSet):
    class Meta:
        from .models import ChecklistTemplate

        model = ChecklistTemplate
        fields = ["active"]
