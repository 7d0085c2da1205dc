import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from .models import ClientSystem, Delivery, SharingCall


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
