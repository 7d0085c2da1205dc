"""Alerts over REST: warning rules (CRUD), alerts (list / detail, filterable like the work queue) and
the workflow actions POST …/review, …/dispatch, …/handle, …/close, …/bulk-review/, all through the services."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.decorators import action
from rest_framework.response import Response

from foodrisk.core.api.generic import Conflict, ReadOnlyScopedViewSet, ScopedModelViewSet, save_through

from .. import services
from ..filtersets import AlertFilterSet
from ..models import Alert, WarningRule
from .serializers import (
    AlertDetailSerializer,
    AlertSerializer,
    BulkReviewResultSerializer,
    BulkReviewSerializer,
    CloseSerializer,
    DispatchSerializer,
    HandleSerializer,
    ReviewSerializer,
    WarningRuleSerializer,
)


def _call(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except ValidationError as exc:
        raise exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else
                                         {"detail": exc.messages, "code": exc.code or "invalid"})
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc) or None)


class WarningRuleViewSet(ScopedModelViewSet):
    """Warning rules. Writes go through services.save_rule / delete_rule: params validated and completed
    with their defaults, audited; a rule that alerts refer to cannot be deleted (409: disable it)."""

    queryset = WarningRule.objects.order_by("code")
    serializer_class = WarningRuleSerializer
    filterset_fields = ["kind", "level", "enabled"]

    def perform_create(self, serializer):
        save_through(services.save_rule, WarningRule(), serializer, user=self.request.user)

    def perform_update(self, serializer):
        save_through(services.save_rule, serializer.instance, serializer, user=self.request.user)

    def perform_destroy(self, instance):
        try:
            services.delete_rule(instance, user=self.request.user)
        except services.RuleInUse as exc:
            raise Conflict({"detail": exc.messages[0], "code": exc.code}) from exc


class AlertViewSet(ReadOnlyScopedViewSet):
    """Alerts in the caller's scope. `?queue=mine|organisation` narrows to a work queue; the filters are
    those of the UI (status, open, level, rule, kind, region, grade, overdue, deadline_before, …)."""

    queryset = Alert.objects.order_by("-raised_at", "-pk")
    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    http_method_names = ["get", "head", "options", "post"]

    def get_queryset(self):
        which = self.request.query_params.get("queue", "all")
        qs = services.queue(self.request.user, which if which in ("mine", "organisation") else "all")
        if self.action == "retrieve":
            qs = qs.prefetch_related("occurrence_set", "events__user")
        return qs.order_by("-raised_at", "-pk")

    def get_serializer_class(self):
        return AlertDetailSerializer if self.action == "retrieve" else AlertSerializer

    def get_permissions(self):
        if self.action in ("review", "dispatch_to", "handle", "close", "bulk_review"):  # the services check alerts.<action>_alert
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    def create(self, request, *args, **kwargs):
        raise exceptions.MethodNotAllowed("POST")  # alerts are raised by rules, not posted

    @extend_schema(parameters=[OpenApiParameter("queue", str, enum=["mine", "organisation", "all"])])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _alert(self):
        # the object must be visible (else 404); the service checks the action's permission
        return self.get_object()

    def _respond(self, alert):
        alert = services.queue(self.request.user, "all").get(pk=alert.pk)
        return Response(AlertDetailSerializer(alert, context={"request": self.request}).data)

    @extend_schema(request=ReviewSerializer, responses=AlertDetailSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        s = ReviewSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        alert = _call(services.review, self._alert(), user=request.user,
                      confirm=s.validated_data["decision"] == "confirm", note=s.validated_data["note"])
        return self._respond(alert)

    @extend_schema(request=DispatchSerializer, responses=AlertDetailSerializer)
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def dispatch_to(self, request, pk=None):
        s = DispatchSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        alert = _call(services.dispatch, self._alert(), user=request.user, organisation=d.get("organisation"),
                      assignee=d.get("assignee"), deadline=d.get("deadline"), instructions=d["instructions"])
        return self._respond(alert)

    @extend_schema(request=HandleSerializer, responses=AlertDetailSerializer)
    @action(detail=True, methods=["post"])
    def handle(self, request, pk=None):
        data = request.data  # JSON as sent (the serializer refuses what is not an object)
        if hasattr(data, "getlist"):  # a multipart form: every uploaded file, not the last one only
            data = data.copy()
            data.setlist("files", request.FILES.getlist("files"))
        s = HandleSerializer(data=data)
        s.is_valid(raise_exception=True)
        alert = _call(services.handle, self._alert(), user=request.user, feedback=s.validated_data["feedback"],
                      files=s.validated_data.get("files") or ())
        return self._respond(alert)

    @extend_schema(request=CloseSerializer, responses=AlertDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        s = CloseSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        alert = _call(services.close, self._alert(), user=request.user, outcome=s.validated_data["outcome"],
                      note=s.validated_data["note"])
        return self._respond(alert)

    @extend_schema(request=BulkReviewSerializer, responses=BulkReviewResultSerializer)
    @action(detail=False, methods=["post"], url_path="bulk-review", url_name="bulk-review")
    def bulk_review(self, request):
        """Confirm or dismiss several alerts with one reason. Each is reviewed on its own (permission, region and
        state checked, audited): 200 with the ones done and the ones refused and why; 403 without the permission
        to review alerts at all."""
        if not request.user.has_perm("alerts.review_alert"):
            raise exceptions.PermissionDenied()
        s = BulkReviewSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        done, refused = _call(services.bulk_review, d["ids"], user=request.user, confirm=d["decision"] == "confirm",
                              note=d["note"])
        return Response({"done": [a.pk for a in done],
                         "refused": [{"id": pk, "alert": label, "detail": message} for pk, label, message in refused]})
