import re

import pytest
from django.test import Client

from foodrisk.core.models import AuditEntry, User
from foodrisk.core.services import accounts
from foodrisk.core.testing import PASSWORD, ScopedTestCase


def captcha_answer(page):
    """The hidden key of the captcha on `page` and its answer (read from django-simple-captcha's store)."""
    from captcha.models import CaptchaStore

    key = re.search(r'name="captcha_0" value="(\w+)"', page.content.decode()).group(1)
    return {"captcha_0": key, "captcha_1": CaptchaStore.objects.get(hashkey=key).response}


class LoginTests(ScopedTestCase):
    def setUp(self):
        self.client.logout()

    def test_login_and_logout_are_audited(self):
        response = self.client.post("/accounts/login/", {"username": "tester", "password": PASSWORD})
        self.assertEqual(response.status_code, 302)
        self.client.post("/accounts/logout/")
        actions = self.audit_actions()
        self.assertIn("auth.login", actions)
        self.assertIn("auth.logout", actions)

    def test_failed_login_is_audited_without_the_password(self):
        self.client.post("/accounts/login/", {"username": "tester", "password": "wrong-one"})
        entry = AuditEntry.objects.get(action="auth.login_failed")
        self.assertEqual(entry.details, {"username": "tester"})
        self.assertNotIn("wrong-one", str(entry.details))

    def login(self, password, **extra):
        """POST the login form as a browser would: with the captcha's answer when the page asks for one."""
        page = self.client.get("/accounts/login/")
        data = {"username": "tester", "password": password, **extra}
        if "captcha" in page.context["form"].fields and "captcha_1" not in extra:
            data.update(captcha_answer(page))
        return self.client.post("/accounts/login/", data)

    def test_repeated_failures_lock_the_account(self):
        for _ in range(5):
            self.login("bad")
        response = self.login(PASSWORD)
        self.assertEqual(response.status_code, 429)
        self.assertContains(response, "锁定", status_code=429)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_captcha_after_failed_attempts_and_required(self):
        page = self.client.get("/accounts/login/")
        self.assertNotIn("captcha", page.context["form"].fields)  # no failures yet: no captcha
        for _ in range(2):  # LOGIN_CAPTCHA_AFTER
            self.login("bad")
        page = self.client.get("/accounts/login/")
        self.assertIn("captcha", page.context["form"].fields)
        self.assertContains(page, "验证码")
        image = re.search(r'src="(/captcha/image/\w+/)"', page.content.decode()).group(1)
        drawn = self.client.get(image)
        self.assertEqual((drawn.status_code, drawn["Content-Type"]), (200, "image/png"))  # drawn here, no service
        failures = AuditEntry.objects.filter(action="auth.login_failed").count()
        # the right password without the code: refused, and the password is not even tried
        response = self.client.post("/accounts/login/", {"username": "tester", "password": PASSWORD})
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("_auth_user_id", self.client.session)
        self.assertContains(response, "请输入验证码")
        response = self.login(PASSWORD, captcha_0=captcha_answer(page)["captcha_0"], captcha_1="wrong")
        self.assertNotIn("_auth_user_id", self.client.session)
        self.assertContains(response, "验证码错误")
        self.assertEqual(AuditEntry.objects.filter(action="auth.login_failed").count(), failures)
        # with the code: in
        self.assertEqual(self.login(PASSWORD).status_code, 302)
        self.assertIn("_auth_user_id", self.client.session)

    def test_failures_for_a_username_from_elsewhere_also_ask_for_the_captcha(self):
        other = Client(REMOTE_ADDR="10.9.8.7")
        for _ in range(2):
            other.post("/accounts/login/", {"username": "tester", "password": "bad"})
        response = self.client.post("/accounts/login/", {"username": "tester", "password": PASSWORD})
        self.assertIn("captcha", response.context["form"].fields)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_login_page_is_chinese_by_default(self):
        response = self.client.get("/accounts/login/")
        self.assertContains(response, 'lang="zh-hans"')
        self.assertContains(response, "登录")

    def test_security_headers(self):
        response = self.client.get("/accounts/login/")
        csp = response["Content-Security-Policy"]
        self.assertIn("script-src 'self'", csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertEqual(response["X-Frame-Options"], "DENY")
        self.assertTrue(response["X-Request-ID"])


class CsrfTests(ScopedTestCase):
    def test_forged_csrf_token_is_refused_and_audited(self):
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.user)
        response = client.post("/accounts/password/", {"old_password": PASSWORD}, HTTP_X_CSRFTOKEN="forged")
        self.assertEqual(response.status_code, 403)
        self.assertIn("security.csrf_failure", self.audit_actions())


@pytest.mark.django_db
def test_password_rules_refuse_simple_passwords():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        accounts.create_user(username="weak", password="abcdefghij")
    assert not User.objects.filter(username="weak").exists()


@pytest.mark.django_db
def test_passwords_use_argon2(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = accounts.create_user(username="strong", password="Str0ng-Passw0rd!")
    assert user.password.startswith("argon2")


class LanguageTests(ScopedTestCase):
    def test_chinese_by_default_whatever_the_browser_says(self):
        response = self.client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
        self.assertContains(response, 'lang="zh-hans"')

    def test_english_when_chosen(self):
        self.client.post("/i18n/setlang/", {"language": "en", "next": "/"})
        response = self.client.get("/")
        self.assertContains(response, 'lang="en"')
        self.assertContains(response, "Welcome")


class ApiDocsTests(ScopedTestCase):
    def test_api_docs_are_served_locally_under_the_csp(self):
        response = self.client.get("/api/docs/")
        self.assertEqual(response.status_code, 200)
        body = response.content.decode()
        self.assertIn("/static/drf_spectacular_sidecar/", body)
        self.assertNotIn("cdn", body.lower())
        self.assertIn("'nonce-", response["Content-Security-Policy"])
        schema = self.client.get("/api/schema/")
        self.assertEqual(schema.status_code, 200)
        self.assertIn(b"/api/enterprises/enterprises/", schema.content)

    def test_schema_and_docs_need_a_login(self):
        self.client.logout()
        docs = self.client.get("/api/docs/")
        self.assertEqual(docs.status_code, 302)
        self.assertIn("/accounts/login/", docs["Location"])
        self.assertIn(self.client.get("/api/schema/").status_code, (401, 403))

    def test_a_setting_opens_schema_and_docs(self):
        self.client.logout()
        with self.settings(API_DOCS_PUBLIC=True):
            self.assertEqual(self.client.get("/api/docs/").status_code, 200)
            self.assertEqual(self.client.get("/api/schema/").status_code, 200)


class NoStoreTests(ScopedTestCase):
    def test_authenticated_pages_and_api_are_not_stored(self):
        for url in ("/", "/api/core/jobs/"):
            response = self.client.get(url)
            self.assertEqual(response.status_code, 200, url)
            self.assertIn("no-store", response["Cache-Control"], url)
