import django_filters
from django.utils.translation import gettext_lazy as _

from .choices import SetStatus
from .models import IndicatorSet


class IndicatorSetFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=SetStatus.choices)

    class Meta:
        model = IndicatorSet
        fields = ["q", "status", "code"]

    def search(self, qs, name, value):
        return qs.filter(name__icontains=value) | qs.filter(code__icontains=value)
