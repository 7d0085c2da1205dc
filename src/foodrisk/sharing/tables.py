import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from .models import ClientSystem, Delivery, ExchangeExport, SharingAlarm, SharingCall


class ClientSystemTable(tables.Table):
    name = tables.Column(linkify=True)

    class Meta:
        model = ClientSystem
        fields = ["name", "organisation", "status", "region", "algorithm", "rate_per_minute", "valid_until",
                  "created_at"]


class SharingCallTable(tables.Table):
    class Meta:
        model = SharingCall
        fields = ["at", "client", "method", "path", "status", "code", "rows", "latency_ms", "ip"]


class DeliveryTable(tables.Table):
    event_id = tables.Column(linkify=True)
    client = tables.Column(accessor="subscription__client", verbose_name=_("client system"), orderable=False)

    class Meta:
        model = Delivery
        fields = ["event_id", "created_at", "client", "event_type", "enterprise", "status", "attempts",
                  "next_attempt_at", "finished_at"]
class ExchangeExportTable(tables.Table):
    id = tables.Column(linkify=True, verbose_name="#")

    class Meta:
        model = ExchangeExport
        fields = ["id", "client", "dataset", "format", "status", "rows", "as_of", "created_at", "requested_by"]


class SharingAlarmTable(tables.Table):
    acknowledge = tables.TemplateColumn(
        template_name="sharing/alarm_acknowledge_cell.html", verbose_name="", orderable=False)

    class Meta:
        model = SharingAlarm
        fields = ["raised_at", "kind", "client", "ip", "observed", "threshold", "window_start", "window_end",
                  "acknowledged_by", "acknowledged_at"]
