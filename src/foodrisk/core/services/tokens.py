"""Personal API tokens (API 令牌): made and revoked by their owner, expiring, read-only or read-write, audited.

The secret is 32 random bytes (URL-safe text), shown to its owner once when the token is made. Only its
SHA-256 is stored: with that much entropy a fast hash is enough (no salt or slow hash needed), and a copy of
the database gives no usable token. The first 8 characters are kept in clear to find the row and to let the
owner tell tokens apart; the hash is then compared in constant time. Audit entries never hold the secret.

Lifetimes are the `api_token_default_days` and `api_token_max_days` parameters (90 and 365 days when unset).
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import params
from ..models import ApiToken, User
from ..models.tokens import TokenScope
from . import audit

DEFAULT_DAYS = 90
MAX_DAYS = 365
REVOKE_ANY_PERMISSION = "core.revoke_apitoken"
PREFIX_LENGTH = 8
# last_used_at is written at most this often per token: not one UPDATE for every API request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def default_days():
    return int(params.get("api_token_default_days", DEFAULT_DAYS))


def max_days():
    return int(params.get("api_token_max_days", MAX_DAYS))


def hash_key(key):
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _state(token):
    return audit.snapshot(token, fields={"user", "name", "key_prefix", "scope", "expires_at", "revoked_at"})


def create_token(user, name, scope, expires_at=None):
    """A new token of `user`: (token, secret). The secret exists only in this return value."""
    if user is None or not user.is_authenticated or not user.is_active:
        raise PermissionDenied(_("Log in to create an API token."))
    name = (name or "").strip()
    now = timezone.now()
    expires_at = expires_at or now + timedelta(days=default_days())
    errors = {}
    if not name:
        errors["name"] = _("Say what the token is for.")
    elif len(name) > ApiToken._meta.get_field("name").max_length:
        errors["name"] = _("The name is too long.")
    if scope not in TokenScope.values:
        errors["scope"] = _("Unknown token scope.")
    if expires_at <= now:
        errors["expires_at"] = _("The expiry must be in the future.")
    elif expires_at > now + timedelta(days=max_days()):
        errors["expires_at"] = _("A token may be valid for at most %(days)d days.") % {"days": max_days()}
    if errors:
        raise ValidationError(errors)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name, scope=scope, expires_at=expires_at,
                                        key_prefix=secret[:PREFIX_LENGTH], key_hash=hash_key(secret))
        audit.record("core.apitoken.create", token, user=user, after=_state(token))
    return token, secret


def own_tokens(user):
    return ApiToken.objects.filter(user=user)


def revocable_tokens(user):
    """The tokens `user` may revoke: their own; with core.revoke_apitoken (system administrators) also those of
    the users in their region scope."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ApiToken.objects.none()
    if user.has_perm(REVOKE_ANY_PERMISSION):
        return ApiToken.objects.filter(user__in=User.objects.in_scope(user).values("pk")) | own_tokens(user)
    return own_tokens(user)


def revoke_token(token, user):
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if not revocable_tokens(user).filter(pk=token.pk).exists():
            raise PermissionDenied(_("You may not revoke this API token."))
        if token.revoked_at:
            raise ValidationError(_("This API token has already been revoked."))
        before = _state(token)
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record("core.apitoken.revoke", token, user=user, before=before, after=_state(token),
                     details={"owner": token.user.username})
    return token


def find_token(key):
    """The token whose secret is `key`, or None (malformed, unknown). Expiry and revocation are the caller's."""
    if not key or len(key) < PREFIX_LENGTH or len(key) > 200:
        return None
    wanted = hash_key(key)
    for token in ApiToken.objects.filter(key_prefix=key[:PREFIX_LENGTH]).select_related("user"):
        if hmac.compare_digest(token.key_hash, wanted):
            return token
    return None


def note_use(token):
    """Record that the token was used, at most once a minute (an API client may send many requests a second)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
