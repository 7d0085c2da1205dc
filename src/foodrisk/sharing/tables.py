import django_tables2 as tables

from .models import ClientSystem, SharingCall


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
