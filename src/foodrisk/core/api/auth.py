"""Personal API tokens over REST: `Authorization: Bearer <token>` (core.services.tokens makes them).

The token authenticates as its owner, so the owner's permissions and region scope apply as on the pages.
An expired or revoked token, or one of an inactive user, is a 401; a read-only token asking for anything but
a safe method is a 403 here, whatever the view's own permission classes are.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS

from .. import context
from ..models.tokens import TokenScope
from ..services import tokens

KEYWORD = "Bearer"


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None  # another scheme (DRF's "Token", a session): not ours
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid API token header: give one token after Bearer."))
        try:
            key = parts[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid API token.")) from None
        token = tokens.find_token(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid API token."))
        if token.revoked_at:
            raise exceptions.AuthenticationFailed(_("This API token has been revoked."))
        if not token.is_usable:
            raise exceptions.AuthenticationFailed(_("This API token has expired."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("The account of this API token is disabled."))
        if token.scope == TokenScope.READ and request.method not in SAFE_METHODS:
            # Checked here rather than in a permission class: views set their own permission_classes.
            raise exceptions.PermissionDenied(_("This API token is read-only."))
        tokens.note_use(token)
        context.authenticated(token.user)
        return token.user, token

    def authenticate_header(self, request):
        return f'{KEYWORD} realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "foodrisk.core.api.auth.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="AUTHORIZATION", token_prefix=KEYWORD)
