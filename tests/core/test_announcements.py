"""System announcements (系统公告): published by an administrator to all users or to chosen organisations, shown on
each recipient's home page until they mark it read; withdrawn or expired ones disappear; publishing is the
administrator's, never the district inspector's."""

import re
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from foodrisk.core.models import Announcement, AuditEntry, Organisation, Role, User
from foodrisk.core.seeds import seed_roles
from foodrisk.core.services import announcements
from foodrisk.core.testing import PASSWORD, ScopedTestCase

API = "/api/core/announcements/"
REQUIRED = "该字段是必填项。"


def visible_text(response):
    """What a reader sees: the page without its tags (attribute names such as name="audience" are code)."""
    return re.sub(r"<[^>]*>", " ", response.content.decode())


class AnnouncementTests(ScopedTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        seed_roles()
        cls.org_hz = Organisation.objects.create(code="T-HZ", name="杭州市局", region=cls.regions["330100"])
        cls.org_nb = Organisation.objects.create(code="T-NB", name="海曙区局", region=cls.regions["330203"])
        cls.admin = cls._user("admin", cls.org_hz, "system_admin")
        cls.inspector = cls._user("inspector", cls.org_a, "supervisor")
        cls.user_b = cls._user("user-b", cls.org_b)
        cls.user_nb = cls._user("user-nb", cls.org_nb)
        cls.root = User.objects.create_superuser("root", password=PASSWORD)  # nationwide

    @classmethod
    def _user(cls, username, organisation, role=None):
        user = User.objects.create_user(username, password=PASSWORD, organisation=organisation)
        if role:
            user.groups.add(Role.objects.get(code=role))
        return user

    def as_user(self, user):
        self.client.force_login(user)

    def publish(self, title="端午节期间食品安全检查安排", organisations=None, by=None, **fields):
        audience = "all" if organisations is None else "organisations"
        return announcements.publish(user=by or (self.root if audience == "all" else self.admin), title=title,
                                     body="请各单位做好节日期间检查。", audience=audience,
                                     organisations=organisations or [], **fields)

    def home_shows(self, user, title):
        self.as_user(user)
        response = self.client.get(reverse("core:home"))
        self.assertEqual(response.status_code, 200)
        return title in response.content.decode()

    # --- publishing on the page ------------------------------------------------------------------------
    def test_published_to_an_organisation_shows_on_its_users_home_page_only(self):
        self.as_user(self.admin)
        response = self.client.post(reverse("core:announcement_add"), {
            "title": "关于开展春季食品安全专项检查的通知", "body": "各单位：……", "level": "important",
            "audience": "organisations", "organisations": [self.org_a.pk]})
        self.assertEqual(response.status_code, 302, response.context and response.context["form"].errors)
        announcement = Announcement.objects.get()
        self.assertEqual((announcement.published_by, announcement.level), (self.admin, "important"))
        self.assertTrue(self.home_shows(self.user, "关于开展春季食品安全专项检查的通知"))
        self.assertFalse(self.home_shows(self.user_b, "关于开展春季食品安全专项检查的通知"))

    def test_an_organisation_reaches_the_organisations_within_its_jurisdiction(self):
        announcement = self.publish(organisations=[self.org_hz])  # 杭州市: 上城区 and 西湖区, not 宁波
        for user, expected in ((self.user, True), (self.user_b, True), (self.admin, True), (self.user_nb, False)):
            self.assertEqual(announcements.visible_to(user).filter(pk=announcement.pk).exists(), expected, user)

    def test_all_users_reaches_everyone(self):
        self.publish("全体用户公告")
        for user in (self.user, self.user_b, self.user_nb, self.inspector):
            self.assertTrue(self.home_shows(user, "全体用户公告"), user)

    def test_the_pages_are_in_chinese(self):
        announcement = self.publish(organisations=[self.org_a], level="urgent")
        self.as_user(self.user)
        home = self.client.get(reverse("core:home")).content.decode()
        for text in ("系统公告", "知道了", "紧急"):
            self.assertIn(text, home)
        self.as_user(self.admin)
        pages = [visible_text(self.client.get(reverse(name, args=args))) for name, args in (
            ("core:announcement_list", ()), ("core:announcement_add", ()),
            ("core:announcement_detail", (announcement.pk,)))]
        for english in ("Got it", "System announcements", "importance", "audience", "Chosen organisations",
                        "Withdraw", "published by", "Read by", "Urgent", "withdrawn"):
            for page in pages:
                self.assertNotIn(english, page)
        self.assertIn("系统公告", pages[0])
        self.assertIn("撤回", pages[2])

    # --- marking read, withdrawing, expiry ---------------------------------------------------------------
    def test_marking_read_removes_it_from_the_home_page(self):
        announcement = self.publish("请核对辖区企业名录", organisations=[self.org_a])
        self.assertTrue(self.home_shows(self.user, "请核对辖区企业名录"))
        url = reverse("core:announcement_read", args=[announcement.pk])
        response = self.client.post(url, HTTP_HX_REQUEST="true")  # htmx swaps the empty answer for the line
        self.assertEqual((response.status_code, response.content), (200, b""))
        self.assertFalse(self.home_shows(self.user, "请核对辖区企业名录"))
        self.assertRedirects(self.client.post(url), reverse("core:home"))  # a second click changes nothing
        self.assertEqual(announcement.reads.count(), 1)
        self.assertFalse(self.home_shows(self.user_b, "请核对辖区企业名录"))
        self.as_user(self.user_b)  # not addressed to them: nothing to mark
        self.assertEqual(self.client.post(url).status_code, 404)

    def test_withdrawn_and_expired_announcements_disappear(self):
        withdrawn = self.publish("即将撤回的公告", organisations=[self.org_a])
        expiring = self.publish("即将过期的公告", organisations=[self.org_a],
                                expires_at=timezone.now() + timedelta(hours=1))
        self.assertTrue(self.home_shows(self.user, "即将撤回的公告"))
        self.assertTrue(self.home_shows(self.user, "即将过期的公告"))
        self.as_user(self.admin)
        response = self.client.post(reverse("core:announcement_withdraw", args=[withdrawn.pk]))
        self.assertRedirects(response, withdrawn.get_absolute_url())
        Announcement.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        self.assertFalse(self.home_shows(self.user, "即将撤回的公告"))
        self.assertFalse(self.home_shows(self.user, "即将过期的公告"))
        self.as_user(self.admin)  # withdrawing twice is refused with a message, not an error
        self.client.post(reverse("core:announcement_withdraw", args=[withdrawn.pk]))
        self.assertEqual(AuditEntry.objects.filter(action="core.announcement.withdraw").count(), 1)

    def test_publish_and_withdraw_are_audited(self):
        announcement = self.publish(organisations=[self.org_a, self.org_b])
        announcements.withdraw(announcement, user=self.admin)
        publish = AuditEntry.objects.get(action="core.announcement.publish")
        self.assertEqual((publish.user, publish.object_id), (self.admin, str(announcement.pk)))
        self.assertEqual(publish.after["organisations"], ["T-A", "T-B"])
        self.assertEqual(publish.region_code, "330100")
        withdraw = AuditEntry.objects.get(action="core.announcement.withdraw")
        self.assertIsNone(withdraw.before["withdrawn_at"])
        self.assertIsNotNone(withdraw.after["withdrawn_at"])

    # --- who may publish ---------------------------------------------------------------------------------
    def test_roles(self):
        admin_role, supervisor = Role.objects.get(code="system_admin"), Role.objects.get(code="supervisor")
        for codename in ("add_announcement", "change_announcement", "view_announcement"):
            self.assertTrue(admin_role.permissions.filter(codename=codename).exists(), codename)
            self.assertFalse(supervisor.permissions.filter(codename=codename).exists(), codename)

    def test_the_inspector_cannot_publish(self):
        self.as_user(self.inspector)
        self.assertEqual(self.client.get(reverse("core:announcement_add")).status_code, 403)
        data = {"title": "越权公告", "audience": "organisations", "organisations": [self.org_a.pk], "level": "normal"}
        self.assertEqual(self.client.post(reverse("core:announcement_add"), data).status_code, 403)
        self.assertEqual(self.client.post(API, data, content_type="application/json").status_code, 403)
        self.assertFalse(Announcement.objects.exists())
        self.assertNotIn(reverse("core:announcement_list"), self.client.get(reverse("core:home")).content.decode())
        announcement = self.publish(organisations=[self.org_a])
        self.assertEqual(self.client.post(reverse("core:announcement_withdraw", args=[announcement.pk])).status_code,
                         403)
        self.assertEqual(self.client.post(f"{API}{announcement.pk}/withdraw/").status_code, 403)
        self.assertIsNone(Announcement.objects.get().withdrawn_at)

    def test_the_administrators_menu_links_the_list(self):
        self.as_user(self.admin)
        self.assertIn(reverse("core:announcement_list"), self.client.get(reverse("core:home")).content.decode())

    def test_a_regional_administrator_addresses_only_their_jurisdiction(self):
        self.as_user(self.admin)  # 杭州市局: not all users, not 宁波
        for data in ({"audience": "all"}, {"audience": "organisations", "organisations": [self.org_nb.pk]}):
            response = self.client.post(reverse("core:announcement_add"), {"title": "越界公告", "level": "normal",
                                                                           **data})
            self.assertEqual(response.status_code, 200)
            self.assertTrue(response.context["form"].errors)
        response = self.client.post(API, {"title": "越界公告", "audience": "all"}, content_type="application/json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("全国范围", response.content.decode())
        self.assertFalse(Announcement.objects.exists())

    # --- bad input ---------------------------------------------------------------------------------------
    def test_an_empty_title_is_refused_in_chinese(self):
        self.as_user(self.admin)
        data = {"title": "", "level": "normal", "audience": "organisations", "organisations": [self.org_a.pk]}
        response = self.client.post(reverse("core:announcement_add"), data)
        self.assertEqual(response.status_code, 200)
        self.assertIn(REQUIRED, response.context["form"].errors["title"])
        response = self.client.post(API, data, content_type="application/json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("不能为空", response.json()["title"][0])
        with self.assertRaises(ValidationError) as refused:
            announcements.publish(user=self.admin, title="", organisations=[self.org_a])
        self.assertIn("title", refused.exception.message_dict)
        self.assertFalse(Announcement.objects.exists())
        self.assertFalse(AuditEntry.objects.filter(action="core.announcement.publish").exists())

    def test_an_expiry_in_the_past_is_refused(self):
        self.as_user(self.admin)
        response = self.client.post(reverse("core:announcement_add"), {
            "title": "过期公告", "level": "normal", "audience": "organisations", "organisations": [self.org_a.pk],
            "expires_at": "2020-01-01T08:00"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("expires_at", response.context["form"].errors)
        self.assertFalse(Announcement.objects.exists())

    # --- the API -----------------------------------------------------------------------------------------
    def test_the_api_lists_what_is_addressed_to_each_user(self):
        mine = self.publish("上城区公告", organisations=[self.org_a])
        theirs = self.publish("西湖区公告", organisations=[self.org_b])
        everyone = self.publish("全体公告")
        gone = self.publish("已撤回公告", organisations=[self.org_a])
        announcements.withdraw(gone, user=self.admin)
        for user, expected in ((self.user, {mine.pk, everyone.pk}), (self.user_b, {theirs.pk, everyone.pk}),
                               (self.user_nb, {everyone.pk})):
            self.as_user(user)
            response = self.client.get(API)
            self.assertEqual(response.status_code, 200)
            self.assertEqual({row["id"] for row in response.json()["results"]}, expected, user)
        self.as_user(self.user)
        self.assertEqual(self.client.get(f"{API}{theirs.pk}/").status_code, 404)
        self.assertEqual(self.client.post(f"{API}{theirs.pk}/read/").status_code, 404)
        response = self.client.post(f"{API}{mine.pk}/read/")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.json()["is_read"])
        rows = {row["id"]: row["is_read"] for row in self.client.get(API).json()["results"]}
        self.assertEqual(rows, {mine.pk: True, everyone.pk: False})
        for path in (f"{API}abc/", f"{API}1.5/"):
            self.assertEqual(self.client.get(path).status_code, 404)
        self.assertEqual(self.client.post(f"{API}abc/read/").status_code, 404)
        self.client.logout()
        self.assertIn(self.client.get(API).status_code, (401, 403))

    def test_the_api_publishes_and_withdraws(self):
        self.as_user(self.admin)
        response = self.client.post(API, {"title": "接口发布的公告", "level": "urgent", "audience": "organisations",
                                          "organisations": [self.org_a.pk]}, content_type="application/json")
        self.assertEqual(response.status_code, 201, response.content)
        pk = response.json()["id"]
        self.assertTrue(self.home_shows(self.user, "接口发布的公告"))
        self.as_user(self.admin)
        response = self.client.post(f"{API}{pk}/withdraw/")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertIsNotNone(response.json()["withdrawn_at"])
        self.assertEqual(self.client.post(f"{API}{pk}/withdraw/").status_code, 400)
        self.assertEqual(self.client.post(f"{API}abc/withdraw/").status_code, 404)
        self.assertEqual(
            list(AuditEntry.objects.filter(action__startswith="core.announcement.").values_list("action", flat=True)
                 .order_by("seq")), ["core.announcement.publish", "core.announcement.withdraw"])

    def test_the_schema_is_valid_with_integer_ids(self):
        from drf_spectacular.generators import SchemaGenerator
        from drf_spectacular.validation import validate_schema

        schema = SchemaGenerator().get_schema(request=None, public=True)
        validate_schema(schema)
        for path in ("/api/core/announcements/{id}/", "/api/core/announcements/{id}/read/",
                     "/api/core/announcements/{id}/withdraw/"):
            operation = next(iter(schema["paths"][path].values()))
            parameter = next(p for p in operation["parameters"] if p["name"] == "id")
            self.assertEqual(parameter["schema"]["type"], "integer", path)
