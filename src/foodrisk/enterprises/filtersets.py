import json

import django_filters as filters
from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from foodrisk.core.filtersets import ContributedFilterSet, RegionSubtreeFilter
from foodrisk.core.validators import MAX_ID

from .choices import BusinessForm, EnterpriseStatus, Grade, StaticTier
from .models import Enterprise, Licence


def listing_category(qs, category, via=""):
    """qs (enterprises, or rows reaching them through `via`, e.g. "enterprise__") narrowed to those listing
    `category` among their food categories (Enterprise.food_categories, a JSON list; on SQLite, where JSON has no
    containment lookup, the element with its quotes in the text)."""
    if connection.features.supports_json_field_contains:
        return qs.filter(**{f"{via}food_categories__contains": [category]})
    return qs.filter(**{f"{via}food_categories__icontains": json.dumps(category, ensure_ascii=False)})


class FoodCategoryFilter(filters.CharFilter):
    """Rows of enterprises listing exactly this food category among theirs (the lists behind the statistics
    figures filtered by a category); `via`: the path from the list's model to the enterprise."""

    def __init__(self, *args, via="", **kwargs):
        kwargs.setdefault("label", _("food category"))
        super().__init__(*args, **kwargs)
        self.via = via

    def filter(self, qs, value):
        value = (value or "").strip()
        return listing_category(qs, value, self.via) if value else qs


def search_enterprises(qs, value, prefix=""):
    """USCC, name, former names, pinyin initials and licence number. `prefix` names the path to the enterprise."""
    value = (value or "").strip()
    if not value:
        return qs
    p = prefix
    cond = (Q(**{f"{p}uscc__istartswith": value}) | Q(**{f"{p}name__icontains": value})
            | Q(**{f"{p}former_names__icontains": value}) | Q(**{f"{p}name_initials__istartswith": value.lower()}))
    matches = Licence.objects.filter(licence_no__istartswith=value).values("enterprise_id")
    cond |= Q(**{f"{p}id__in": matches})
    return qs.filter(cond)


class EnterpriseFilterSet(ContributedFilterSet):
    q = filters.CharFilter(label=_("search"), method="search",
                           help_text=_("USCC, name, former name, pinyin initials or licence number"))
    region = RegionSubtreeFilter()
    business_form = filters.ChoiceFilter(label=_("business form"), choices=BusinessForm.choices)
    current_grade = filters.ChoiceFilter(label=_("grade"), choices=Grade.choices)
    status = filters.ChoiceFilter(label=_("status"), choices=EnterpriseStatus.choices)
    key_supervision = filters.BooleanFilter(label=_("key supervision"))
    static_tier = filters.ChoiceFilter(label=_("static risk tier"), choices=StaticTier.choices)

    class Meta:
        model = Enterprise
        fields = ["q", "region", "business_form", "current_grade", "status", "key_supervision", "static_tier"]

    def search(self, qs, name, value):
        return search_enterprises(qs, value)


class LicenceFilterSet(filters.FilterSet):
    q = filters.CharFilter(label=_("search"), method="search")
    region = RegionSubtreeFilter(field_name="enterprise__region")
    enterprise = filters.NumberFilter(field_name="enterprise_id", label=_("enterprise"), max_value=MAX_ID)
    expires_before = filters.DateFilter(field_name="expires_on", lookup_expr="lte", label=_("expires before"))

    class Meta:
        model = Licence
        fields = ["q", "kind", "status", "region", "enterprise", "expires_before"]

    def search(self, qs, name, value):
        value = value.strip()
        return qs.filter(Q(licence_no__istartswith=value) | Q(enterprise__name__icontains=value)
                         | Q(enterprise__uscc__istartswith=value))
