from rest_framework import serializers

from foodrisk.core.api.generic import CONFIRM_REQUIRED, ScopedModelSerializer
from foodrisk.core.models import Organisation, User
from foodrisk.core.validators import MAX_ID

from ..choices import Outcome
from ..models import Alert, AlertEvent, AlertOccurrence, WarningRule


class WarningRuleSerializer(ScopedModelSerializer):
    """Field checks only: the rule itself (params per kind, fixed organisation) is validated by
    services.save_rule, which the viewset calls. Switching a rule on (creating it enabled, or enabling it) can
    raise alerts across the whole archive: a high-risk action, carried out only with `"confirmed": true`, as the
    page's ticked box."""

    confirmed = serializers.BooleanField(write_only=True, required=False, default=False,
                                         help_text="Must be true when the request switches the rule on.")

    class Meta:
        model = WarningRule
        fields = ["id", "code", "name", "kind", "params", "level", "target", "target_organisation", "deadline_days",
                  "enabled", "description", "builtin", "confirmed"]
        read_only_fields = ["id", "builtin"]

    def validate(self, attrs):
        confirmed = attrs.pop("confirmed", False)
        was_enabled = self.instance.enabled if self.instance is not None else False
        enabled = attrs.get("enabled", self.instance.enabled if self.instance is not None
                            else WarningRule._meta.get_field("enabled").default)
        if enabled and not was_enabled and not confirmed:
            raise serializers.ValidationError({"confirmed": [CONFIRM_REQUIRED]})
        return super().validate(attrs)


class OccurrenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = AlertOccurrence
        fields = ["id", "fingerprint", "summary", "evidence", "at"]


class EventSerializer(serializers.ModelSerializer):
    user = serializers.StringRelatedField()

    class Meta:
        model = AlertEvent
        fields = ["id", "action", "from_status", "to_status", "user", "note", "data", "at"]


ALERT_FIELDS = ["id", "rule", "rule_code", "enterprise", "enterprise_name", "region", "level", "status", "summary",
                "grade_at_raise", "current_grade", "occurrences", "raised_at", "last_occurred_at", "deadline",
                "overdue", "escalations", "organisation", "assigned_organisation", "assignee", "dispatched_by",
                "dispatched_at", "instructions", "reviewed_by", "reviewed_at", "review_note", "feedback",
                "handled_by", "handled_at", "outcome", "outcome_note", "closed_by", "closed_at"]


class AlertSerializer(serializers.ModelSerializer):
    rule_code = serializers.CharField(source="rule.code", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    current_grade = serializers.CharField(source="enterprise.current_grade", read_only=True)

    class Meta:
        model = Alert
        fields = ALERT_FIELDS
        read_only_fields = ALERT_FIELDS


class AlertDetailSerializer(AlertSerializer):
    occurrence_set = OccurrenceSerializer(many=True, read_only=True)
    events = EventSerializer(many=True, read_only=True)

    class Meta(AlertSerializer.Meta):
        fields = [*ALERT_FIELDS, "evidence", "occurrence_set", "events"]
        read_only_fields = fields


class ReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["confirm", "dismiss"])
    note = serializers.CharField(required=False, allow_blank=True, default="")


class BulkReviewSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=1000,
                                help_text="Alerts to review; each is checked (permission, region, state) on its own.")
    decision = serializers.ChoiceField(choices=["confirm", "dismiss"])
    note = serializers.CharField(required=False, allow_blank=True, default="",
                                 help_text="One reason for all of them; required to dismiss.")


class RefusedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    alert = serializers.CharField(help_text="The alert as named on the pages, or #id when not visible to you.")
    detail = serializers.CharField(help_text="Why it was not reviewed.")


class BulkReviewResultSerializer(serializers.Serializer):
    done = serializers.ListField(child=serializers.IntegerField(), help_text="Alerts reviewed.")
    refused = RefusedSerializer(many=True)


class DispatchSerializer(serializers.Serializer):
    organisation = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.all(), required=False,
                                                      allow_null=True)
    assignee = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    deadline = serializers.DateField(required=False, allow_null=True)
    instructions = serializers.CharField(required=False, allow_blank=True, default="")


class HandleSerializer(serializers.Serializer):
    feedback = serializers.CharField(allow_blank=True)
    files = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class CloseSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")
