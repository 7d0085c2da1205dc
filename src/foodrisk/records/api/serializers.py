from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from foodrisk.core.api.generic import ScopedModelSerializer

from .. import forms, validation
from ..models import RECORD_KINDS, Attachment, ListEntry

LINEAGE = ["source", "source_batch", "file_digest", "first_seen_at", "last_seen_at"]
EXTRA_READ_ONLY = {"penalties": ["repaired", "repaired_on"], "list_entries": ["entry_key", "repaired"]}


class RecordSerializer(ScopedModelSerializer):
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    enterprise_uscc = serializers.CharField(source="enterprise.uscc", read_only=True)

    def validate(self, attrs):
        model = self.Meta.model
        values = {f.name: getattr(self.instance, f.name) for f in model._meta.concrete_fields} if self.instance else {}
        values.update(attrs)
        found = validation.problems(model, values)
        if found:
            raise serializers.ValidationError({k: [str(v)] for k, v in found.items()})
        if model is ListEntry:
            enterprise = values.get("enterprise")
            if enterprise is not None and values.get("list_kind") and values.get("listed_on"):
                key = ListEntry.make_key(enterprise.uscc, values["list_kind"], values["listed_on"])
                clash = ListEntry.objects.filter(entry_key=key)
                if self.instance is not None:
                    clash = clash.exclude(pk=self.instance.pk)
                if clash.exists():
                    raise serializers.ValidationError(_("This enterprise is already on that list from that date."))
                attrs["entry_key"] = key
        return attrs


def serializer_for(kind, model):
    form_fields = forms.FORMS[kind]._meta.fields
    read_only = [*EXTRA_READ_ONLY.get(kind, []), *LINEAGE]
    meta = type("Meta", (), {"model": model,
                             "fields": ["id", *form_fields, "enterprise_name", "enterprise_uscc", *read_only],
                             "read_only_fields": read_only})
    return type(f"{model.__name__}Serializer", (RecordSerializer,), {"Meta": meta})


SERIALIZERS = {kind: serializer_for(kind, model) for kind, model in RECORD_KINDS.items()}


class AttachmentSerializer(ScopedModelSerializer):
    record_type = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "enterprise", "kind", "description", "sha256", "record_type", "object_id", "uploaded_by",
                  "uploaded_at", "download_url"]
        read_only_fields = fields

    def get_record_type(self, obj) -> str | None:
        return obj.content_type.model if obj.content_type_id else None

    def get_download_url(self, obj) -> str:
        url = reverse("records:attachment_download", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url
