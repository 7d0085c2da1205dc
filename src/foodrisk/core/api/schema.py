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
        # DRF drops allow_blank from read-only fields, so a choice like Score.previous_grade ("" for a new
        # enterprise) was published as an enum without "" and every such response broke the schema.
        if isinstance(field, serializers.ChoiceField) and field.read_only and not field.allow_blank:
            model_field = _model_field(field)
            if model_field is not None and model_field.blank:
                field = copy.copy(field)
                field.allow_blank = True
        return super()._map_serializer_field(field, direction, bypass_extensions)
