import logging
import time

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpResponseBadRequest, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext_lazy as _

from . import context

access_log = logging.getLogger("foodrisk.access")


def client_ip(request):
    # Behind a reverse proxy set FOODRISK_TRUST_PROXY so X-Forwarded-For is believed; not by default.
    from django.conf import settings

    if getattr(settings, "TRUST_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR")


class RequestObservabilityMiddleware:
    """Outermost: gives every request its id (the caller's X-Request-ID when plausible, echoed back), times
    it into the latency histogram and writes one JSON access log line. Probes and scrapes log at DEBUG."""

    QUIET_PATHS = ("/healthz", "/readyz", "/metrics")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .logs import request_id_from
        from .metrics import REQUEST_LATENCY

        request.request_id = request_id_from(request.headers)
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match else "unmatched"  # route names, not paths: bounded label values
        REQUEST_LATENCY.labels(request.method, view, str(response.status_code)).observe(elapsed)
        response["X-Request-ID"] = request.request_id
        user = getattr(request, "_cached_user", None)  # only if the request loaded it: logging adds no query
        access_log.log(
            logging.DEBUG if request.path in self.QUIET_PATHS else logging.INFO,
            "%s %s %s", request.method, request.path, response.status_code,
            extra={"request_id": request.request_id, "method": request.method, "path": request.path,
                   "view": view, "status": response.status_code, "duration_ms": round(elapsed * 1000, 1),
                   "user_id": user.pk if user is not None and user.is_authenticated else None},
        )
        return response


class RequestContextMiddleware:
    """Makes the actor (user, address, request id) known to services and the audit log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        with context.acting(user=user if user and user.is_authenticated else None, ip=client_ip(request),
                            request_id=request.request_id):
            return self.get_response(request)


class DefaultLanguageMiddleware:
    """zh-hans unless the user picked another language (the language cookie set by the switcher).

    Django's LocaleMiddleware would follow the browser's Accept-Language; a bureau's UI should be
    Chinese by default whatever the browser says.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        # override, not activate: the thread goes back to the default afterwards, so text that
        # services store (reasons, notifications) never depends on the previous request's language
        with translation.override(language):
            request.LANGUAGE_CODE = translation.get_language()
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response


NUL_MESSAGE = _("The request contains a NUL character (\\0), which no field accepts.")
TOO_LARGE_MESSAGE = _("The request has more fields, files or data than the server accepts.")


def has_nul(value):
    """NUL in a string, or in any key or value of a parsed JSON document or a QueryDict."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, QueryDict):
        return any(has_nul(key) or has_nul(values) for key, values in value.lists())
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_nul(item) for item in value)
    return False


class RejectNulMiddleware:
    """A path, query or form field carrying a NUL character is refused with 400 before any view runs.

    PostgreSQL can neither store nor compare text containing NUL: a `%00` in a list filter or a path id reached
    the database and came back as a 500 from every list and detail view. No value with NUL can be valid here,
    so it is refused once, at the edge, for the UI and the API alike (JSON bodies: core.api.parsers).
    Uploaded files are not looked at.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        form = request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
        try:
            refused = has_nul(request.path) or has_nul(request.GET) or (form and has_nul(request.POST))
        except MultiPartParserError as exc:  # a form body that cannot be read (no boundary…) is bad input too
            return self.bad_request(request, str(exc))
        except (TooManyFieldsSent, TooManyFilesSent, RequestDataTooBig):  # over Django's limits: a 400, not a
            return self.bad_request(request, str(TOO_LARGE_MESSAGE))   # traceback in the security log
        if refused:
            return self.bad_request(request, str(NUL_MESSAGE))
        return self.get_response(request)

    @staticmethod
    def bad_request(request, message):
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=400)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
