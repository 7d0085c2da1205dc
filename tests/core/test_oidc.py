"""Unified identity login (统一身份认证): the identity provider names the user; roles and data scope
stay managed here, so a token can neither create a scoped user silently nor widen anyone's scope."""

import pytest
from django.test import override_settings

from foodrisk.core.models import User

OIDC = dict(
    OIDC_RP_CLIENT_ID="foodrisk", OIDC_RP_CLIENT_SECRET="s", OIDC_RP_SIGN_ALGO="HS256",
    OIDC_OP_AUTHORIZATION_ENDPOINT="https://idp.example/auth", OIDC_OP_TOKEN_ENDPOINT="https://idp.example/token",
    OIDC_OP_USER_ENDPOINT="https://idp.example/userinfo", OIDC_OP_JWKS_ENDPOINT="https://idp.example/jwks",
)


@pytest.mark.django_db
@override_settings(**OIDC)
def test_claims_match_an_active_local_user_only():
    from foodrisk.core.oidc import ScopedOIDCBackend

    active = User.objects.create_user("zhangsan")
    User.objects.create_user("lisi", is_active=False)
    backend = ScopedOIDCBackend()
    assert list(backend.filter_users_by_claims({"preferred_username": "zhangsan"})) == [active]
    assert not backend.filter_users_by_claims({"preferred_username": "lisi"}).exists()
    assert not backend.filter_users_by_claims({}).exists()


@pytest.mark.django_db
@override_settings(**OIDC)
def test_created_user_has_no_scope_until_an_administrator_gives_one():
    from foodrisk.core.oidc import ScopedOIDCBackend

    user = ScopedOIDCBackend().create_user({"preferred_username": "wangwu", "email": "w@example.cn", "name": "王五"})
    assert user.username == "wangwu" and user.full_name == "王五"
    assert user.scope_prefix is None  # no organisation, no scope: sees nothing until assigned
