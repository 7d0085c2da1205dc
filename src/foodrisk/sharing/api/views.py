"""The signed pull API (/api/sharing/v1/…): no session, no token — each request is signed by its client
system (signing.py); each answer carries a result code and is signed back; each call is logged."""

import time

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import services, signing
from ..catalogue import DATASETS
from ..errors import CODES, SharingError

# A refusal of the sharing API ({code, message}); a request refused before it reaches the API (a NUL in the URL:
# core's middleware) answers {detail} like the rest of /api/.
ERROR = inline_serializer("SharingError", {"code": serializers.ChoiceField(choices=list(CODES), required=False),
                                           "message": serializers.CharField(required=False),
                                           "detail": serializers.CharField(required=False)})
SIGNED = [OpenApiParameter(h, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)
          for h in (signing.KEY_HEADER, signing.TIMESTAMP_HEADER, signing.NONCE_HEADER, signing.SIGNATURE_HEADER)]
FIELDS = OpenApiParameter("fields", OpenApiTypes.STR, description="comma-separated granted fields (default: all)")
# 404 left out: a path the URL patterns do not match (a "/" inside the USCC) is Django's own 404 page
REFUSALS = {status: ERROR for status in sorted({s for s, _m in CODES.values() if s >= 400} - {404})}


class SignedView(APIView):
    """Checks the signature before the handler; logs and signs every answer, refusals included."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    # A read commits its nonce and its call-log row together: one COMMIT (one WAL flush) per call instead of two,
    # the largest part of a lookup's time on PostgreSQL. A refused nonce is only a savepoint's rollback, so the
    # refusal is still logged. Views that start work of their own (an inbound push runs an ingest batch) say False.
    one_transaction = True

    def dispatch(self, request, *args, **kwargs):
        if not self.one_transaction:
            return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        self.started, self.rows = time.perf_counter(), 0
        super().initial(request, *args, **kwargs)
        self.client = services.authenticate(request._request, request._request.body)

    def handle_exception(self, exc):
        if isinstance(exc, SharingError):
            return Response(exc.body(), status=exc.status)
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        raw = request._request if hasattr(request, "_request") else request
        client = getattr(raw, "sharing_client", None)
        data = getattr(response, "data", None)
        code = data.get("code", "BAD_REQUEST") if isinstance(data, dict) else "BAD_REQUEST"
        if response.status_code < 400:
            code = "OK"
        secret = getattr(raw, "sharing_secret", None)
        # only a client that proved it holds the secret gets a signed answer; a streamed one is signed by its
        # trailer (streaming.py) and a file by the signed manifest that lists its SHA-256 (exchange.py)
        if secret is not None and not response.streaming:
            response.render()
            stamp = str(int(time.time()))
            response[signing.TIMESTAMP_HEADER] = stamp
            response[signing.SIGNATURE_HEADER] = signing.sign(
                client.algorithm, secret, signing.response_message(response.status_code, stamp, response.content))
        self.call = services.log_call(
            raw, client, status=response.status_code, code=code, rows=getattr(self, "rows", 0),
            latency_ms=int((time.perf_counter() - getattr(self, "started", time.perf_counter())) * 1000))
        return response


class EnterpriseLookupView(SignedView):
    @extend_schema(operation_id="sharing_enterprise_lookup", parameters=[*SIGNED, FIELDS],
                   responses={200: OpenApiTypes.OBJECT, **REFUSALS})
    def get(self, request, uscc):
        row = services.lookup(self.client, uscc, request.query_params.get("fields", ""))
        self.rows = 1
        return Response({"code": "OK", "dataset": "enterprise_grade", "version": DATASETS["enterprise_grade"].version,
                         "data": row})


class DatasetLookupView(SignedView):
    """One enterprise's rows of any dataset: its row of an enterprise dataset, the list of its warnings or
    measures."""

    @extend_schema(operation_id="sharing_dataset_lookup", parameters=[*SIGNED, FIELDS],
                   responses={200: OpenApiTypes.OBJECT, **REFUSALS})
    def get(self, request, code, uscc):
        data = services.lookup(self.client, uscc, request.query_params.get("fields", ""), dataset_code=code)
        self.rows = len(data) if isinstance(data, list) else 1
        return Response({"code": "OK", "dataset": code, "version": DATASETS[code].version, "data": data})


class DatasetPageView(SignedView):
    @extend_schema(operation_id="sharing_dataset_page", parameters=[
        *SIGNED, FIELDS,
        OpenApiParameter("after", OpenApiTypes.INT, description="the last row id received (full pages)"),
        OpenApiParameter("since", OpenApiTypes.INT, description="the last change number received (changes)"),
        OpenApiParameter("limit", OpenApiTypes.INT, description="rows per page, 1–1000 (100)")],
        responses={200: OpenApiTypes.OBJECT, **REFUSALS})
    def get(self, request, code):
        q = request.query_params
        rows, cursor = services.page(self.client, code, after=q.get("after"), since=q.get("since"),
                                     limit=q.get("limit"), requested_fields=q.get("fields", ""))
        self.rows = len(rows)
        return Response({"code": "OK", "dataset": code, "version": DATASETS[code].version, "count": len(rows),
                         "next": cursor, "data": rows})
