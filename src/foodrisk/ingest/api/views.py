from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from foodrisk.core.api.generic import ReadOnlyScopedViewSet, ScopedModelViewSet

from ..models import Batch, MatchCandidate, QuarantinedRow
from ..services import DuplicateFile, IngestError, batches
from . import serializers as s


class BatchViewSet(ScopedModelViewSet):
    """GET: batches in scope with counts and quality report. POST (multipart file, source, kind): 202 with
    the batch id and its job; the file is imported by the worker."""

    queryset = Batch.objects.select_related("source", "quality").all()
    serializer_class = s.BatchSerializer
    filterset_fields = ["kind", "status", "source"]
    http_method_names = ["get", "post", "head", "options"]

    def get_serializer_class(self):
        return s.BatchUploadSerializer if self.action == "create" else s.BatchSerializer

    def list(self, request, *args, **kwargs):
        batches.fail_stale_batches()  # a batch whose process died reads as failed (and resumable), not running
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        batches.fail_stale_batches()
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """A failed (e.g. interrupted) batch imported again from its first uncommitted row, by the worker: 202."""
        batch = self.get_object()
        try:
            job = batches.resume_batch(batch, user=request.user)
        except IngestError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response({"id": batch.pk, "job": job.pk, "rows_committed": batch.rows_read},
                        status=status.HTTP_202_ACCEPTED)

    def create(self, request, *args, **kwargs):
        upload = s.BatchUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        try:
            batch = batches.create_batch(user=request.user, source=data["source"], kind=data["kind"],
                                          content=data["file"].read(), file_name=data["file"].name,
                                          profile=data.get("profile") or None, import_day=data.get("import_day"),
                                          confirm_duplicate=data["confirm_duplicate"])
        except DuplicateFile as exc:
            return Response({"detail": str(exc), "duplicate_of": exc.earlier.pk}, status=status.HTTP_409_CONFLICT)
        except IngestError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        job = batches.start_batch(batch, user=request.user)
        return Response({"id": batch.pk, "job": job.pk, "status": batch.status,
                         "url": request.build_absolute_uri(f"{request.path}{batch.pk}/")},
                        status=status.HTTP_202_ACCEPTED)


class QuarantinedRowViewSet(ReadOnlyScopedViewSet):
    queryset = QuarantinedRow.objects.select_related("batch")
    serializer_class = s.QuarantinedRowSerializer
    filterset_fields = ["batch", "status"]


class MatchCandidateViewSet(ReadOnlyScopedViewSet):
    queryset = MatchCandidate.objects.all()
    serializer_class = s.MatchCandidateSerializer
    filterset_fields = ["batch", "status"]
