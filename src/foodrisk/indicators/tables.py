import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from .models import IndicatorSet


class IndicatorSetTable(tables.Table):
    name = tables.Column(linkify=True)
    indicator_count = tables.Column(verbose_name=_("indicators"), empty_values=(), orderable=False)

    class Meta:
        model = IndicatorSet
        fields = ("code", "version", "name", "status", "scope_region", "profile", "created_by", "approved_by",
                  "activated_at", "updated_at")
        sequence = ("code", "version", "name", "status", "scope_region", "indicator_count")
        attrs = {"class": "table table-sm table-hover"}

    def render_indicator_count(self, record):
        return len(record.spec.get("indicators", []))
