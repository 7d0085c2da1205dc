"""Optional unified identity authentication (统一身份认证) over OpenID Connect.

Users are matched by username (the `preferred_username` claim); their roles and scope stay managed
here, so an identity provider cannot widen anyone's data scope.
"""

from mozilla_django_oidc.auth import OIDCAuthenticationBackend


class ScopedOIDCBackend(OIDCAuthenticationBackend):
    def filter_users_by_claims(self, claims):
        username = claims.get("preferred_username") or claims.get("sub")
        if not username:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(username=username, is_active=True)

    def create_user(self, claims):
        user = super().create_user(claims)
        user.username = claims.get("preferred_username") or user.username
        user.full_name = claims.get("name", "")
        user.save()
        return user
