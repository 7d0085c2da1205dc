"""What people read about an import: the `foodrisk import` report in Chinese, and a failed job's page — a message
in Chinese for the person, the traceback only for administrators."""

import pytest
from django.core.management import CommandError, call_command

from foodrisk.core.models import Job
from foodrisk.core.services import jobs as job_service
from foodrisk.core.testing import ScopedTestCase
from foodrisk.ingest.models import Batch
from foodrisk.ingest.services import batches

from .conftest import ENT_HEADERS, IMPORT_DAY, csv_bytes, ent_row


def test_the_import_command_reports_in_chinese(regions, tmp_path, capsys):
    rows = [ent_row(1, "上城老王面馆"), ent_row(2, "上城小李面馆", region="999999")]
    path = tmp_path / "企业.csv"
    path.write_bytes(csv_bytes(ENT_HEADERS, rows))
    call_command("import", str(path), source="登记系统", wait=True, import_day=IMPORT_DAY)
    out = capsys.readouterr().out
    assert "批次 #" in out and "企业.csv（企业）" in out and "成功" in out
    assert "读取 2 行 = 新增 1 + 更新 0 + 未变 0 + 合并重复 0 + 隔离 1 + 待复核 0" in out, out
    assert "隔离原因：行政区划代码：区划代码无效" in out or "隔离原因：行政区划代码：" in out, out
    call_command("import", str(path), source="登记系统", force=True)  # queued for the worker
    assert "已排队" in capsys.readouterr().out
    with pytest.raises(CommandError) as exc:
        call_command("import", str(path))
    assert "--source" in str(exc.value) and "请" in str(exc.value)
    with pytest.raises(CommandError) as exc:
        call_command("import", str(path), source="x", user="nobody")
    assert "nobody" in str(exc.value) and "用户" in str(exc.value)


class FailedJobPage(ScopedTestCase):
    def fail(self, exc):
        """A batch job that fails with exc while it runs."""
        from unittest import mock

        batch = batches.create_batch(user=self.user, source="登记系统", kind="enterprises",
                                     content=csv_bytes(ENT_HEADERS, [ent_row(1, "上城老王面馆")]), file_name="e.csv")
        with mock.patch.object(batches, "run_batch", side_effect=exc):
            job = batches.start_batch(batch, user=self.user, wait=True)
        job.refresh_from_db()
        assert job.status == "failed"
        return job

    def test_a_system_error_shows_a_chinese_message_and_the_traceback_to_administrators_only(self):
        self.grant("ingest.add_batch")
        job = self.fail(KeyError("profile_code"))
        assert "Traceback" in job.error and "KeyError" in job.error  # kept for administrators and the log
        page = self.client.get(job.get_absolute_url()).content.decode()
        assert 'id="job-failure"' in page and "系统错误" in page and f"#{job.pk}" in page
        assert "Traceback" not in page and "KeyError" not in page and "job-traceback" not in page
        self.grant("core.view_job")
        page = self.client.get(job.get_absolute_url()).content.decode()
        assert 'id="job-traceback"' in page and "KeyError" in page

    def test_an_ingest_error_shows_its_own_message(self):
        from foodrisk.ingest.readers import UnreadableFile

        self.grant("ingest.add_batch")
        job = self.fail(UnreadableFile("文件编码无法识别"))
        assert job.message == "文件编码无法识别"
        page = self.client.get(job.get_absolute_url()).content.decode()
        assert "文件编码无法识别" in page and "Traceback" not in page
        assert Batch.objects.count() == 1 and Job.objects.filter(status="failed").count() == 1


@pytest.mark.django_db
def test_other_job_kinds_without_user_errors_say_system_error():
    job = Job.objects.create(kind="ingest.batch", title="x", params={"batch_id": 0})
    assert job_service.execute(job.pk) == "failed"  # Batch.DoesNotExist: not a user error
    job.refresh_from_db()
    assert "系统错误" in job.message and "DoesNotExist" in job.error


def test_quality_chart_axis_shows_every_bar():
    """The pass-rate axis started at 0.9: a field at 86 % had no bar."""
    from foodrisk.ingest.views import _axis_min

    assert _axis_min([0.86, 0.995], 0.99) == 0.8
    assert _axis_min([0.995, 1.0], 0.99) == 0.9
    assert _axis_min([0.02], 0.99) == 0.0
