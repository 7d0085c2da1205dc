"""One filter definition for the work queue page and the API."""

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodrisk.core.filtersets import RegionSubtreeFilter
from foodrisk.core.models import Organisation
from foodrisk.enterprises.choices import BusinessForm, Grade
from foodrisk.enterprises.filtersets import FoodCategoryFilter

from .choices import OPEN_STATUSES, AlertLevel, AlertStatus, EventAction, RuleKind
from .models import Alert, AlertEvent, WarningRule


class AlertFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Enterprise"), method="search")
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=AlertStatus.choices)
    open = django_filters.BooleanFilter(label=_("Open"), method="is_open")
    level = django_filters.MultipleChoiceFilter(label=_("Level"), choices=AlertLevel.choices)
    rule = django_filters.ModelChoiceFilter(label=_("Rule"), queryset=WarningRule.objects.all())
    kind = django_filters.ChoiceFilter(label=_("Rule kind"), field_name="rule__kind", choices=RuleKind.choices)
    region = RegionSubtreeFilter(field_name="enterprise__region", label=_("Region"))
    grade = django_filters.MultipleChoiceFilter(label=_("Current grade"), field_name="enterprise__current_grade",
                                                choices=Grade.choices)
    overdue = django_filters.BooleanFilter(label=_("Overdue"), method="is_overdue")
    deadline_before = django_filters.DateFilter(label=_("Deadline on or before"), field_name="deadline",
                                                lookup_expr="lte")
    raised_after = django_filters.DateFilter(label=_("Raised on or after"), field_name="raised_at__date",
                                             lookup_expr="gte")
    raised_before = django_filters.DateFilter(label=_("Raised on or before"), field_name="raised_at__date",
                                              lookup_expr="lte")
    business_form = django_filters.ChoiceFilter(label=_("Business form"), field_name="enterprise__business_form",
                                                choices=BusinessForm.choices)
    food_category = FoodCategoryFilter(via="enterprise__")
    organisation = django_filters.ModelChoiceFilter(label=_("Responsible organisation"), method="responsible",
                                                    queryset=Organisation.objects.all())
    step = django_filters.ChoiceFilter(label=_("Went through the step"), method="went_through",
                                       choices=[(a, label) for a, label in EventAction.choices
                                                if a in ("confirm", "dismiss", "dispatch", "handle", "close")])
    late = django_filters.BooleanFilter(label=_("Handled past the deadline"), method="is_late")

    class Meta:
        model = Alert
        fields = ["q", "status", "open", "level", "rule", "kind", "region", "grade", "overdue", "deadline_before",
                  "raised_after", "raised_before", "business_form", "food_category", "organisation", "step", "late"]

    def search(self, qs, name, value):
        return qs.filter(enterprise__name__icontains=value) | qs.filter(enterprise__uscc__iexact=value)

    def is_open(self, qs, name, value):
        if value is None:
            return qs
        return qs.filter(status__in=OPEN_STATUSES) if value else qs.exclude(status__in=OPEN_STATUSES)

    def is_overdue(self, qs, name, value):
        if value is None:
            return qs
        late = qs.filter(status__in=OPEN_STATUSES, deadline__lt=timezone.localdate())
        return late if value else qs.exclude(pk__in=late.values("pk"))

    def responsible(self, qs, name, value):
        return qs.responsible(value) if value else qs

    def went_through(self, qs, name, value):
        return qs.filter(pk__in=AlertEvent.objects.filter(action=value).values("alert_id")) if value else qs

    def is_late(self, qs, name, value):
        if value is None:
            return qs
        late = Alert.objects.late().values("pk")
        return qs.filter(pk__in=late) if value else qs.exclude(pk__in=late)


class WarningRuleFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=RuleKind.choices)
    level = django_filters.ChoiceFilter(label=_("Level"), choices=AlertLevel.choices)
    enabled = django_filters.BooleanFilter(label=_("Enabled"))

    class Meta:
        model = WarningRule
        fields = ["kind", "level", "enabled"]
