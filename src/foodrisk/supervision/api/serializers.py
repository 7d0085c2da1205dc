from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from foodrisk.core.api.generic import ScopedModelSerializer

from ..choices import TaskKind
from ..models import (
    DrawItem,
    InspectionPlan,
    InspectorAbsence,
    PlanItem,
    RandomDraw,
    RepairCase,
    SupervisionProfile,
    Task,
)


class SupervisionProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = SupervisionProfile
        fields = ["id", "code", "name", "description", "source", "min_per_year", "max_per_year", "sampling_ratios",
                  "measures", "floor_months", "key_rules", "full_inspection_kinds", "active", "updated_at"]


class PlanItemSerializer(serializers.ModelSerializer):
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)

    class Meta:
        model = PlanItem
        fields = ["rank", "enterprise", "enterprise_name", "grade", "key_supervision", "frequency",
                  "last_full_inspection", "floor_due", "done", "required", "planned", "uncovered", "reasons"]


class InspectionPlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = InspectionPlan
        fields = ["id", "name", "organisation", "profile", "period_start", "period_end", "inspectors",
                  "per_inspector", "capacity", "enterprise_count", "required_total", "planned_total",
                  "uncovered_total", "summary", "created_by", "created_at"]
        read_only_fields = fields


class PlanCreateSerializer(ScopedModelSerializer):
    per_inspector = serializers.DecimalField(max_digits=8, decimal_places=2, required=False, allow_null=True)
    inspectors = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    name = serializers.CharField(required=False, allow_blank=True)

    class Meta:
        model = InspectionPlan
        fields = ["organisation", "profile", "period_start", "period_end", "per_inspector", "inspectors", "name"]
        extra_kwargs = {"profile": {"required": False, "allow_null": True}}


class DrawItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = DrawItem
        fields = ["position", "enterprise", "grade", "inspector_1", "inspector_2", "due_on", "note"]


class RandomDrawSerializer(serializers.ModelSerializer):
    items = DrawItemSerializer(many=True, read_only=True)
    unplaced = serializers.SerializerMethodField(help_text="Drawn enterprises without inspectors, with the reason.")

    class Meta:
        model = RandomDraw
        fields = ["id", "name", "organisation", "profile", "seed", "ratios", "inspectors_per_enterprise",
                  "population_counts", "selected_counts", "unassigned", "unplaced", "due_on", "plan",
                  "period_start", "period_end", "borrowed", "tasks_created", "created_by", "created_at", "items"]
        read_only_fields = fields


    def get_unplaced(self, draw) -> list[dict]:
        return [{"enterprise": i.enterprise_id, "note": i.note} for i in draw.items.all() if not i.inspector_1_id]


class DrawVerifySerializer(serializers.Serializer):
    seed = serializers.IntegerField(help_text="the draw's recorded seed")
    reproducible = serializers.BooleanField(help_text="the seed reproduces the draw's enterprises and inspectors")


class DrawCreateSerializer(ScopedModelSerializer):
    seed = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    ratios = serializers.DictField(child=serializers.FloatField(min_value=0, max_value=1), required=False)
    create_tasks = serializers.BooleanField(required=False, default=False)
    due_on = serializers.DateField(required=False, allow_null=True, help_text="Read as period_end (older clients).")
    name = serializers.CharField(required=False, allow_blank=True)
    borrow = serializers.BooleanField(required=False, default=False,
                                      help_text="Allow borrowing inspectors from the parent organisation.")

    class Meta:
        model = RandomDraw
        fields = ["organisation", "profile", "seed", "ratios", "create_tasks", "due_on", "name", "plan",
                  "period_start", "period_end", "borrow"]
        extra_kwargs = {"profile": {"required": False, "allow_null": True},
                        "plan": {"required": False, "allow_null": True}}


class AbsenceSerializer(ScopedModelSerializer):
    class Meta:
        model = InspectorAbsence
        fields = ["id", "user", "start", "end", "reason"]

    def validate(self, attrs):
        start = attrs.get("start", getattr(self.instance, "start", None))
        end = attrs.get("end", getattr(self.instance, "end", None))
        if start and end and end < start:
            raise serializers.ValidationError({"end": _("The absence ends before it starts.")})
        return attrs


class TaskSerializer(ScopedModelSerializer):
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)

    class Meta:
        model = Task
        fields = ["id", "kind", "enterprise", "title", "instructions", "organisation", "assignee", "second_assignee",
                  "due_on", "status", "overdue", "source", "source_ref", "parent", "draw_item", "checklist",
                  "answers", "findings", "inspection", "outcome", "submitted_by", "submitted_at", "verified_by",
                  "verified_at", "created_by", "created_at", "started_at", "completed_at"]
        read_only_fields = [f for f in fields if f not in ("kind", "enterprise", "title", "instructions",
                                                           "organisation", "assignee", "second_assignee",
                                                           "due_on")]
        extra_kwargs = {"due_on": {"required": False}, "title": {"required": False}}


class AlertTaskSerializer(serializers.Serializer):
    alert = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=TaskKind.choices, default=TaskKind.INSPECTION)
    due_on = serializers.DateField(required=False, allow_null=True)


class TaskTransitionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["start", "cancel", "complete", "verify", "return"])
    note = serializers.CharField(required=False, allow_blank=True)


class TaskResultSerializer(serializers.Serializer):
    answers = serializers.DictField(child=serializers.ChoiceField(choices=["pass", "fail", "na"]))
    findings = serializers.CharField(required=False, allow_blank=True)
    inspected_on = serializers.DateField(required=False)
    order_rectification = serializers.BooleanField(required=False, allow_null=True, default=None)
    rectification_days = serializers.IntegerField(required=False, min_value=1, max_value=365)


class RepairCaseSerializer(ScopedModelSerializer):
    class Meta:
        model = RepairCase
        fields = ["id", "enterprise", "penalty", "list_entry", "record", "commitment", "applied_on", "status",
                  "checks", "recorded_by", "recorded_at", "reviewed_by", "reviewed_at", "decided_by", "decided_at",
                  "reason"]
        read_only_fields = ["id", "record", "status", "checks", "recorded_by", "recorded_at", "reviewed_by",
                            "reviewed_at", "decided_by", "decided_at", "reason"]
        extra_kwargs = {"applied_on": {"required": False}}


class RepairDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True)


TASK_KINDS = TaskKind.values
