"""Personal API tokens (API 令牌): made on the page, secret shown once and stored as a hash only, Bearer
authentication as the owner (permissions and region scope), read-only tokens, expiry, revocation, audit."""

import hashlib
import re
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from foodrisk.core.models import ApiToken, AuditEntry, Organisation, User
from foodrisk.core.services import audit, tokens
from foodrisk.core.testing import PASSWORD, ScopedTestCase, grant

PAGE = "/accounts/api-tokens/"
API = "/api/core/organisations/"


def bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


class ApiTokenTests(ScopedTestCase):
    def make(self, user=None, scope="read", days=30):
        return tokens.create_token(user or self.user, "统计脚本", scope, timezone.now() + timedelta(days=days))

    def api(self, method, secret, url=API, **kwargs):
        self.client.logout()  # the token alone authenticates
        return getattr(self.client, method)(url, headers=bearer(secret), content_type="application/json", **kwargs)

    # --- the page -----------------------------------------------------------------------------------------

    def test_the_page_needs_a_login(self):
        self.client.logout()
        response = self.client.get(PAGE)
        self.assertEqual(response.status_code, 302)
        self.assertIn(reverse("core:login"), response["Location"])

    def test_the_user_menu_links_to_the_page(self):
        self.assertContains(self.client.get("/"), f'href="{PAGE}"')

    def test_create_on_the_page_shows_the_secret_once_and_stores_only_its_hash(self):
        response = self.client.post(PAGE, {"name": "区局统计脚本", "scope": "read", "days": "30"})
        self.assertEqual(response.status_code, 200)
        secret = response.context["secret"]
        self.assertGreaterEqual(len(secret), 43)  # 32 random bytes
        self.assertContains(response, secret)
        self.assertContains(response, "只显示这一次")
        token = ApiToken.objects.get()
        self.assertEqual(token.user, self.user)
        self.assertEqual(token.key_hash, hashlib.sha256(secret.encode()).hexdigest())
        self.assertEqual(token.key_prefix, secret[:8])
        stored = [str(v) for v in ApiToken.objects.values_list(*[f.attname for f in ApiToken._meta.fields]).get()]
        self.assertFalse(any(secret in value for value in stored))
        self.assertAlmostEqual(token.expires_at, timezone.now() + timedelta(days=30), delta=timedelta(minutes=1))
        again = self.client.get(PAGE)
        self.assertNotContains(again, secret)
        self.assertContains(again, token.key_prefix)
        self.assertContains(again, "区局统计脚本")

    def test_the_page_lists_only_the_users_own_tokens(self):
        other = User.objects.create_user("other", password=PASSWORD, organisation=self.org_a)
        self.make(other)
        mine, _secret = self.make()
        listed = list(self.client.get(PAGE).context["tokens"])
        self.assertEqual(listed, [mine])

    def test_a_lifetime_beyond_the_maximum_is_refused_in_chinese(self):
        response = self.client.post(PAGE, {"name": "脚本", "scope": "read", "days": "366"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("最长为 365 天", str(response.context["form"].errors["days"]))
        self.assertFalse(ApiToken.objects.exists())
        self.assertNotIn("core.apitoken.create", self.audit_actions())

    def test_an_empty_name_is_refused_in_chinese(self):
        response = self.client.post(PAGE, {"name": "  ", "scope": "read", "days": "30"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("必填", str(response.context["form"].errors["name"]))
        self.assertFalse(ApiToken.objects.exists())

    def test_the_service_refuses_bad_input(self):
        now = timezone.now()
        for name, scope, expires_at in (("", "read", now + timedelta(days=1)), ("x", "admin", now + timedelta(days=1)),
                                        ("x", "read", now - timedelta(minutes=1)),
                                        ("x", "read", now + timedelta(days=366))):
            with self.assertRaises(ValidationError):
                tokens.create_token(self.user, name, scope, expires_at)
        self.assertFalse(ApiToken.objects.exists())

    def test_the_lifetimes_are_parameters(self):
        from foodrisk.core.models import Parameter

        Parameter.objects.create(key="api_token_max_days", name="最长", category="security", value_type="int",
                                 value=30)
        with self.assertRaises(ValidationError):
            self.make(days=31)
        self.make(days=29)

    def test_the_page_has_no_english_words(self):
        other = User.objects.create_user("other", password=PASSWORD, organisation=self.org_a)
        self.make(other)
        self.make(scope="write")
        revoked, _secret = self.make()
        tokens.revoke_token(revoked, self.user)
        self.grant(tokens.REVOKE_ANY_PERMISSION)  # the administrator's part of the page too
        response = self.client.post(PAGE, {"name": "脚本", "scope": "read", "days": "30"})
        main = re.search(r"<main.*?</main>", response.content.decode(), re.S).group(0)
        main = re.sub(r'<(code|td) class="app-data[^"]*">.*?</\1>', "", main, flags=re.S)  # names, secrets: data
        text = re.sub(r"<[^>]+>", " ", main)
        for shown in ("我的令牌", "只读", "读写", "已撤销", "撤销", "从未使用", "您管辖范围内其他用户的有效令牌"):
            self.assertIn(shown, text)
        self.assertEqual(sorted({w for w in re.findall(r"[A-Za-z]{3,}", text)} - {"API"}), [])

    # --- the API with a token ----------------------------------------------------------------------------

    def test_a_bearer_token_reads_as_its_user_within_their_region(self):
        self.grant("core.view_organisation")
        _token, secret = self.make()
        response = self.api("get", secret)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual({row["code"] for row in response.json()["results"]}, {"T-A"})  # not 西湖区's T-B

    def test_a_token_has_no_more_permissions_than_its_user(self):
        _token, secret = self.make()
        self.assertEqual(self.api("get", secret).status_code, 403)

    def test_last_used_is_written_at_most_once_a_minute(self):
        self.grant("core.view_organisation")
        token, secret = self.make()
        self.assertEqual(self.api("get", secret).status_code, 200)
        token.refresh_from_db()
        first = token.last_used_at
        self.assertIsNotNone(first)
        self.api("get", secret)  # again within the minute: no write
        token.refresh_from_db()
        self.assertEqual(token.last_used_at, first)
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
        self.api("get", secret)
        token.refresh_from_db()
        self.assertGreater(token.last_used_at, first - timedelta(minutes=1))

    def test_a_read_only_token_cannot_write(self):
        self.grant("core.view_organisation", "core.add_organisation")
        _token, secret = self.make(scope="read")
        data = {"code": "T-C", "name": "新机构", "kind": "bureau", "region": self.region_a.code}
        response = self.api("post", secret, data=data)
        self.assertEqual(response.status_code, 403)
        self.assertIn("只读", response.json()["detail"])
        self.assertFalse(Organisation.objects.filter(code="T-C").exists())

    def test_a_read_write_token_writes_audited_as_its_user(self):
        self.grant("core.view_organisation", "core.add_organisation")
        _token, secret = self.make(scope="write")
        data = {"code": "T-C", "name": "新机构", "region": self.region_a.code}
        response = self.api("post", secret, data=data)
        self.assertEqual(response.status_code, 201, response.content)
        entry = AuditEntry.objects.get(action="core.organisation.create")
        self.assertEqual(entry.user, self.user)

    def test_an_expired_token_is_a_401(self):
        self.grant("core.view_organisation")
        token, secret = self.make()
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        response = self.api("get", secret)
        self.assertEqual(response.status_code, 401)
        self.assertIn("已过期", response.json()["detail"])
        self.assertTrue(response["WWW-Authenticate"].startswith("Bearer"))

    def test_a_revoked_token_is_a_401(self):
        self.grant("core.view_organisation")
        token, secret = self.make()
        tokens.revoke_token(token, self.user)
        response = self.api("get", secret)
        self.assertEqual(response.status_code, 401)
        self.assertIn("已被撤销", response.json()["detail"])

    def test_the_token_of_a_disabled_account_is_a_401(self):
        self.grant("core.view_organisation")
        _token, secret = self.make()
        User.objects.filter(pk=self.user.pk).update(is_active=False)
        self.assertEqual(self.api("get", secret).status_code, 401)

    def test_an_unknown_or_malformed_token_is_a_401(self):
        _token, secret = self.make()
        self.assertEqual(self.api("get", secret[:8] + "x" * 35).status_code, 401)
        self.client.logout()
        r = self.client.get(API, headers={"Authorization": f"Bearer {secret} extra"})
        self.assertEqual(r.status_code, 401)
        self.assertIn("无效", r.json()["detail"])

    # --- revoking --------------------------------------------------------------------------------------

    def test_the_owner_revokes_on_the_page(self):
        token, _secret = self.make()
        response = self.client.post(reverse("core:api_token_revoke", args=[token.pk]))
        self.assertRedirects(response, PAGE)
        token.refresh_from_db()
        self.assertIsNotNone(token.revoked_at)
        self.assertIn("core.apitoken.revoke", self.audit_actions())

    def test_revoking_needs_a_post(self):
        token, _secret = self.make()
        self.assertEqual(self.client.get(reverse("core:api_token_revoke", args=[token.pk])).status_code, 405)

    def test_another_user_cannot_revoke_it(self):
        token, _secret = self.make()
        other = User.objects.create_user("other", password=PASSWORD, organisation=self.org_a)
        self.client.force_login(other)
        self.assertEqual(self.client.post(reverse("core:api_token_revoke", args=[token.pk])).status_code, 404)
        with self.assertRaises(PermissionDenied):
            tokens.revoke_token(token, other)
        token.refresh_from_db()
        self.assertIsNone(token.revoked_at)
        self.assertNotIn(token, self.client.get(PAGE).context["tokens"])

    def test_a_system_administrator_revokes_tokens_in_their_scope(self):
        token, _secret = self.make()
        admin = grant(User.objects.create_user("admin-a", password=PASSWORD, organisation=self.org_a),
                      tokens.REVOKE_ANY_PERMISSION)
        outsider = grant(User.objects.create_user("admin-b", password=PASSWORD, organisation=self.org_b),
                         tokens.REVOKE_ANY_PERMISSION)
        self.client.force_login(outsider)  # 西湖区's administrator: not over 上城区's users
        self.assertEqual(self.client.post(reverse("core:api_token_revoke", args=[token.pk])).status_code, 404)
        self.client.force_login(admin)
        self.assertIn(token, self.client.get(PAGE).context["others"])
        self.client.post(reverse("core:api_token_revoke", args=[token.pk]))
        token.refresh_from_db()
        self.assertIsNotNone(token.revoked_at)
        entry = AuditEntry.objects.get(action="core.apitoken.revoke")
        self.assertEqual(entry.user, admin)
        self.assertEqual(entry.details["owner"], "tester")

    def test_a_superuser_revokes_anyones(self):
        token, _secret = self.make()
        root = User.objects.create_superuser("root", password=PASSWORD)
        tokens.revoke_token(token, root)
        self.assertIsNotNone(ApiToken.objects.get(pk=token.pk).revoked_at)

    # --- audit ---------------------------------------------------------------------------------------------

    def test_creation_and_revocation_are_audited_without_the_secret(self):
        token, secret = self.make()
        tokens.revoke_token(token, self.user)
        entries = list(AuditEntry.objects.filter(action__startswith="core.apitoken.").order_by("seq"))
        self.assertEqual([e.action for e in entries], ["core.apitoken.create", "core.apitoken.revoke"])
        for entry in entries:
            self.assertEqual(entry.object_id, str(token.pk))
            self.assertEqual(entry.user, self.user)
            text = audit.canonical_json({name: getattr(entry, name) for name in audit.HASHED_FIELDS})
            self.assertNotIn(secret, text)
            self.assertNotIn(token.key_hash, text)
        self.assertTrue(audit.verify().ok)

    # --- the schema --------------------------------------------------------------------------------------

    def test_the_schema_names_the_bearer_scheme(self):
        schema = self.client.get("/api/schema/?format=json").json()
        scheme = schema["components"]["securitySchemes"]["apiToken"]
        self.assertEqual((scheme["type"], scheme["scheme"]), ("http", "bearer"))
