from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from foodrisk.core.views import ops
from foodrisk.core.views.apidocs import DocsView, SchemaView

urlpatterns = [
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    path("metrics", ops.metrics_view, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("captcha/", include("captcha.urls")),  # the login captcha's image, drawn locally
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", DocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/core/", include("foodrisk.core.api.urls")),
    path("api/enterprises/", include("foodrisk.enterprises.api.urls")),
    path("api/records/", include("foodrisk.records.api.urls")),
    path("api/ingest/", include("foodrisk.ingest.api.urls")),
    path("api/indicators/", include("foodrisk.indicators.api.urls")),
    path("api/scoring/", include("foodrisk.scoring.api.urls")),
    path("api/alerts/", include("foodrisk.alerts.api.urls")),
    path("api/supervision/", include("foodrisk.supervision.api.urls")),
    path("api/sharing/", include("foodrisk.sharing.api.urls")),
    path("api/analytics/", include("foodrisk.analytics.api.urls")),
    path("enterprises/", include("foodrisk.enterprises.urls")),
    path("records/", include("foodrisk.records.urls")),
    path("ingest/", include("foodrisk.ingest.urls")),
    path("indicators/", include("foodrisk.indicators.urls")),
    path("scoring/", include("foodrisk.scoring.urls")),
    path("alerts/", include("foodrisk.alerts.urls")),
    path("supervision/", include("foodrisk.supervision.urls")),
    path("sharing/", include("foodrisk.sharing.urls")),
    path("analytics/", include("foodrisk.analytics.urls")),
    path("", include("foodrisk.core.urls")),
]

if settings.OIDC_ENABLED:
    urlpatterns.insert(0, path("oidc/", include("mozilla_django_oidc.urls")))

handler403 = "foodrisk.core.views.errors.permission_denied"
handler404 = "foodrisk.core.views.errors.not_found"
