"""Single writes racing another user's: a USCC or licence number saved by someone else after the form's
(serializer's) uniqueness check fails the service's full_clean or, later still, the database's unique constraint.
Either way the UI shows the error on the form and the API answers 400, nothing saved. And the audit's
before-state of an update is the stored row, read under lock in the write's transaction."""

import contextlib
from unittest import mock

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.validators import UniqueValidator

from foodrisk.core.models import AuditEntry
from foodrisk.core.testing import ScopedTestCase
from foodrisk.enterprises import forms, services
from foodrisk.enterprises.models import Enterprise, Licence
from foodrisk.enterprises.testing import make_enterprise, make_licence, make_uscc

ENTERPRISES_API = "/api/enterprises/enterprises/"
LICENCES_API = "/api/enterprises/licences/"
STAGES = ("full_clean", "constraint")  # where the duplicate is caught


@contextlib.contextmanager
def raced(stage):
    """The duplicate was committed after the form's and the serializer's uniqueness checks ("full_clean": the
    service's full_clean catches it) or after the service's full_clean too ("constraint": the database does)."""
    with contextlib.ExitStack() as stack:
        for form_class in (forms.EnterpriseForm, forms.LicenceForm):
            stack.enter_context(mock.patch.object(form_class, "validate_unique"))
        stack.enter_context(mock.patch.object(UniqueValidator, "__call__"))
        if stage == "constraint":
            for model in (Enterprise, Licence):
                stack.enter_context(mock.patch.object(model, "full_clean"))
        yield


class DuplicateRaceTests(ScopedTestCase):
    def setUp(self):
        super().setUp()
        self.taken = make_enterprise(self.region_a)
        self.taken_licence = make_licence(self.taken, licence_no="JY13301020011111")
        self.grant("enterprises.add_enterprise", "enterprises.change_enterprise", "enterprises.view_enterprise",
                   "enterprises.add_licence", "enterprises.change_licence", "enterprises.view_licence",
                   "core.view_region")

    def enterprise_data(self, **kw):
        return {"uscc": self.taken.uscc, "name": "抢注食品店", "region": self.region_a.pk, "business_form": "catering",
                "status": "active", **kw}

    def licence_data(self, enterprise, **kw):
        return {"enterprise": enterprise.pk, "licence_no": self.taken_licence.licence_no, "kind": "JY",
                "issued_on": "2024-05-01", "expires_on": "2029-04-30", "status": "valid", **kw}

    def assert_form_error(self, response, field):
        self.assertEqual(response.status_code, 200)
        self.assertIn(field, response.context["form"].errors)

    def assert_api_error(self, response, field):
        self.assertEqual(response.status_code, 400, response.content)
        self.assertTrue(response.json()[field])

    def assert_nothing_saved(self, enterprises=1, licences=1):
        self.assertEqual((Enterprise.objects.count(), Licence.objects.count()), (enterprises, licences))
        self.assertFalse(AuditEntry.objects.filter(action__startswith="enterprises.").exists())

    def test_ui_enterprise_create(self):
        for stage in STAGES:
            with self.subTest(stage), raced(stage):
                response = self.client.post(reverse("enterprises:enterprise_add"), self.enterprise_data())
            self.assert_form_error(response, "uscc")
            self.assert_nothing_saved()

    def test_ui_enterprise_edit(self):
        self.other = make_enterprise(self.region_a, name="原名食品店")
        for stage in STAGES:
            with self.subTest(stage), raced(stage):
                response = self.client.post(reverse("enterprises:enterprise_edit", args=[self.other.pk]),
                                            self.enterprise_data())
            self.assert_form_error(response, "uscc")
            self.assert_nothing_saved(enterprises=2)
            self.other.refresh_from_db()
            self.assertEqual(self.other.name, "原名食品店")

    def test_ui_licence_create_and_edit(self):
        mine = make_licence(self.taken)
        for stage in STAGES:
            with self.subTest(stage), raced(stage):
                created = self.client.post(reverse("enterprises:licence_add"), self.licence_data(self.taken))
                edited = self.client.post(reverse("enterprises:licence_edit", args=[mine.pk]),
                                          self.licence_data(self.taken, status="revoked"))
            self.assert_form_error(created, "licence_no")
            self.assert_form_error(edited, "licence_no")
            self.assert_nothing_saved(licences=2)
            mine.refresh_from_db()
            self.assertEqual(mine.status, "valid")

    def test_api_enterprise_create_and_update(self):
        self.other = make_enterprise(self.region_a)
        for stage in STAGES:
            with self.subTest(stage), raced(stage):
                created = self.client.post(ENTERPRISES_API, self.enterprise_data(), content_type="application/json")
                updated = self.client.patch(f"{ENTERPRISES_API}{self.other.pk}/", {"uscc": self.taken.uscc},
                                            content_type="application/json")
            self.assert_api_error(created, "uscc")
            self.assert_api_error(updated, "uscc")
            self.assert_nothing_saved(enterprises=2)
            self.other.refresh_from_db()
            self.assertNotEqual(self.other.uscc, self.taken.uscc)

    def test_api_licence_create_and_update(self):
        mine = make_licence(self.taken)
        for stage in STAGES:
            with self.subTest(stage), raced(stage):
                created = self.client.post(LICENCES_API, self.licence_data(self.taken),
                                           content_type="application/json")
                updated = self.client.patch(f"{LICENCES_API}{mine.pk}/",
                                            {"licence_no": self.taken_licence.licence_no},
                                            content_type="application/json")
            self.assert_api_error(created, "licence_no")
            self.assert_api_error(updated, "licence_no")
            self.assert_nothing_saved(licences=2)
            mine.refresh_from_db()
            self.assertNotEqual(mine.licence_no, self.taken_licence.licence_no)


class ServiceConstraintTests(ScopedTestCase):
    """The service itself turns a duplicate caught by the unique constraint into a ValidationError."""

    def test_duplicate_past_full_clean_is_a_validation_error(self):
        taken = make_enterprise(self.region_a)
        licence = Licence(enterprise=taken, licence_no=make_licence(taken).licence_no, kind="JY",
                          issued_on="2024-01-01", expires_on="2029-01-01")
        cases = [(services.save_enterprise, Enterprise(uscc=taken.uscc, name="抢注食品店", region=self.region_a,
                                                      business_form="catering"), "uscc"),
                 (services.save_licence, licence, "licence_no")]
        for save, instance, field in cases:
            with (self.subTest(field), mock.patch.object(type(instance), "full_clean"),
                  self.assertRaises(ValidationError) as caught):
                save(instance)
            self.assertIn(field, caught.exception.message_dict)
        self.assertEqual((Enterprise.objects.count(), Licence.objects.count()), (1, 1))
        self.assertFalse(AuditEntry.objects.filter(action__startswith="enterprises.").exists())

    def test_other_integrity_errors_are_not_disguised(self):
        enterprise = Enterprise(uscc=make_uscc(self.region_a.code), name="缺字段食品店", region=self.region_a,
                                business_form=None)  # NOT NULL: not a duplicate
        with mock.patch.object(Enterprise, "full_clean"), self.assertRaises(IntegrityError):
            services.save_enterprise(enterprise)


class BeforeStateTests(ScopedTestCase):
    """An update's audit before-state is the stored row as this write replaces it."""

    def test_before_state_is_the_stored_row_not_the_callers_copy(self):
        enterprise = make_enterprise(self.region_a, name="原名食品店", address="旧地址")
        licence = make_licence(enterprise, category="热食类")
        # Another user's edits, committed after these copies were read:
        Enterprise.objects.filter(pk=enterprise.pk).update(address="他人改的地址")
        Licence.objects.filter(pk=licence.pk).update(category="冷食类")
        enterprise.name, licence.status = "新名食品店", "revoked"
        services.save_enterprise(enterprise)
        services.save_licence(licence)
        before = AuditEntry.objects.get(action="enterprises.enterprise.update").before
        self.assertEqual((before["name"], before["address"]), ("原名食品店", "他人改的地址"))
        before = AuditEntry.objects.get(action="enterprises.licence.update").before
        self.assertEqual((before["status"], before["category"]), ("valid", "冷食类"))

    def test_before_state_is_read_in_the_transaction_under_lock(self):
        enterprise = make_enterprise(self.region_a)
        licence = make_licence(enterprise)
        for save, instance in ((services.save_enterprise, enterprise), (services.save_licence, licence)):
            table = connection.ops.quote_name(type(instance)._meta.db_table)
            with self.subTest(table), CaptureQueriesContext(connection) as queries:
                save(instance)
            sqls = [q["sql"] for q in queries.captured_queries]
            # The write's transaction begins with a savepoint (the test's own transaction is around it).
            begin = next(i for i, sql in enumerate(sqls) if sql.startswith("SAVEPOINT"))
            read = next(i for i, sql in enumerate(sqls) if sql.startswith("SELECT") and f"FROM {table}" in sql)
            self.assertGreater(read, begin, sqls)
            if connection.features.has_select_for_update:
                self.assertIn("FOR UPDATE", sqls[read])
