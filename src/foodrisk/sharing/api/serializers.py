from rest_framework import serializers

from ..models import ClientSystem, Delivery, DeliveryAttempt, EventType, Subscription


class SubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Subscription
        fields = ["id", "client", "url", "event_types", "active", "description", "created_at", "secret_rotated_at",
                  "previous_valid_until"]
        read_only_fields = fields


class SubscriptionCreateSerializer(serializers.Serializer):
    client = serializers.PrimaryKeyRelatedField(queryset=ClientSystem.objects.all())
    url = serializers.URLField(max_length=500)
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices), min_length=1,
                                        max_length=len(EventType.choices))
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:  # a client outside the caller's jurisdiction is not a valid choice
            self.fields["client"].queryset = ClientSystem.objects.restrict(user, "change")


class SubscriptionChangeSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500, required=False)
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices), min_length=1,
                                        max_length=len(EventType.choices), required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)


class SubscriptionSecretSerializer(serializers.Serializer):
    subscription = SubscriptionSerializer()
    secret = serializers.CharField(help_text="whsec_…: shown this once")


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "at", "status_code", "latency_ms", "response_excerpt", "error", "manual"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = ["id", "subscription", "event_id", "event_type", "enterprise", "status", "attempts",
                  "next_attempt_at", "created_at", "finished_at"]
        read_only_fields = fields


class DeliveryDetailSerializer(DeliverySerializer):
    attempts_made = DeliveryAttemptSerializer(source="attempt_rows", many=True, read_only=True)

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "payload", "attempts_made"]
        read_only_fields = fields
