"""The OpenAPI schema: drf-spectacular's, with what it cannot know from DRF's fields."""

import copy

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers


def _model_field(field):
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source:
        return None
    try:
        return model._meta.get_field(field.source)
    except Exception:  # a property or method, not a model field
        return None


class AutoSchema(SpectacularAutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        # A read-only field says what its model field may hold: DRF drops allow_blank from read-only fields (a
        # choice like Score.previous_grade is "" for a new enterprise) and a declared read-only field such as
        # StringRelatedField does not know its foreign key may be empty (an alert event without a user).
        plain = field.read_only and not isinstance(field, serializers.BaseSerializer)
        model_field = _model_field(field) if plain else None
        if model_field is not None:
            blank = isinstance(field, serializers.ChoiceField) and model_field.blank and not field.allow_blank
            null = model_field.null and not field.allow_null
            if blank or null:
                field = copy.copy(field)
                if blank:
                    field.allow_blank = True
                if null:
                    field.allow_null = True
        return super()._map_serializer_field(field, direction, bypass_extensions)
