"""The signed API's streamed change pull, inbound pushes and exchange files (issue 15, item 5): the same
SignedView (signature checked first, every call logged, refusals with their codes) as the pull API."""

import time

from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiRequest, extend_schema
from rest_framework.parsers import BaseParser
from rest_framework.response import Response

from .. import exchange, streaming
from ..models import SharingCall
from .views import FIELDS, REFUSALS, SIGNED, SignedView


class RawBody(BaseParser):
    """The body is read raw (it is signed as sent); declared so that the schema names the accepted types."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read() if stream is not None else b""


class ChangeStreamView(SignedView):
    @extend_schema(operation_id="sharing_dataset_changes_stream", parameters=[
        *SIGNED, FIELDS,
        OpenApiParameter("since", OpenApiTypes.INT, description="the last change number received (0: all)")],
        responses={(200, "application/x-ndjson"): OpenApiTypes.STR, **REFUSALS})
    def get(self, request, code):
        q = request.query_params
        fields, start = streaming.prepare(self.client, code, q.get("since"), q.get("fields", ""))
        started, client, secret = self.started, self.client, request._request.sharing_secret
        view = self

        def finished(count):  # the call's row is written before the stream; its rows and time when it ends
            SharingCall.objects.filter(pk=view.call.pk).update(
                rows=count, latency_ms=int((time.perf_counter() - started) * 1000))

        return StreamingHttpResponse(streaming.lines(client, secret, code, fields, start, on_end=finished),
                                     content_type=streaming.CONTENT_TYPE)


class InboundView(SignedView):
    parser_classes = [RawBody]
    one_transaction = False  # the push runs an ingest batch, which commits chunk by chunk

    @extend_schema(operation_id="sharing_inbound_push", parameters=SIGNED,
                   request={"application/json": OpenApiRequest(OpenApiTypes.OBJECT),
                            "text/csv": OpenApiRequest(OpenApiTypes.BINARY)},
                   responses={200: OpenApiTypes.OBJECT, **REFUSALS, 409: REFUSALS[400], 413: REFUSALS[400],
                              415: REFUSALS[400]})
    def post(self, request, kind):
        result = exchange.push(self.client, kind, request.content_type, request._request.body)
        self.rows = result["rows_read"]
        return Response({"code": "OK", "kind": kind, "data": result})


class ExportListView(SignedView):
    @extend_schema(operation_id="sharing_exports", parameters=SIGNED, responses={200: OpenApiTypes.OBJECT, **REFUSALS})
    def get(self, request):
        data = exchange.client_exports(self.client)
        self.rows = len(data)
        return Response({"code": "OK", "data": data})


class ExportFileView(SignedView):
    @extend_schema(operation_id="sharing_export_file", parameters=SIGNED,
                   responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **REFUSALS})
    def get(self, request, pk, name):
        entry, handle = exchange.client_file(self.client, pk, name)
        self.rows = entry["rows"]
        return FileResponse(handle, as_attachment=True, filename=name,
                            content_type=exchange.CONTENT_TYPES.get(name.rsplit(".", 1)[-1],
                                                                    "application/octet-stream"))
