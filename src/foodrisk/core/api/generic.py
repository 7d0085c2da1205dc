"""REST building blocks every app reuses: scoped querysets, model permissions incl. view, audited writes."""

from rest_framework import permissions, serializers, viewsets

from ..services import objects

ACTIONS = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "POST": "add", "PUT": "change",
           "PATCH": "change", "DELETE": "delete"}


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


class ScopedModelSerializer(ScopedSerializerMixin, serializers.ModelSerializer):
    pass


class ScopedModelViewSet(viewsets.ModelViewSet):
    """Reads through restrict(user, action); writes audited in one transaction (via the serializer)."""

    permission_classes = [permissions.IsAuthenticated, ScopedModelPermissions]

    def get_queryset(self):
        action = ACTIONS.get(self.request.method, "view")
        qs = self.queryset.all().restrict(self.request.user, action)  # keeps the viewset's joins and order
        return qs if qs.ordered else qs.order_by("pk")

    def get_object(self):
        from django.http import Http404

        from ..views.generic import note_out_of_scope

        try:
            return super().get_object()
        except Http404:
            note_out_of_scope(self.request, self.queryset.model, self.kwargs.get(self.lookup_url_kwarg or self.lookup_field))
            raise

    def perform_create(self, serializer):
        objects.save_serializer(serializer)

    def perform_update(self, serializer):
        objects.save_serializer(serializer)

    def perform_destroy(self, instance):
        objects.delete_instance(instance)


class ReadOnlyScopedViewSet(ScopedModelViewSet, viewsets.ReadOnlyModelViewSet):
    http_method_names = ["get", "head", "options"]

