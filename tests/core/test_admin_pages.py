from django.contrib.auth.models import Permission
from django.db import transaction

from foodrisk.core import jobs as jobs_registry
from foodrisk.core.models import AuditEntry, DictionaryType, MessageTemplate, Parameter, Role, User
from foodrisk.core.seeds import seed_all
from foodrisk.core.testing import ScopedTestCase


class AdminPagesTests(ScopedTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        seed_all()

    def test_default_roles_exist_with_permissions(self):
        codes = set(Role.objects.values_list("code", flat=True))
        self.assertEqual(codes, {"system_admin", "data_admin", "indicator_admin", "model_admin", "supervisor",
                                 "approver", "handler", "leader"})
        approver = Role.objects.get(code="approver")  # the second person of the two-person rules
        self.assertTrue(approver.permissions.filter(codename="approve_gradeadjustment").exists())
        self.assertFalse(approver.permissions.filter(codename="add_gradeadjustment").exists())
        admin = Role.objects.get(code="system_admin")
        self.assertTrue(admin.permissions.filter(codename="verify_auditentry").exists())
        leader = Role.objects.get(code="leader")
        self.assertFalse(leader.permissions.filter(codename="add_organisation").exists())
        self.assertFalse(leader.permissions.filter(codename="view_auditentry").exists())

    def test_navigation_shows_only_permitted_items(self):
        response = self.client.get("/")
        labels = [item["url"] for section in response.context["nav_menu"] for item in section["items"]]
        self.assertNotIn("/audit/", labels)
        self.grant("core.view_auditentry")
        response = self.client.get("/")
        labels = [item["url"] for section in response.context["nav_menu"] for item in section["items"]]
        self.assertIn("/audit/", labels)

    def test_admin_creates_a_user_with_role_through_the_ui(self):
        self.grant("core.add_user", "core.view_user", "core.view_organisation", "core.view_region")
        role = Role.objects.get(code="supervisor")
        response = self.client.post("/users/add/", {
            "username": "inspector2", "full_name": "李四", "password": "Gr33n-Tea-2026!", "phone": "13812345678",
            "organisation": self.org_a.pk, "roles": [role.pk], "is_active": "on"})
        self.assertEqual(response.status_code, 302, response.context and response.context["form"].errors)
        user = User.objects.get(username="inspector2")
        self.assertTrue(user.groups.filter(pk=role.pk).exists())
        entry = AuditEntry.objects.get(action="core.user.create")
        self.assertEqual(entry.after["phone"], "***")  # sensitive values never reach the log
        self.assertNotIn("Gr33n", str(entry.after))

    def test_weak_password_is_refused_with_a_message(self):
        self.grant("core.add_user", "core.view_user", "core.view_organisation", "core.view_region")
        response = self.client.post("/users/add/", {"username": "weak", "password": "12345678",
                                                    "organisation": self.org_a.pk, "is_active": "on"})
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.context["form"].errors["password"])
        self.assertFalse(User.objects.filter(username="weak").exists())

    def test_user_in_other_region_cannot_be_edited(self):
        other = User.objects.create_user("other", organisation=self.org_b)
        self.grant("core.change_user", "core.view_user")
        self.assertEqual(self.client.get(f"/users/{other.pk}/edit/").status_code, 404)

    def test_phone_is_encrypted_at_rest(self):
        from django.db import connection

        user = User.objects.create_user("phoned", phone="13900001111")
        with connection.cursor() as cursor:
            cursor.execute("SELECT phone FROM core_user WHERE id = %s", [user.pk])
            stored = cursor.fetchone()[0]
        self.assertTrue(stored.startswith("v1:"))
        self.assertNotIn("13900001111", stored)
        self.assertEqual(User.objects.get(pk=user.pk).phone, "13900001111")

    def test_dictionary_items_edited_with_audit(self):
        self.user.national_scope = True
        self.user.save()
        self.grant("core.change_dictionarytype", "core.view_dictionarytype")
        dictionary = DictionaryType.objects.get(code="grade")
        items = list(dictionary.items.all())
        data = {"code": "grade", "name": "风险等级", "description": "",
                "items-TOTAL_FORMS": str(len(items) + 1), "items-INITIAL_FORMS": str(len(items)),
                "items-MIN_NUM_FORMS": "0", "items-MAX_NUM_FORMS": "1000"}
        for i, item in enumerate(items):
            data.update({f"items-{i}-id": item.pk, f"items-{i}-code": item.code, f"items-{i}-label": item.label,
                         f"items-{i}-order": item.order, f"items-{i}-enabled": "on"})
        n = len(items)
        data.update({f"items-{n}-code": "E", f"items-{n}-label": "新增", f"items-{n}-order": 9})
        response = self.client.post(f"/dictionaries/{dictionary.pk}/edit/", data)
        self.assertEqual(response.status_code, 302)
        self.assertTrue(dictionary.items.filter(code="E").exists())
        self.assertIn("core.dictionarytype.items", self.audit_actions())

    def test_parameter_type_is_checked(self):
        self.grant("core.change_parameter", "core.view_parameter")
        param = Parameter.objects.get(key="penalty_repair_months_food")
        response = self.client.post(f"/parameters/{param.pk}/edit/", {
            "key": param.key, "name": param.name, "category": "credit", "value_type": "int", "value": '"twelve"'})
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.context["form"].errors)

    def test_message_template_syntax_is_checked(self):
        self.grant("core.change_messagetemplate", "core.view_messagetemplate")
        template = MessageTemplate.objects.get(code="alert_overdue")
        response = self.client.post(f"/message-templates/{template.pk}/edit/", {
            "code": template.code, "name": template.name, "subject": "x", "body": "{% if %}", "enabled": "on"})
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.context["form"].errors["body"])

    def test_audit_log_page_filters_and_verifies(self):
        self.user.national_scope = True
        self.user.save()
        self.grant("core.view_auditentry", "core.verify_auditentry")
        response = self.client.get("/audit/?action=core.")
        self.assertEqual(response.status_code, 200)
        response = self.client.post("/audit/verify/", follow=True)
        self.assertContains(response, "完整")

    def test_audit_verify_page_reports_checkpoints_and_a_forged_log_in_chinese(self):
        from foodrisk.core.services import audit

        self.user.national_scope = True
        self.user.save()
        self.grant("core.view_auditentry", "core.verify_auditentry")
        audit.checkpoint()
        response = self.client.post("/audit/verify/", follow=True)
        self.assertContains(response, "个已签名检查点核对一致")
        path = audit.checkpoint_path()
        path.write_text(path.read_text().replace('"count":', '"count":1'))
        response = self.client.post("/audit/verify/", follow=True)
        self.assertContains(response, "审计日志链校验未通过：检查点日志第 1 行签名无效")
        verify_entry = AuditEntry.objects.filter(action="core.audit.verify").first()
        self.assertFalse(verify_entry.details["ok"])

    def test_role_editor_saves_permissions(self):
        self.grant("core.change_role", "core.view_role")
        role = Role.objects.get(code="handler")
        perm = Permission.objects.get(codename="view_parameter")
        response = self.client.post(f"/roles/{role.pk}/edit/", {
            "code": role.code, "name": role.name, "description": "", "permissions": [perm.pk]})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(list(role.permissions.all()), [perm])
        entry = AuditEntry.objects.get(action="core.role.update")
        self.assertIn("core.view_parameter", entry.after["permissions"])

    def test_codes_are_shown_by_their_chinese_labels(self):
        """Audit actions and object types, job kinds of jobs and schedules, template channels and parameter
        categories are codes: the pages show their labels (a code stays visible only where it is the value)."""
        from foodrisk.core.services import audit, jobs

        with transaction.atomic():
            for action, object_type in (("scoring.run.publish", "scoring.scoringrun"),
                                        ("records.inspections.upsert", "records.inspection"),
                                        ("view", "enterprises.enterprise")):
                audit.record(action, object_type=object_type, object_id="1", region_code="330102")
        jobs.start("core.backup", user=self.user, params={})
        self.grant("core.view_auditentry", "core.view_job", "core.view_all_jobs", "core.view_schedule",
                   "core.view_messagetemplate", "core.view_parameter")
        page = self.client.get("/audit/").content.decode()
        for label in ("评分批次·发布", "监督检查·批量写入", "查看", "企业"):
            self.assertIn(label, page)
        self.assertNotIn("scoring.run.publish", page)
        jobs_page = self.client.get("/jobs/").content.decode()
        self.assertIn(str(jobs_registry.get("core.backup").title), jobs_page)
        self.assertNotIn(">core.backup<", jobs_page)
        self.assertIn("站内消息", self.client.get("/message-templates/").content.decode())
        self.assertIn("信用修复", self.client.get("/parameters/").content.decode())
        for description in Parameter.objects.values_list("description", flat=True):
            self.assertNotRegex(description, r"[A-Za-z]{4,} [a-z]{3,}", "an English description")
