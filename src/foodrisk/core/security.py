"""Application security across pages: no caching of a logged-in user's pages, the login captcha after
failed attempts, the second confirmation of high-risk actions."""

from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    """A logged-in user's pages, API answers and files are never kept by a browser or a proxy cache
    (`Cache-Control: no-store`): a bureau's shared computer must not show the previous user's data."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


# --- captcha (验证码) on the login page after failed attempts ----------------------------------------------
def recent_login_failures(request, username=""):
    """Failed logins that django-axes counts (within its cool-off) from this address or for this username:
    the larger of the two, so a password sprayed over many names and a name tried from many places both
    trigger the captcha before axes locks the account."""
    from datetime import timedelta

    from axes.helpers import get_client_ip_address
    from axes.models import AccessAttempt
    from django.conf import settings
    from django.db.models import Sum
    from django.utils import timezone

    since = timezone.now() - timedelta(hours=float(settings.AXES_COOLOFF_TIME))
    attempts = AccessAttempt.objects.filter(attempt_time__gte=since)
    by_address = attempts.filter(ip_address=get_client_ip_address(request)).aggregate(
        n=Sum("failures_since_start"))["n"] or 0
    by_name = (attempts.filter(username=username).aggregate(n=Sum("failures_since_start"))["n"] or 0) \
        if username else 0
    return max(by_address, by_name)


def captcha_required(request, username=""):
    from django.conf import settings

    return recent_login_failures(request, username) >= settings.LOGIN_CAPTCHA_AFTER


# --- second confirmation of high-risk actions ----------------------------------------------------------------
CONFIRM_FIELD = "confirmed"


def require_confirmation(request):
    """A high-risk action (bulk export, grade adjustment, activation of an indicator set or a supervision
    profile) runs only when its form carries the ticked confirmation (generic/confirm_check.html)."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    if request.POST.get(CONFIRM_FIELD) not in ("1", "on"):  # a template's checkbox, or a form's BooleanField
        raise ValidationError(_("Tick the confirmation to carry out this high-risk action."))
