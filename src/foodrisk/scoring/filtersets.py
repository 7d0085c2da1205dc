import django_filters
from django.utils.translation import gettext_lazy as _

from foodrisk.core.filtersets import RegionSubtreeFilter
from foodrisk.core.models import Region
from foodrisk.core.validators import MAX_ID
from foodrisk.enterprises.choices import Grade

from .choices import AdjustmentStatus, ModelStatus, RunKind, RunStatus
from .models import GradeAdjustment, GradeChange, ModelVersion, Score, ScoringRun


class ScoringRunFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=RunKind.choices)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=RunStatus.choices)

    class Meta:
        model = ScoringRun
        fields = ["kind", "status"]


class ScoreFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Enterprise"), method="search")
    grade = django_filters.MultipleChoiceFilter(label=_("Grade"), choices=Grade.choices)
    region = RegionSubtreeFilter(field_name="enterprise__region", label=_("Region"),
                                 queryset=Region.objects.exclude(level="station"))
    run = django_filters.NumberFilter(label=_("Run #"), field_name="run_id", max_value=MAX_ID)
    adjusted = django_filters.BooleanFilter(label=_("Manually adjusted"))
    changed = django_filters.BooleanFilter(label=_("Grade changed in the run"), method="grade_changed")

    class Meta:
        model = Score
        fields = ["q", "grade", "region", "run", "adjusted"]

    def search(self, qs, name, value):
        return qs.filter(enterprise__name__icontains=value) | qs.filter(enterprise__uscc__iexact=value)

    def grade_changed(self, qs, name, value):
        from django.db.models import F

        if value is None:
            return qs
        return qs.exclude(grade=F("previous_grade")) if value else qs.filter(grade=F("previous_grade"))


class GradeAdjustmentFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=AdjustmentStatus.choices)
    q = django_filters.CharFilter(label=_("Enterprise"), field_name="enterprise__name", lookup_expr="icontains")

    class Meta:
        model = GradeAdjustment
        fields = ["status", "q"]


class GradeChangeFilterSet(django_filters.FilterSet):
    new_grade = django_filters.ChoiceFilter(label=_("New grade"), choices=Grade.choices)
    q = django_filters.CharFilter(label=_("Enterprise"), field_name="enterprise__name", lookup_expr="icontains")

    class Meta:
        model = GradeChange
        fields = ["new_grade", "q"]


class ModelVersionFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ModelStatus.choices)

    class Meta:
        model = ModelVersion
        fields = ["status"]
