"""Generated files reach their requester: listed on his home page with their expiry, downloaded through the
permission-checked view (nobody else's), refused once expired, and deleted from storage by the daily purge."""

import datetime as dt

from django.core.files.base import ContentFile
from django.utils import timezone

from foodrisk.core.models import AuditEntry, Job, Schedule, User
from foodrisk.core.seeds import seed_purge_schedule
from foodrisk.core.services import jobs
from foodrisk.core.testing import PASSWORD, ScopedTestCase


def finished_job(user, *, days_ago=0, name="企业清单.xlsx"):
    job = Job.objects.create(kind="core.export", title="导出：企业清单", created_by=user, status="succeeded",
                             finished_at=timezone.now() - dt.timedelta(days=days_ago))
    job.result_file.save(name, ContentFile(b"PK fake xlsx"), save=True)
    return job


class MyFiles(ScopedTestCase):
    def test_listed_on_home_until_expiry_and_downloaded_by_the_requester_only(self):
        fresh, old = finished_job(self.user), finished_job(self.user, days_ago=8, name="旧清单.xlsx")
        home = self.client.get("/").content.decode()
        assert 'id="my-files"' in home and f"/jobs/{fresh.pk}/download/" in home
        assert f"/jobs/{old.pk}/download/" not in home  # 7 days by default (parameter generated_file_days)
        assert "保留至" in home
        response = self.client.get(f"/jobs/{fresh.pk}/download/")
        assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
        assert AuditEntry.objects.filter(action="download", object_id=str(fresh.pk)).exists()
        expired = self.client.get(f"/jobs/{old.pk}/download/", follow=True)  # back to the job page, told why
        assert expired.redirect_chain[-1][0] == old.get_absolute_url() and "已过期" in expired.content.decode()
        gone = self.client.get(f"/api/core/jobs/{old.pk}/download/")
        assert gone.status_code == 410 and gone.json()["code"] == "file_gone"
        other = User.objects.create_user("other", password=PASSWORD, organisation=self.org_a)
        self.client.force_login(other)
        assert self.client.get(f"/jobs/{fresh.pk}/download/").status_code in (403, 404)
        assert 'id="my-files"' not in self.client.get("/").content.decode()

    def test_the_daily_purge_deletes_expired_files_from_storage(self):
        fresh, old = finished_job(self.user), finished_job(self.user, days_ago=8)
        storage, path = old.result_file.storage, old.result_file.name
        assert storage.exists(path)
        assert jobs.purge_expired_files() == 1
        old.refresh_from_db()
        fresh.refresh_from_db()
        assert not old.result_file and not storage.exists(path) and fresh.result_file
        assert AuditEntry.objects.get(action="core.job.purge_files").details["files"] == 1
        assert jobs.purge_expired_files() == 0  # nothing left to delete, no second entry
        assert AuditEntry.objects.filter(action="core.job.purge_files").count() == 1
        seed_purge_schedule(Schedule)  # as migration 0007 does (a flushed test database lost its rows)
        assert Schedule.objects.filter(job_kind="core.purge_files", frequency="daily").count() == 1

    def test_the_job_page_names_the_kind_and_keeps_codes_for_administrators(self):
        job = finished_job(self.user)
        job.params, job.result = {"source": "enterprises:enterprise_list"}, {"rows": 12}
        job.save()
        page = self.client.get(job.get_absolute_url()).content.decode()
        from foodrisk.core import jobs as registry
        from foodrisk.core.testing import english_words

        assert str(registry.get("core.export").title) in page and "core.export" not in page
        assert "enterprises:enterprise_list" not in page and not english_words(page, {self.user.username})
