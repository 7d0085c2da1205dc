"""REST building blocks every app reuses: scoped querysets, model permissions incl. view, audited writes."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import ProtectedError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, permissions, serializers, status, viewsets

from foodrisk.core.validators import MAX_ID, is_digits

from ..services import objects

ACTIONS = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "POST": "add", "PUT": "change",
           "PATCH": "change", "DELETE": "delete"}


class Conflict(exceptions.APIException):
    """409: the request is understood but the object's state refuses it (e.g. still referenced)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."
    default_code = "conflict"


class ScopedModelPermissions(permissions.DjangoModelPermissions):
    perms_map = {method: [f"%(app_label)s.{action}_%(model_name)s"] for method, action in ACTIONS.items()}


class ScopedSerializerMixin:
    """Related-object choices limited to the requesting user's scope."""

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is None or not getattr(request.user, "is_authenticated", False):
            return fields  # schema generation; real requests are authenticated by the view
        for field in fields.values():
            target = getattr(field, "child_relation", field)
            qs = getattr(target, "queryset", None)
            if qs is not None and hasattr(qs, "in_scope"):
                target.queryset = qs.in_scope(request.user)
        return fields


class NonNullJSONField(serializers.JSONField):
    """A JSON field whose column is NOT NULL refuses JSON null. DRF checks null before parsing, so in a form
    body the text "null" became None after the check and reached the database (IntegrityError, a 500)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value is None and not self.allow_null:
            self.fail("null")
        return value


CONFIRM_REQUIRED = gettext_lazy('This is a high-risk action: it is carried out only when the request carries '
                                 '"confirmed": true.')


class ConfirmField(serializers.BooleanField):
    """The API's second confirmation of a high-risk action (bulk export, grade adjustment approval, indicator
    set activation or rollback, model promotion) — the ticked box of the pages (core.security.require_confirmation,
    whose form field has the same name): a required `confirmed` that must be true; anything else is a 400."""

    default_error_messages = {"required": CONFIRM_REQUIRED, "null": CONFIRM_REQUIRED,
                              "not_confirmed": CONFIRM_REQUIRED}

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", gettext_lazy("Must be true: the second confirmation of a high-risk action."))
        super().__init__(required=True, **kwargs)

    def to_internal_value(self, data):
        if super().to_internal_value(data) is not True:
            self.fail("not_confirmed")
        return True


class ScopedModelSerializer(ScopedSerializerMixin, serializers.ModelSerializer):
    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping,
                                models.JSONField: NonNullJSONField}


class ScopedViewSetMixin:
    """Reads through restrict(user, action); an object outside the scope is a 404 (and an audited attempt)."""

    permission_classes = [permissions.IsAuthenticated, ScopedModelPermissions]

    def scope_action(self):
        """The action the queryset is restricted for: by default the HTTP method's."""
        return ACTIONS.get(self.request.method, "view")

    def get_queryset(self):
        qs = self.queryset.all().restrict(self.request.user, self.scope_action())  # keeps the joins and order
        return qs if qs.ordered else qs.order_by("pk")

    def get_object(self):
        from django.http import Http404

        from ..views.generic import note_out_of_scope

        try:
            value = str(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, ""))
            if is_digits(value) and int(value) > MAX_ID:  # names nothing; SQLite cannot even take it
                raise Http404
            return super().get_object()
        except Http404:
            note_out_of_scope(self.request, self.queryset.model, self.kwargs.get(self.lookup_url_kwarg or self.lookup_field))
            raise


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """Scoped reads; writes audited in one transaction (via the serializer)."""

    def perform_create(self, serializer):
        objects.save_serializer(serializer)

    def perform_update(self, serializer):
        objects.save_serializer(serializer)

    def perform_destroy(self, instance):
        try:
            objects.delete_instance(instance)
        except ProtectedError as exc:  # as the UI's delete view: a clear refusal, not a 500
            raise Conflict(_("This object is still referenced by other records and cannot be deleted.")) from exc


def save_through(service, instance, serializer, *, user):
    """Create or update through an app's service instead of serializer.save(): the validated data copied onto
    `instance`, then `service(instance, user=user)`; what the service refuses is a 400 with its messages."""
    for field, value in serializer.validated_data.items():
        setattr(instance, field, value)
    try:
        serializer.instance = service(instance, user=user)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


class ReadOnlyScopedViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """List and retrieve only. A subclass that allows POST for its actions gets no generic create through the
    serializer (that bypassed the services: `POST /api/scoring/models/ {}` reached the database and failed);
    it defines `create` itself when it has one."""

    http_method_names = ["get", "head", "options"]

