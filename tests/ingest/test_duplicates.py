"""The same file twice: flagged with its earlier batch and imported again only on an explicit, audited
confirmation — on the upload page (a confirmation step), the API (409, then confirm_duplicate) and the command
(--force)."""

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from foodrisk.core.models import AuditEntry
from foodrisk.core.testing import ScopedTestCase
from foodrisk.ingest.models import Batch
from foodrisk.ingest.services import DuplicateFile, batches

from .conftest import ENT_HEADERS, csv_bytes, ent_row, run_import

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
                         "QUEUES": ["default", "scoring", "ingest"]}}


def ent_file():
    return csv_bytes(ENT_HEADERS, [ent_row(1, "杭州老王面馆有限公司"), ent_row(2, "杭州老李面馆有限公司")])


@pytest.mark.django_db
def test_the_same_file_again_needs_a_confirmation_which_is_audited(regions):
    first = run_import(ent_file(), "enterprises.csv", confirm_duplicate=False)
    with pytest.raises(DuplicateFile) as flagged:
        batches.create_batch(source="test", content=ent_file(), file_name="again.csv")
    assert flagged.value.earlier == first and f"#{first.pk}" in str(flagged.value) and "再次导入" in str(flagged.value)
    assert Batch.objects.count() == 1
    # another source, or another kind of the same bytes, is not the same delivery
    other = batches.create_batch(source="another system", content=ent_file(), file_name="enterprises.csv")
    again = batches.create_batch(source="test", content=ent_file(), file_name="again.csv", confirm_duplicate=True)
    entry = AuditEntry.objects.get(action="ingest.batch.confirm_duplicate")
    assert (entry.object_id, entry.details["duplicate_of"]) == (str(again.pk), first.pk)
    assert not AuditEntry.objects.filter(action="ingest.batch.confirm_duplicate", object_id=str(other.pk)).exists()


@pytest.mark.django_db
def test_a_failed_import_does_not_count_as_imported(regions):
    first = run_import(ent_file(), "enterprises.csv", confirm_duplicate=False)
    Batch.objects.filter(pk=first.pk).update(status="failed")
    batches.create_batch(source="test", content=ent_file(), file_name="enterprises.csv")


class DuplicateUploads(ScopedTestCase):
    def upload(self, **extra):
        with override_settings(TASKS=IMMEDIATE), self.captureOnCommitCallbacks(execute=True):
            return self.client.post(reverse("ingest:upload"), {"new_source": "登记系统", "kind": "auto",
                                                               "file": ContentFile(ent_file(), name="e.csv"), **extra})

    def test_upload_page_asks_for_a_confirmation(self):
        self.grant("ingest.add_batch", "ingest.view_batch")
        self.assertEqual(self.upload().status_code, 302)
        page = self.upload()
        self.assertEqual(page.status_code, 200)
        self.assertIn("再次导入", " ".join(page.context["form"].errors["file"]))
        self.assertContains(page, 'type="checkbox" name="confirm_duplicate"')
        self.assertContains(page, "无需重新选择")
        self.assertEqual(Batch.objects.count(), 1)
        # the file is kept on the server: confirming needs no new upload
        token = page.context["form"].data["pending"]
        kept = self.client.session["ingest_pending_uploads"][token]["path"]
        from django.core.files.storage import default_storage
        assert default_storage.exists(kept)
        with override_settings(TASKS=IMMEDIATE), self.captureOnCommitCallbacks(execute=True):
            confirmed = self.client.post(reverse("ingest:upload"), {"new_source": "登记系统", "kind": "auto",
                                                                    "pending": token, "confirm_duplicate": "on"})
        self.assertEqual(confirmed.status_code, 302)
        self.assertEqual(Batch.objects.count(), 2)
        self.assertEqual(Batch.objects.latest("pk").file_name, "e.csv")
        self.assertIn("ingest.batch.confirm_duplicate", self.audit_actions())
        assert not default_storage.exists(kept) and token not in self.client.session["ingest_pending_uploads"]
        # a token that is not this session's (or was used) names no file
        again = self.client.post(reverse("ingest:upload"), {"new_source": "登记系统", "kind": "auto",
                                                            "pending": token, "confirm_duplicate": "on"})
        self.assertEqual(again.status_code, 200)
        self.assertIn("重新选择", " ".join(again.context["form"].errors["file"]))
        self.assertEqual(Batch.objects.count(), 2)
        # choosing the file again still works
        self.assertEqual(self.upload(confirm_duplicate="on").status_code, 302)
        self.assertEqual(Batch.objects.count(), 3)

    def test_upload_offers_only_profiles_in_scope(self):
        from foodrisk.ingest.services import designer

        from .test_profiles_api import INSPECTION_CFG
        self.grant("ingest.add_batch", "ingest.view_batch", "ingest.view_mappingprofile")
        designer.save_profile(config=INSPECTION_CFG, code="xihu", region=self.region_b)
        designer.save_profile(config=INSPECTION_CFG, code="shangcheng", region=self.region_a)
        page = self.client.get(reverse("ingest:upload"))
        codes = {p.code for p in page.context["form"].fields["profile"].queryset}
        assert "shangcheng" in codes and "xihu" not in codes

    def test_api_answers_409_then_accepts_the_confirmation(self):
        self.grant("ingest.add_batch", "ingest.view_batch")

        def post(**extra):
            with override_settings(TASKS=IMMEDIATE), self.captureOnCommitCallbacks(execute=True):
                return self.client.post("/api/ingest/batches/", {"source": "登记系统", "kind": "auto",
                                                                 "file": ContentFile(ent_file(), name="e.csv"), **extra})

        first = post()
        self.assertEqual(first.status_code, 202)
        refused = post()
        self.assertEqual(refused.status_code, 409)
        self.assertEqual(refused.json()["duplicate_of"], first.json()["id"])
        self.assertIn("再次导入", refused.json()["detail"])
        self.assertEqual(post(confirm_duplicate="true").status_code, 202)
        self.assertEqual(Batch.objects.count(), 2)


@pytest.mark.django_db
def test_import_command_needs_force(regions, tmp_path, capsys):
    path = tmp_path / "enterprises.csv"
    path.write_bytes(ent_file())
    call_command("import", str(path), source="登记系统", wait=True)
    with pytest.raises(SystemExit):
        call_command("import", str(path), source="登记系统", wait=True)
    assert "再次导入" in capsys.readouterr().err
    call_command("import", str(path), source="登记系统", wait=True, force=True)
    assert Batch.objects.filter(status="succeeded").count() == 2


def test_files_kept_for_a_confirmation_are_swept_after_a_day(settings, tmp_path):
    import os
    import time

    from django.core.files.storage import default_storage

    from foodrisk.ingest.services import held

    settings.MEDIA_ROOT = str(tmp_path)
    old = held.hold(b"a,b\r\n1,2\r\n", "old.csv", "pending")
    two_days_ago = time.time() - 2 * 86400
    os.utime(default_storage.path(old), (two_days_ago, two_days_ago))
    fresh = held.hold(b"a,b\r\n1,2\r\n", "fresh.csv", "pending")  # holding a file sweeps the folder
    assert not default_storage.exists(old) and default_storage.exists(fresh)
    assert held.load(fresh) == b"a,b\r\n1,2\r\n"
    assert held.sweep("nothing-here") == 0
