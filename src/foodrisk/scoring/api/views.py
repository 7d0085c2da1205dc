"""Scoring over REST: runs (read, start), scores (by enterprise), grade changes, adjustments
(propose / approve / reject / withdraw through the services, two-person rule included)."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from foodrisk.core.api.generic import ReadOnlyScopedViewSet, ScopedModelViewSet
from foodrisk.core.validators import is_digits

from .. import model_services, services
from ..models import DriftReport, GradeAdjustment, GradeChange, ModelVersion, Score, ScoringRun
from .serializers import (
    AdjustmentApprovalSerializer,
    AdjustmentNoteSerializer,
    DriftReportSerializer,
    GradeAdjustmentSerializer,
    GradeChangeSerializer,
    ModelChangeSerializer,
    ModelNoteSerializer,
    ModelPreviewSerializer,
    ModelVersionListSerializer,
    ModelVersionSerializer,
    RunStartSerializer,
    ScoreSerializer,
    ScoringRunSerializer,
    TrainSerializer,
)


def _call(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except ValidationError as exc:
        raise exceptions.ValidationError(exc.messages)
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc))


class ScoringRunViewSet(ReadOnlyScopedViewSet):
    queryset = ScoringRun.objects.order_by("-started_at")
    serializer_class = ScoringRunSerializer
    filterset_fields = ["kind", "status"]
    http_method_names = ["get", "head", "options", "post"]

    @extend_schema(request=RunStartSerializer, responses={202: dict})
    def create(self, request):
        if not request.user.has_perm("scoring.add_scoringrun"):
            raise exceptions.PermissionDenied()
        s = RunStartSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        job = services.start_run_job(s.validated_data["kind"], user=request.user,
                                     as_of=s.validated_data.get("as_of"))
        return Response({"job": job.pk}, status=status.HTTP_202_ACCEPTED)


class ScoreViewSet(ReadOnlyScopedViewSet):
    """Scores; `?enterprise=<id>` gives one enterprise's history, `?latest=1` only its latest score."""

    queryset = Score.objects.order_by("-run_id", "enterprise_id").select_related("run")  # run: detail codes
    serializer_class = ScoreSerializer
    filterset_fields = ["enterprise", "run", "grade", "adjusted"]

    def filter_queryset(self, queryset):
        qs = super().filter_queryset(queryset)  # the enterprise filter first: a sliced query cannot be filtered
        if self.request.query_params.get("latest") and self.request.query_params.get("enterprise"):
            qs = qs[:1]
        return qs


class GradeChangeViewSet(ReadOnlyScopedViewSet):
    queryset = GradeChange.objects.order_by("-at", "-pk")
    serializer_class = GradeChangeSerializer
    filterset_fields = ["enterprise", "run", "new_grade"]


class GradeAdjustmentViewSet(ScopedModelViewSet):
    queryset = GradeAdjustment.objects.order_by("-proposed_at")
    serializer_class = GradeAdjustmentSerializer
    filterset_fields = ["enterprise", "status"]
    http_method_names = ["get", "head", "options", "post"]

    def perform_create(self, serializer):
        d = serializer.validated_data
        serializer.instance = _call(services.propose_adjustment, d["enterprise"], d["proposed_grade"], d["reason"],
                                    user=self.request.user, valid_until=d.get("valid_until"))

    def _act(self, request, func, serializer_class=AdjustmentNoteSerializer):
        s = serializer_class(data=request.data)
        s.is_valid(raise_exception=True)
        adj = _call(func, self.get_object(), user=request.user, note=s.validated_data.get("note", ""))
        return Response(GradeAdjustmentSerializer(adj).data)

    def get_permissions(self):
        if self.action in ("approve", "reject", "withdraw"):  # the services check who may decide
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    def get_queryset(self):
        # actions are POSTs but only need view access to the object; the services check the rest
        return GradeAdjustment.objects.restrict(self.request.user, "view").order_by("-proposed_at")

    @extend_schema(request=AdjustmentApprovalSerializer, responses=GradeAdjustmentSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._act(request, services.approve_adjustment, AdjustmentApprovalSerializer)

    @extend_schema(request=AdjustmentNoteSerializer, responses=GradeAdjustmentSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._act(request, services.reject_adjustment)

    @extend_schema(request=AdjustmentNoteSerializer, responses=GradeAdjustmentSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._act(request, services.withdraw_adjustment)


class ModelVersionViewSet(ReadOnlyScopedViewSet):
    """Model versions and their model cards. POST /train/ queues a training job (scoring.add_modelversion);
    review / promote / retire / rollback / drift need scoring.promote_modelversion (checked by the services;
    promoting also needs a second person who did not train the model)."""

    queryset = ModelVersion.objects.order_by("-created_at", "-pk")
    serializer_class = ModelVersionSerializer
    filterset_fields = ["status", "indicator_set"]
    http_method_names = ["get", "head", "options", "post"]

    def get_serializer_class(self):
        return ModelVersionListSerializer if self.action == "list" else ModelVersionSerializer

    def get_permissions(self):
        if self.action in ("review", "promote", "retire", "rollback", "drift", "train", "preview"):
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    def get_queryset(self):
        if self.action in ("review", "promote", "retire"):  # the services check the permission
            return ModelVersion.objects.order_by("-created_at", "-pk")
        qs = ModelVersion.objects.restrict(self.request.user, "view").order_by("-created_at", "-pk")
        return qs.defer("artifact") if self.action == "list" else qs

    def _act(self, request, func, serializer=ModelChangeSerializer, *args):
        s = serializer(data=request.data)
        s.is_valid(raise_exception=True)
        mv = _call(func, *args, user=request.user, **s.validated_data)
        return Response(ModelVersionSerializer(mv).data)

    @extend_schema(request=ModelNoteSerializer, responses=ModelVersionSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        return self._act(request, model_services.review, ModelNoteSerializer, self.get_object())

    @extend_schema(request=ModelChangeSerializer, responses=ModelVersionSerializer)
    @action(detail=True, methods=["post"])
    def promote(self, request, pk=None):
        return self._act(request, model_services.promote, ModelChangeSerializer, self.get_object())

    @extend_schema(request=ModelChangeSerializer, responses=ModelVersionSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        """Retiring the champion needs the confirmed preview of rule-only scoring (target null)."""
        return self._act(request, model_services.retire, ModelChangeSerializer, self.get_object())

    @extend_schema(request=ModelChangeSerializer, responses=ModelVersionSerializer)
    @action(detail=False, methods=["post"])
    def rollback(self, request):
        return self._act(request, model_services.rollback)

    @extend_schema(request=ModelPreviewSerializer, responses={202: dict, 200: dict})
    @action(detail=False, methods=["get", "post"])
    def preview(self, request):
        """POST {"target": id|null}: queue the impact preview of making that version the champion (null:
        retiring the champion). GET ?target=<id|none>: the latest preview of that change as the caller may see
        it (their region's matrix and movers), whether it can carry the change, and why not."""
        from ..model_views import impact_context

        if not request.user.has_perm(model_services.PROMOTE_PERM):
            raise exceptions.PermissionDenied()
        if request.method == "POST":
            s = ModelPreviewSerializer(data=request.data)
            s.is_valid(raise_exception=True)
            job = _call(model_services.start_preview_job, self._target(s.validated_data["target"]),
                        user=request.user)
            return Response({"job": job.pk}, status=status.HTTP_202_ACCEPTED)
        raw = request.query_params.get("target", "none")
        if raw != "none" and not is_digits(raw):
            raise exceptions.ValidationError({"target": "目标须为模型版本编号或 none"})
        target = self._target(None if raw == "none" else int(raw))
        run = model_services.latest_preview(target)
        ctx = impact_context(run.summary, request.user) if run is not None else {}
        return Response({
            "target": target.pk if target else None, "change": model_services.change_of(target),
            "run": run.pk if run else None, "started_at": run.started_at if run else None,
            "problem": model_services.preview_problem(run, target),
            "summary": {k: v for k, v in (ctx.get("impact") or {}).items() if k != "regions"},
        })

    def _target(self, pk):
        if pk is None:
            return None
        mv = ModelVersion.objects.restrict(self.request.user, "view").defer("artifact").filter(pk=pk).first()
        if mv is None:
            raise exceptions.NotFound()
        return mv

    @extend_schema(request=TrainSerializer, responses={202: dict})
    @action(detail=False, methods=["post"])
    def train(self, request):
        if not request.user.has_perm(model_services.TRAIN_PERM):
            raise exceptions.PermissionDenied()
        s = TrainSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        job = model_services.start_train_job(user=request.user, **s.validated_data)
        return Response({"job": job.pk}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: dict})
    @action(detail=False, methods=["post"])
    def drift(self, request):
        from foodrisk.core.services import jobs

        if not request.user.has_perm(model_services.PROMOTE_PERM):
            raise exceptions.PermissionDenied()
        job = jobs.start("scoring.drift", user=request.user)
        return Response({"job": job.pk}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: dict})
    @action(detail=True, methods=["get"])
    def artifact(self, request, pk=None):
        """The engine artifact JSON (foodrisk.model/1), for audit and re-scoring disputes."""
        import json

        return Response(json.loads(self.get_object().artifact))


class DriftReportViewSet(ReadOnlyScopedViewSet):
    queryset = DriftReport.objects.order_by("-created_at", "-pk")
    serializer_class = DriftReportSerializer
    filterset_fields = ["model_version", "status"]
