import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from foodrisk.core.crypto import mask

from .models import Enterprise, Licence


def grade_badge(grade):
    if not grade:
        return format_html('<span class="text-muted">{}</span>', _("not graded"))
    return format_html('<span class="grade grade-{}">{}</span>', grade, grade)


class EnterpriseTable(tables.Table):
    """The legal representative is masked on the page; exports mask the `sensitive_columns` themselves unless a
    second person approved them in clear (core.services.exports)."""

    sensitive_columns = ("legal_representative",)

    name = tables.Column(linkify=True)
    region = tables.Column(accessor="region__full_name", verbose_name=_("region"))
    legal_representative = tables.Column(verbose_name=_("legal representative"), orderable=False)
    current_grade = tables.Column(verbose_name=_("grade"))

    class Meta:
        model = Enterprise
        fields = ["uscc", "name", "legal_representative", "region", "business_form", "scale", "status",
                  "static_tier", "key_supervision", "current_grade", "current_score"]
        attrs = {"class": "table table-sm table-hover"}

    def render_region(self, record):
        return record.region.full_name or record.region.name

    def value_region(self, record):
        return self.render_region(record)

    def render_legal_representative(self, value):
        return mask(value)

    def value_legal_representative(self, value):
        return value or ""

    def render_current_grade(self, value):
        return grade_badge(value)

    def value_current_grade(self, value):
        return value or ""


class LicenceTable(tables.Table):
    licence_no = tables.Column(linkify=True)
    enterprise = tables.Column(linkify=True)

    class Meta:
        model = Licence
        fields = ["licence_no", "enterprise", "kind", "category", "issued_on", "expires_on", "status"]
        attrs = {"class": "table table-sm table-hover"}
