"""The OpenAPI schema and its Swagger UI: for logged-in users (session or token) unless
FOODRISK_API_DOCS_PUBLIC opens them (e.g. for a partner's integration portal)."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import permissions


def _docs_public():
    return getattr(settings, "API_DOCS_PUBLIC", False)


class SchemaView(SpectacularAPIView):
    def get_permissions(self):
        return [permissions.AllowAny()] if _docs_public() else [permissions.IsAuthenticated()]


class DocsView(SpectacularSwaggerSplitView):
    # A page, not an API operation: kept out of the schema, and only GET/HEAD — its sole renderer is the
    # Swagger template, so DRF's OPTIONS metadata had no template to render and was a 500 (schemathesis).
    schema = None
    http_method_names = ["get", "head"]

    def get(self, request, *args, **kwargs):
        if not _docs_public() and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().get(request, *args, **kwargs)
