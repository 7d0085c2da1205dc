"""Graded supervision over REST. Every write goes through the services (audit, scope, two-person rules)."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from foodrisk.core.api.generic import ReadOnlyScopedViewSet, ScopedModelViewSet
from foodrisk.core.api.views import call_service

from ..models import InspectionPlan, InspectorAbsence, RandomDraw, RepairCase, SupervisionProfile, Task
from ..services import draws, plans, repairs
from ..services import tasks as task_services
from . import serializers as s


class ProfileViewSet(ReadOnlyScopedViewSet):
    queryset = SupervisionProfile.objects.order_by("-active", "code")
    serializer_class = s.SupervisionProfileSerializer


class PlanViewSet(ScopedModelViewSet):
    """Plans: list/detail; POST computes and stores a plan (`items` gives the per-enterprise rows)."""

    queryset = InspectionPlan.objects.order_by("-created_at", "-pk")
    serializer_class = s.InspectionPlanSerializer
    http_method_names = ["get", "head", "options", "post"]
    filterset_fields = ["organisation"]

    @extend_schema(request=s.PlanCreateSerializer, responses={201: s.InspectionPlanSerializer})
    def create(self, request):
        ser = s.PlanCreateSerializer(data=request.data, context={"request": request})
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        plan = call_service(plans.create_plan, d["organisation"], d["period_start"], d["period_end"], user=request.user,
                     profile=d.get("profile"), per_inspector=d.get("per_inspector"),
                     inspectors=d.get("inspectors"), name=d.get("name", ""))
        return Response(s.InspectionPlanSerializer(plan).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.PlanItemSerializer(many=True))
    @action(detail=True, methods=["get"])
    def items(self, request, pk=None):
        plan = self.get_object()
        qs = plan.items.select_related("enterprise").order_by("rank")
        if request.query_params.get("uncovered"):
            qs = qs.filter(uncovered__gt=0)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(s.PlanItemSerializer(page, many=True).data)


class DrawViewSet(ScopedModelViewSet):
    """Draws: list/detail; POST runs a draw (optional `seed`; the seed used is recorded and returned)."""

    queryset = RandomDraw.objects.prefetch_related("items").order_by("-created_at", "-pk")
    serializer_class = s.RandomDrawSerializer
    http_method_names = ["get", "head", "options", "post"]
    filterset_fields = ["organisation", "seed"]

    @extend_schema(request=s.DrawCreateSerializer, responses={201: s.RandomDrawSerializer})
    def create(self, request):
        ser = s.DrawCreateSerializer(data=request.data, context={"request": request})
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        draw = call_service(draws.run_draw, d["organisation"], user=request.user, seed=d.get("seed"),
                     profile=d.get("profile"), ratios=d.get("ratios"), name=d.get("name", ""),
                     create_tasks=d.get("create_tasks", False), due_on=d.get("due_on"), plan=d.get("plan"),
                     period_start=d.get("period_start"), period_end=d.get("period_end"),
                     borrow=d.get("borrow", False))
        return Response(s.RandomDrawSerializer(draw).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.DrawVerifySerializer)
    @action(detail=True, methods=["get"])
    def verify(self, request, pk=None):
        draw = self.get_object()
        return Response(s.DrawVerifySerializer({"seed": draw.seed, "reproducible": draws.verify(draw)}).data)


class AbsenceViewSet(ScopedModelViewSet):
    """Inspector absences (leave, training…): a draw whose period overlaps one skips the inspector. Audited."""

    queryset = InspectorAbsence.objects.select_related("user").order_by("-start", "-pk")
    serializer_class = s.AbsenceSerializer
    filterset_fields = ["user"]


class TaskViewSet(ScopedModelViewSet):
    queryset = Task.objects.order_by("due_on", "-pk")
    serializer_class = s.TaskSerializer
    http_method_names = ["get", "head", "options", "post"]
    filterset_fields = ["kind", "status", "enterprise", "organisation", "assignee", "overdue", "source"]

    def get_permissions(self):
        if self.action in ("transition", "result"):  # the services check who may handle the task
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    def get_queryset(self):
        # transitions are POSTs that need only view access to find the task; the services check the rest
        return Task.objects.restrict(self.request.user, "view").select_related("enterprise").order_by("due_on", "-pk")

    def perform_create(self, serializer):
        d = serializer.validated_data
        serializer.instance = call_service(task_services.create_task, d["enterprise"], d["kind"], user=self.request.user,
                                    organisation=d["organisation"], assignee=d.get("assignee"),
                                    second_assignee=d.get("second_assignee"), due_on=d.get("due_on"),
                                    title=d.get("title", ""), instructions=d.get("instructions", ""))

    @extend_schema(request=s.AlertTaskSerializer, responses={201: s.TaskSerializer})
    @action(detail=False, methods=["post"], url_path="from-alert")
    def from_alert(self, request):
        """A task from a dispatched alert (when the alerts app is installed)."""
        from django.apps import apps

        if not apps.is_installed("foodrisk.alerts"):
            raise exceptions.NotFound()
        from foodrisk.alerts.models import Alert

        ser = s.AlertTaskSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        alert = Alert.objects.restrict(request.user, "view").filter(pk=ser.validated_data["alert"]).first()
        if alert is None:
            raise exceptions.NotFound()
        if alert.status not in ("dispatched", "in_hand"):
            raise exceptions.ValidationError({"alert": "Only a dispatched alert can become a supervision task."})
        task = call_service(task_services.create_task_from_alert, alert, user=request.user,
                     kind=ser.validated_data["kind"], due_on=ser.validated_data.get("due_on"))
        return Response(s.TaskSerializer(task).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.TaskTransitionSerializer, responses=s.TaskSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        task = self.get_object()
        ser = s.TaskTransitionSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        op, note = ser.validated_data["action"], ser.validated_data.get("note", "")
        user = request.user
        if op == "start":
            task = call_service(task_services.start, task, user=user)
        elif op == "cancel":
            task = call_service(task_services.cancel, task, user=user, reason=note)
        elif op == "complete":
            task = call_service(task_services.complete, task, user=user, outcome=note)
        else:
            task = call_service(task_services.verify_rectification, task, user=user, accepted=op == "verify", note=note)
        return Response(s.TaskSerializer(task).data)

    @extend_schema(request=s.TaskResultSerializer, responses=s.TaskSerializer)
    @action(detail=True, methods=["post"])
    def result(self, request, pk=None):
        task = self.get_object()
        ser = s.TaskResultSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        task, inspection, follow_up = call_service(
            task_services.record_result, task, user=request.user, answers=d["answers"],
            findings=d.get("findings", ""), inspected_on=d.get("inspected_on"),
            order_rectification=d.get("order_rectification"), rectification_days=d.get("rectification_days"))
        data = s.TaskSerializer(task).data
        data["rectification_task"] = getattr(follow_up, "pk", None)
        return Response(data)


class RepairViewSet(ScopedModelViewSet):
    """Credit repair: POST applies; `review` runs the rule checks; `decide` approves or rejects."""

    queryset = RepairCase.objects.order_by("-recorded_at", "-pk")
    serializer_class = s.RepairCaseSerializer
    http_method_names = ["get", "head", "options", "post"]
    filterset_fields = ["enterprise", "status"]

    def get_permissions(self):
        if self.action in ("review", "decide"):
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    def get_queryset(self):
        return RepairCase.objects.restrict(self.request.user, "view").order_by("-recorded_at", "-pk")

    def perform_create(self, serializer):
        d = serializer.validated_data
        serializer.instance = call_service(repairs.apply, d["enterprise"], user=self.request.user,
                                    commitment=d["commitment"], penalty=d.get("penalty"),
                                    list_entry=d.get("list_entry"), applied_on=d.get("applied_on"))

    @extend_schema(request=None, responses=s.RepairCaseSerializer)
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        return Response(s.RepairCaseSerializer(call_service(repairs.review, self.get_object(), user=request.user)).data)

    @extend_schema(request=s.RepairDecisionSerializer, responses=s.RepairCaseSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        ser = s.RepairDecisionSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        case = call_service(repairs.decide, self.get_object(), user=request.user, approve=ser.validated_data["approve"],
                     reason=ser.validated_data.get("reason", ""))
        return Response(s.RepairCaseSerializer(case).data)
