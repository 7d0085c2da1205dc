"""Test harness every app reuses (in the spirit of NetBox's utilities/testing).

An app supplies a model, how to make an object in a region, and form/API data; it gets checks of
list/detail/create/edit/delete for views and API: anonymous, no permission, with permission, and
with permission but outside the user's region.

    class OrganisationViews(ViewTestCases.All):
        model = Organisation
        def make_object(self, region): return Organisation.objects.create(..., region=region)
        def form_data(self, region): return {...}
"""

import re
from contextlib import contextmanager
from unittest import mock

from django.contrib.auth.models import Permission
from django.test import TestCase
from django.urls import reverse

from .models import AuditEntry, Organisation, Region, User

PASSWORD = "Test-pass-2026!"

# English on a Chinese page: a word of three or more letters (lower case after the first) that is not part of a
# code, file name, path or identifier (those hold digits, underscores, dots or capitals only). Product names a
# Chinese UI writes in Latin letters are allowed.
ALLOWED_WORDS = frozenset({"English", "Excel"})  # the language switcher names English in English
ENGLISH_WORD = re.compile(r"(?<![\w./:@#%&=?-])([A-Za-z][a-z]{2,})(?![\w./:@-])")


def visible_text(html):
    """The text a person reads on a page: no head, scripts, styles, code, preformatted text or form values."""
    html = re.sub(r"(?is)<(head|script|style|code|pre|textarea)\b.*?</\1>", " ", html)
    html = re.sub(r"(?s)<[^>]+>", " ", html)  # tags and their attributes
    return re.sub(r"&[a-z]+;|&#\d+;", " ", html)


def english_words(html, allowed=()):
    """The English words in a page's visible text, outside ALLOWED_WORDS and `allowed` (e.g. usernames)."""
    return set(ENGLISH_WORD.findall(visible_text(html))) - ALLOWED_WORDS - set(allowed)


def make_regions():
    """浙江省 › 杭州市 › 上城区 / 西湖区, and 宁波市 › 海曙区: enough to test scope."""
    rows = [
        ("330000", "浙江省", "province", None),
        ("330100", "杭州市", "prefecture", "330000"),
        ("330102", "上城区", "county", "330100"),
        ("330106", "西湖区", "county", "330100"),
        ("330200", "宁波市", "prefecture", "330000"),
        ("330203", "海曙区", "county", "330200"),
    ]
    regions = {}
    for code, name, level, parent in rows:
        regions[code], _ = Region.objects.get_or_create(code=code, defaults={"name": name, "level": level,
                                                                             "parent_id": parent, "full_name": name})
    return regions


def grant(user, *perms):
    """Give permissions ("app.codename") directly and drop the permission cache."""
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return User.objects.get(pk=user.pk)


def export_list(client, list_url, fmt="csv", **form):
    """Export a list as a user does: the list's export button, then the confirmation form (POST)."""
    joiner = "&" if "?" in list_url else "?"
    response = client.get(f"{list_url}{joiner}_export={fmt}")
    assert response.status_code == 302, response.status_code
    return client.post(response["Location"], {"confirm": "on", **form})


class ScopedTestCase(TestCase):
    """Regions, two district organisations, and a user in district A with no permissions."""

    @classmethod
    def setUpTestData(cls):
        cls.regions = make_regions()
        cls.region_a, cls.region_b = cls.regions["330102"], cls.regions["330106"]
        cls.org_a = Organisation.objects.create(code="T-A", name="上城区局", region=cls.region_a)
        cls.org_b = Organisation.objects.create(code="T-B", name="西湖区局", region=cls.region_b)
        cls.user = User.objects.create_user("tester", password=PASSWORD, organisation=cls.org_a)

    def setUp(self):
        self.client.force_login(self.user)

    def grant(self, *perms):
        self.user = grant(self.user, *perms)
        self.client.force_login(self.user)

    def audit_actions(self):
        return list(AuditEntry.objects.order_by("seq").values_list("action", flat=True))


class _ModelCase(ScopedTestCase):
    model = None

    def make_object(self, region):
        raise NotImplementedError("supply make_object(region) in the app's test case")

    def perm(self, action):
        return f"{self.model._meta.app_label}.{action}_{self.model._meta.model_name}"

    def url(self, suffix, *args):
        opts = self.model._meta
        return reverse(f"{opts.app_label}:{opts.model_name}_{suffix}", args=args)


class ViewTestCases:
    class List(_ModelCase):
        def test_list_requires_login(self):
            self.client.logout()
            response = self.client.get(self.url("list"))
            self.assertEqual(response.status_code, 302)
            self.assertIn(reverse("core:login"), response["Location"])

        def test_list_without_permission_is_refused(self):
            self.assertEqual(self.client.get(self.url("list")).status_code, 403)
            self.assertIn("access.denied", self.audit_actions())

        def test_list_shows_only_objects_in_scope(self):
            mine, theirs = self.make_object(self.region_a), self.make_object(self.region_b)
            self.grant(self.perm("view"))
            response = self.client.get(self.url("list"))
            self.assertEqual(response.status_code, 200)
            pks = {row.record.pk for row in response.context["table"].rows}
            self.assertIn(mine.pk, pks)
            self.assertNotIn(theirs.pk, pks)

        def test_filtered_query_is_audited(self):
            self.grant(self.perm("view"))
            self.assertEqual(self.client.get(self.url("list") + "?q=x&page=1").status_code, 200)
            entry = AuditEntry.objects.filter(action="query").first()
            self.assertIsNotNone(entry)
            self.assertEqual(entry.details["filters"], {"q": "x"})

        def test_export_stays_in_scope_and_is_audited(self):
            mine, theirs = self.make_object(self.region_a), self.make_object(self.region_b)
            self.grant(self.perm("view"), "core.export_data")
            response = export_list(self.client, self.url("list"))
            self.assertEqual(response.status_code, 200)
            body = response.content.decode("utf-8-sig")
            self.assertIn(str(mine)[:20], body)
            self.assertNotIn(str(theirs)[:20], body)
            self.assertIn("export", self.audit_actions())

        def test_export_without_export_permission_is_refused(self):
            self.make_object(self.region_a)
            self.grant(self.perm("view"))
            self.assertEqual(export_list(self.client, self.url("list")).status_code, 403)
            self.assertNotIn("export", self.audit_actions())

    class Detail(_ModelCase):
        def test_detail_without_permission_is_refused(self):
            obj = self.make_object(self.region_a)
            self.assertEqual(self.client.get(self.url("detail", obj.pk)).status_code, 403)

        def test_detail_in_scope(self):
            obj = self.make_object(self.region_a)
            self.grant(self.perm("view"))
            response = self.client.get(self.url("detail", obj.pk))
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.context["object"], obj)

        def test_detail_other_region_is_not_found(self):
            obj = self.make_object(self.region_b)
            self.grant(self.perm("view"))
            self.assertEqual(self.client.get(self.url("detail", obj.pk)).status_code, 404)
            self.assertIn("access.out_of_scope", self.audit_actions())  # the attempt is recorded

    class Create(_ModelCase):
        def form_data(self, region):
            raise NotImplementedError("supply form_data(region)")

        def test_create_without_permission_is_refused(self):
            before = self.model.objects.count()
            response = self.client.post(self.url("add"), self.form_data(self.region_a))
            self.assertEqual(response.status_code, 403)
            self.assertEqual(self.model.objects.count(), before)

        def test_create_with_permission_is_saved_and_audited(self):
            self.grant(self.perm("add"), self.perm("view"), "core.view_region", "core.view_organisation")
            before = self.model.objects.count()
            response = self.client.post(self.url("add"), self.form_data(self.region_a))
            self.assertEqual(response.status_code, 302, getattr(response, "context", None)
                             and response.context.get("form") and response.context["form"].errors)
            self.assertEqual(self.model.objects.count(), before + 1)
            self.assertTrue(any(a.endswith(".create") for a in self.audit_actions()))

        def test_create_in_other_region_is_refused(self):
            self.grant(self.perm("add"), self.perm("view"), "core.view_region", "core.view_organisation")
            before = self.model.objects.count()
            response = self.client.post(self.url("add"), self.form_data(self.region_b))
            self.assertEqual(response.status_code, 200)  # the form answers that the choice is not valid
            self.assertTrue(response.context["form"].errors)
            self.assertEqual(self.model.objects.count(), before)

    class Edit(_ModelCase):
        def form_data(self, region):
            raise NotImplementedError("supply form_data(region)")

        def test_edit_other_region_is_not_found(self):
            obj = self.make_object(self.region_b)
            self.grant(self.perm("change"), self.perm("view"))
            self.assertEqual(self.client.get(self.url("edit", obj.pk)).status_code, 404)
            self.assertEqual(self.client.post(self.url("edit", obj.pk), self.form_data(self.region_b)).status_code, 404)

        def test_edit_with_permission_is_saved_and_audited(self):
            obj = self.make_object(self.region_a)
            self.grant(self.perm("change"), self.perm("view"), "core.view_region", "core.view_organisation")
            response = self.client.post(self.url("edit", obj.pk), self.form_data(self.region_a))
            self.assertEqual(response.status_code, 302, response.context and response.context["form"].errors)
            entry = AuditEntry.objects.filter(action__endswith=".update").first()
            self.assertIsNotNone(entry)
            self.assertEqual(entry.object_id, str(obj.pk))

    class Delete(_ModelCase):
        def test_delete_other_region_is_not_found(self):
            obj = self.make_object(self.region_b)
            self.grant(self.perm("delete"), self.perm("view"))
            self.assertEqual(self.client.post(self.url("delete", obj.pk)).status_code, 404)
            self.assertTrue(self.model.objects.filter(pk=obj.pk).exists())

        def test_delete_with_permission_is_audited(self):
            obj = self.make_object(self.region_a)
            self.grant(self.perm("delete"), self.perm("view"))
            self.assertEqual(self.client.post(self.url("delete", obj.pk)).status_code, 302)
            self.assertFalse(self.model.objects.filter(pk=obj.pk).exists())
            self.assertIn(f"{self.model._meta.app_label}.{self.model._meta.model_name}.delete", self.audit_actions())

    class All(List, Detail, Create, Edit, Delete):
        pass


class APITestCases:
    class Read(_ModelCase):
        api_base = None  # e.g. "/api/core/organisations/"

        def test_api_requires_authentication(self):
            self.client.logout()
            self.assertIn(self.client.get(self.api_base).status_code, (401, 403))

        def test_api_without_permission_is_refused(self):
            self.assertEqual(self.client.get(self.api_base).status_code, 403)

        def test_api_list_and_detail_stay_in_scope(self):
            mine, theirs = self.make_object(self.region_a), self.make_object(self.region_b)
            self.grant(self.perm("view"))
            response = self.client.get(self.api_base)
            self.assertEqual(response.status_code, 200)
            ids = {str(row.get("id", row.get("code", row.get("pk")))) for row in response.json()["results"]}
            self.assertIn(str(mine.pk), ids)
            self.assertNotIn(str(theirs.pk), ids)
            self.assertEqual(self.client.get(f"{self.api_base}{mine.pk}/").status_code, 200)
            self.assertEqual(self.client.get(f"{self.api_base}{theirs.pk}/").status_code, 404)
            self.assertIn("access.out_of_scope", self.audit_actions())

    class Write(_ModelCase):
        api_base = None

        def api_data(self, region):
            raise NotImplementedError("supply api_data(region)")

        def test_api_create_needs_permission(self):
            self.grant(self.perm("view"))
            response = self.client.post(self.api_base, self.api_data(self.region_a), content_type="application/json")
            self.assertEqual(response.status_code, 403)

        def test_api_create_is_audited(self):
            self.grant(self.perm("view"), self.perm("add"))
            response = self.client.post(self.api_base, self.api_data(self.region_a), content_type="application/json")
            self.assertEqual(response.status_code, 201, response.content)
            self.assertTrue(any(a.endswith(".create") for a in self.audit_actions()))

        def test_api_create_in_other_region_is_rejected(self):
            self.grant(self.perm("view"), self.perm("add"))
            before = self.model.objects.count()
            response = self.client.post(self.api_base, self.api_data(self.region_b), content_type="application/json")
            self.assertEqual(response.status_code, 400)
            self.assertEqual(self.model.objects.count(), before)

        def test_api_update_other_region_is_not_found(self):
            theirs = self.make_object(self.region_b)
            self.grant(self.perm("view"), self.perm("change"))
            response = self.client.patch(f"{self.api_base}{theirs.pk}/", {}, content_type="application/json")
            self.assertEqual(response.status_code, 404)

    class All(Read, Write):
        pass


@contextmanager
def capture_events(*names):
    """[(event, payload)] of the events (all, or these names) emitted through core.outbox inside the block; their
    reactions are queued as usual."""
    from . import outbox

    captured, emit = [], outbox.emit

    def spy(event, **payload):
        if not names or event in names:
            captured.append((event, payload))
        return emit(event, **payload)

    with mock.patch.object(outbox, "emit", spy):
        yield captured


def run_worker():
    """Run every ready task as the worker would (user-visible jobs included; tests drain only the reactions):
    what they queue in turn runs too. Returns the number of tasks run."""
    from .worker import run_ready

    return run_ready()


ROW_CELL = re.compile(r"^\w+-(\d+-\w+|rows)$")  # a row editor's cell or row count (core.rows)


def form_as_posted(client, url, *, rows=True, without=()):
    """The form of the page at `url` with its current values, as the browser posts it: JSON boxes as their text,
    ticked boxes as "on", unticked and empty multiple choices left out. rows=False: as a script posts it — no
    row cells (the JSON alone); `without`: further fields a script does not send."""
    from django.forms import BooleanField, MultipleChoiceField

    from .rows import JSONTextField

    form = client.get(url).context["form"]
    data = {}
    for name, field in form.fields.items():
        if name in without or (not rows and ROW_CELL.match(name)):
            continue
        value = form[name].value()
        if isinstance(field, JSONTextField):
            value = field.prepare_value(value)
        elif isinstance(field, BooleanField):
            if not value:
                continue
            value = "on"
        elif isinstance(field, MultipleChoiceField) and not value:
            continue  # no box ticked: nothing posted
        data[name] = "" if value is None else value
    return data
