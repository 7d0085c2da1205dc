from foodrisk.core.api.generic import ReadOnlyScopedViewSet, ScopedModelViewSet, save_through

from .. import services
from ..filtersets import FILTERSETS, AttachmentFilterSet
from ..models import RECORD_KINDS, Attachment
from .serializers import SERIALIZERS, AttachmentSerializer


class RecordViewSet(ScopedModelViewSet):
    """CRUD of one record kind; every write goes through services.save_record / delete_record."""

    def get_queryset(self):
        return super().get_queryset().select_related("enterprise")

    def perform_create(self, serializer):
        save_through(services.save_record, self.queryset.model(), serializer, user=self.request.user)

    def perform_update(self, serializer):
        save_through(services.save_record, serializer.instance, serializer, user=self.request.user)

    def perform_destroy(self, instance):
        services.delete_record(instance, user=self.request.user)


def viewset_for(kind, model):
    return type(f"{model.__name__}ViewSet", (RecordViewSet,), {
        "queryset": model.objects.all(), "serializer_class": SERIALIZERS[kind], "filterset_class": FILTERSETS[kind],
    })


VIEWSETS = {kind: viewset_for(kind, model) for kind, model in RECORD_KINDS.items()}


class AttachmentViewSet(ReadOnlyScopedViewSet):
    """Metadata only; the file itself is downloaded through the scoped, audited download view."""

    queryset = Attachment.objects.all()
    serializer_class = AttachmentSerializer
    filterset_class = AttachmentFilterSet
