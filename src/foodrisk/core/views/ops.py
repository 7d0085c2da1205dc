"""Operations endpoints: liveness, readiness and Prometheus metrics (see core.health and core.metrics)."""

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .. import health, metrics


@never_cache
@require_GET
def healthz(request):
    """Liveness: the process answers. Touches no database, so a database outage does not restart it."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    ready, checks = health.readiness()
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


@never_cache
@require_GET
def metrics_view(request):
    """For the scraper only. Without FOODRISK_METRICS_TOKEN the endpoint does not exist: a loopback-only
    rule would not protect it behind a reverse proxy on the same host (every request comes from 127.0.0.1)."""
    if not settings.METRICS_TOKEN:
        raise Http404
    if not metrics.token_matches(request, settings.METRICS_TOKEN):
        response = HttpResponse(status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)
