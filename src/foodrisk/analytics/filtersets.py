"""Filters analytics contributes to the enterprise list (enterprises.filtersets.EnterpriseFilterSet.contribute),
so that every figure of the statistics pages opens the list of exactly its enterprises: the grade held on a day
(the grade history, point in time: the migration matrix), inspected between two days (coverage; while graded
some grades: the enterprises inspected of the supervision figures), several grades at once (C + D) and a food
category (the ranking); and to the inspection and task lists, the grade in force when the inspection was made or
the rectification ordered (the supervision figures). Registered in AnalyticsConfig.ready()."""

import django_filters
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES

from foodrisk.enterprises.choices import Grade
from foodrisk.enterprises.filtersets import FoodCategoryFilter
from foodrisk.records.models import Inspection

from .services import with_grade_in_force
from .stats import NOT_GRADED, grade_on, task_made_on

GRADE_OR_NONE = [(NOT_GRADED, _("not graded")), *Grade.choices]


class DayParameter(django_filters.DateFilter):
    """A day another filter of the set reads; filters nothing itself."""

    def filter(self, qs, value):
        return qs


class GradesParameter(django_filters.MultipleChoiceFilter):
    """Grades another filter of the set reads; filters nothing itself."""

    def filter(self, qs, value):
        return qs


class GradeOnFilter(django_filters.ChoiceFilter):
    """The grade an enterprise held at the end of the day given in the set's `day` field (today without one);
    "none": not graded yet on that day."""

    def __init__(self, *args, day, **kwargs):
        kwargs.setdefault("choices", GRADE_OR_NONE)
        super().__init__(*args, **kwargs)
        self.day = day

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        day = self.parent.form.cleaned_data.get(self.day) or timezone.localdate()
        alias = f"_{self.field_name}_held"
        return qs.alias(**{alias: grade_on(day)}).filter(**{alias: "" if value == NOT_GRADED else value})


class InspectedFilter(django_filters.BooleanFilter):
    """Has (yes) or has not (no) an inspection record dated between the set's `since` and `until` days (either
    may be left open), while graded one of the set's `grades` field when given (the grade in force on the day of
    the inspection: the supervision figures' enterprises inspected)."""

    def __init__(self, *args, since, until, grades, **kwargs):
        super().__init__(*args, **kwargs)
        self.since, self.until, self.grades = since, until, grades

    def filter(self, qs, value):
        if value is None:
            return qs
        data = self.parent.form.cleaned_data
        inspections = Inspection.objects.filter(enterprise=OuterRef("pk"))
        if data.get(self.since):
            inspections = inspections.filter(inspected_on__gte=data[self.since])
        if data.get(self.until):
            inspections = inspections.filter(inspected_on__lte=data[self.until])
        if data.get(self.grades):
            inspections = with_grade_in_force(inspections, F("inspected_on")).filter(held__in=data[self.grades])
        return qs.filter(Exists(inspections)) if value else qs.exclude(Exists(inspections))


class GradeInForceFilter(django_filters.ChoiceFilter):
    """Records (inspections, rectification orders) made while the enterprise held this grade: the grade in force
    on the record's day (services.grade_in_force; `day` makes the day's expression), as the supervision figures
    count them."""

    def __init__(self, *args, day, **kwargs):
        kwargs.setdefault("choices", Grade.choices)
        super().__init__(*args, **kwargs)
        self.day = day

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        return with_grade_in_force(qs, self.day()).filter(held=value)


def contribute():
    from foodrisk.enterprises.filtersets import EnterpriseFilterSet
    from foodrisk.records.filtersets import InspectionFilterSet
    from foodrisk.supervision.filtersets import TaskFilterSet

    add = EnterpriseFilterSet.contribute

    add("grades", django_filters.MultipleChoiceFilter(label=_("grades"), field_name="current_grade",
                                                     choices=Grade.choices))
    add("food_category", FoodCategoryFilter())
    add("first_date", DayParameter(label=_("first date")))
    add("first_grade", GradeOnFilter(label=_("grade on the first date"), day="first_date"))
    add("second_date", DayParameter(label=_("second date")))
    add("second_grade", GradeOnFilter(label=_("grade on the second date"), day="second_date"))
    add("inspected_since", DayParameter(label=_("inspected from")))
    add("inspected_until", DayParameter(label=_("inspected until")))
    add("inspected_as", GradesParameter(label=_("grades when inspected"), choices=Grade.choices))
    add("inspected", InspectedFilter(label=_("inspected in these days"), since="inspected_since",
                                     until="inspected_until", grades="inspected_as"))
    InspectionFilterSet.contribute("grade_then", GradeInForceFilter(label=_("grade when inspected"),
                                                                    day=lambda: F("inspected_on")))
    TaskFilterSet.contribute("grade_then", GradeInForceFilter(label=_("grade when ordered"), day=task_made_on))
