"""Audit of authentication events (login, logout, failed login)."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from . import context
from .middleware import client_ip
from .services import audit


def _with_request(request, user, action, details=None):
    ip = client_ip(request) if request is not None else None
    request_id = getattr(request, "request_id", "") if request is not None else ""
    with context.acting(user=user, ip=ip, request_id=request_id):
        audit.record(action, user if user is not None else None, details=details, user=user,
                     object_type="core.user" if user is None else "", region_code="")


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    _with_request(request, user, "auth.login")


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        _with_request(request, user, "auth.logout")


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    _with_request(request, None, "auth.login_failed", details={"username": username})
