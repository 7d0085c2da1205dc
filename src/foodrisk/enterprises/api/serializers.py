from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from foodrisk.core.api.generic import ScopedModelSerializer
from foodrisk.core.crypto import mask

from .. import forms
from ..models import Enterprise, Licence
from ..sensitive import SENSITIVE_FIELDS


def _django_to_drf(func, value):
    from django.core.exceptions import ValidationError

    try:
        return func(value)
    except ValidationError as exc:
        raise serializers.ValidationError(exc.messages)


class EnterpriseSerializer(ScopedModelSerializer):
    region_name = serializers.CharField(source="region.full_name", read_only=True)
    data_changed_at = serializers.DateTimeField(read_only=True)

    class Meta:
        model = Enterprise
        fields = ["id", "uscc", "name", "former_names", "name_initials", "legal_representative", "address", "region",
                  "region_name", "business_form", "food_categories", "scale", "established_on", "status",
                  "static_tier", "key_supervision", "risk_labels", "current_grade", "current_score", "graded_at",
                  "data_changed_at"]
        read_only_fields = ["name_initials", "risk_labels", "current_grade", "current_score", "graded_at",
                            "data_changed_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # masked for everyone: POST …/reveal/ with a reason shows it in clear (audited)
        data["legal_representative"] = mask(data.get("legal_representative") or "")
        return data

    def validate_uscc(self, value):
        return _django_to_drf(forms.clean_uscc, value)

    def validate_established_on(self, value):
        return _django_to_drf(forms.not_in_future, value)

    def validate_former_names(self, value):
        return _string_list(value)

    def validate_food_categories(self, value):
        return _string_list(value)

    def validate(self, attrs):
        # Everyone reads the masked value: sending it back must not overwrite the stored one.
        if self.instance is not None:
            sent = attrs.get("legal_representative")
            if sent is not None and sent == mask(self.instance.legal_representative or ""):
                attrs.pop("legal_representative")
        return attrs


def _string_list(value):
    if isinstance(value, str):
        return forms.split_list(value)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise serializers.ValidationError(_("A list of strings is expected."))
    return [v.strip() for v in value if v.strip()]


class RevealSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=list(SENSITIVE_FIELDS))
    reason = serializers.CharField(max_length=500)


class RevealedSerializer(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.CharField()


class LicenceSerializer(ScopedModelSerializer):
    class Meta:
        model = Licence
        fields = ["id", "enterprise", "licence_no", "kind", "category", "issued_on", "expires_on", "status"]

    def validate_licence_no(self, value):
        value = value.strip().upper()
        if not forms.LICENCE_RE.match(value):
            raise serializers.ValidationError(_("A licence number is SC or JY followed by 14 digits."))
        return value

    def validate_issued_on(self, value):
        return _django_to_drf(forms.not_in_future, value)

    def validate(self, attrs):
        issued = attrs.get("issued_on", getattr(self.instance, "issued_on", None))
        expires = attrs.get("expires_on", getattr(self.instance, "expires_on", None))
        if issued and expires and expires < issued:
            raise serializers.ValidationError({"expires_on": _("The expiry date cannot be before the issue date.")})
        return attrs
