"""Browser test: a bureau's first week with the demo accounts (issue 13, "Done when").

The world is the demo's own: `seed`, `demo_accounts` and a small `demo_data` city (杭州市, the district 上城区 with
its two inspectors). Then each person works through the pages, in Chromium:

1. the data administrator (data) uploads this week's inspections;
2. the indicator administrator (indicator) copies the active indicator set, doubles a weight, runs the impact
   preview (migration matrix) and submits; the approver approves and activates it;
3. the model administrator (model) trains a candidate; the approver previews its impact and promotes it;
4. the district inspector (inspector) draws a 双随机 plan with both inspectors, works his warning queue (bulk
   confirm, bulk dismiss with a reason), asks for an export with sensitive fields; the approver approves it and
   the inspector downloads the file from 我的文件 on his home page.

Every page visited is checked: no English word outside the allowed ones (the checker of the page crawl,
foodrisk.core.testing.english_words) and no console error. Key pages are kept as screenshots (var/screenshots/,
first-week-*.png). Background jobs run when the worker would run them (foodrisk.core.testing.run_worker)."""

import csv
import datetime as dt
import io
import re

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import timezone

from foodrisk.alerts.models import Alert
from foodrisk.core.management.commands.demo_accounts import DEMO_PASSWORD
from foodrisk.core.models import ExportRequest, Job, User
from foodrisk.core.testing import english_words, run_worker
from foodrisk.demo.testing import installation
from foodrisk.enterprises.models import Enterprise
from foodrisk.indicators.models import IndicatorSet
from foodrisk.ingest.models import Batch
from foodrisk.records.models import Inspection
from foodrisk.scoring.models import ModelVersion, ScoringRun
from foodrisk.supervision.models import RandomDraw, Task

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DISTRICT = "330102"  # 上城区: the first county of 杭州市, where demo_accounts puts the two inspectors
ENTERPRISES = 300
INSPECTION_HEADERS = ["检查编号", "统一社会信用代码", "检查日期", "检查类型", "检查机构", "检查人员", "检查结果",
                      "不符合重点项数", "不符合一般项数", "责令整改"]


@pytest.fixture
def bureau(tmp_path):
    """杭州市's bureau as `make demo` leaves it, with a small synthetic city (the demo's own commands)."""
    from foodrisk.indicators import services as indicators

    quiet = {"stdout": io.StringIO()}
    installation()
    # the library's first set by two people (the demo's bootstrap would leave an English change note: see
    # tests/indicators/test_bootstrap_note.py)
    first = indicators.create_from_profile("food_2016", user=User.objects.get(username="indicator"))
    indicators.submit(first, user=first.created_by)
    indicators.approve(first, user=User.objects.get(username="approver"))
    indicators.activate(first, user=User.objects.get(username="approver"), confirmed=True)
    call_command("demo_data", enterprises=ENTERPRISES, out=str(tmp_path / "city"), **quiet)
    run_worker()
    return tmp_path


class Person:
    """One demo account in its own browser context; every page it sees is checked."""

    def __init__(self, browser, live_server, shot, username):
        self.url, self.shot, self.username = live_server.url, shot, username
        self.context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN",
                                           accept_downloads=True)
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("console", lambda m: self.errors.append(f"{self.page.url}: {m.text}") if m.type == "error"
                     else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"{self.page.url}: {e}"))
        self.page.on("dialog", lambda d: d.accept())  # data-confirm asks "are you sure?"
        self.page.goto(f"{self.url}/accounts/login/")
        self.check()
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", DEMO_PASSWORD)
        self.click("button[type=submit]")
        assert self.page.url == f"{self.url}/", self.page.url

    def check(self, name=None):
        """The page in Chinese and without console errors; a screenshot when named."""
        self.page.wait_for_load_state("load")
        words = english_words(self.page.content(), allowed=USERNAMES)
        assert not words, f"English on {self.page.url}: {sorted(words)}"
        assert not self.errors, self.errors
        if name:
            self.shot(self.page, f"first-week-{name}")
        return self.page

    def go(self, path, name=None):
        response = self.page.goto(f"{self.url}{path}")
        assert response.status == 200, (path, response.status)
        return self.check(name)

    def reload(self, name=None):
        self.page.reload()
        return self.check(name)

    def click(self, selector, name=None):
        """Click what navigates (a link, a form's button) and check the page it leads to."""
        with self.page.expect_navigation():
            self.page.locator(selector).first.click()
        return self.check(name)

    def text(self, selector="main"):
        return self.page.inner_text(selector)


USERNAMES = {"admin", "data", "indicator", "model", "approver", "inspector", "inspector2", "handler", "leader"}


def this_weeks_inspections(path):
    """Three inspections of 上城区 enterprises, yesterday: one failed with key items and a rectification order."""
    usccs = list(Enterprise.objects.filter(region__code__startswith=DISTRICT).order_by("pk")
                 .values_list("uscc", flat=True)[:3])
    day = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    rows = [[f"JCFW{i}", uscc, day, "日常检查", "上城江南市场监管所", "区监管人员、区监管人员二",
             "不符合" if i == 0 else "符合", 2 if i == 0 else 0, 1 if i == 0 else 0, "是" if i == 0 else "否"]
            for i, uscc in enumerate(usccs)]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(INSPECTION_HEADERS)
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path, usccs


def test_a_bureaus_first_week(browser, live_server, shot, bureau):
    def person(username):
        return Person(browser, live_server, shot, username)

    approver = person("approver")

    # ---- 1. the data administrator imports this week's inspections ----------------------------------------
    data = person("data")
    data.check("data-home")
    data.click(".app-sidebar a[href='/ingest/upload/']")
    upload, usccs = this_weeks_inspections(bureau / "本周监督检查.csv")
    data.page.fill("#id_new_source", "区监督检查台账")
    data.page.select_option("#id_kind", "inspections")
    data.page.set_input_files("#id_file", str(upload))
    data.click("main form button[type=submit]", "data-batch")
    assert re.search(r"/ingest/batches/\d+/$", data.page.url), data.page.url
    batch = Batch.objects.get(file_name=upload.name)
    assert (batch.status, batch.rows_read, batch.accepted_new) == ("succeeded", 3, 3), batch.report
    assert Inspection.objects.filter(inspection_no__startswith="JCFW").count() == 3
    run_worker()
    failed = Alert.objects.get(enterprise__uscc=usccs[0], rule__code="inspection-failed")  # for the inspector

    # ---- 2. the indicator administrator changes a weight; a second person approves and activates --------
    active = IndicatorSet.objects.get(status="active")
    indicator = person("indicator")
    indicator.click(".app-sidebar a[href='/indicators/sets/']")
    indicator.click(f"main a[href='{active.get_absolute_url()}']", "indicator-active-set")
    indicator.click(f"form[action$='/{active.pk}/do/copy/'] button")
    draft = IndicatorSet.objects.get(based_on=active, status="draft")
    assert indicator.page.url.endswith(draft.get_absolute_url())
    indicator.click("main a[href$='/indicators/d_insp_fail_12m/']", "indicator-edit")
    assert indicator.page.input_value("#id_weight") in ("1", "1.0")
    indicator.page.fill("#id_weight", "2")
    indicator.click("main form.app-form button.btn-primary")
    draft.refresh_from_db()
    weights = {i["code"]: i.get("weight") for i in draft.spec["indicators"]}
    assert float(weights["d_insp_fail_12m"]) == 2.0, weights
    indicator.click(f"form[action$='/{draft.pk}/do/preview/'] button", "indicator-preview")
    preview = indicator.text()
    assert "等级迁移矩阵" in preview and "等级变化的企业" in preview, preview[:500]
    matrix = indicator.page.locator("main table").first
    assert matrix.locator("tbody tr").count() >= 4  # one row per current grade
    indicator.go(draft.get_absolute_url())
    indicator.click(f"form[action$='/{draft.pk}/do/submit/'] button")
    draft.refresh_from_db()
    assert draft.status == "submitted"
    assert indicator.page.locator(f"form[action$='/{draft.pk}/do/approve/']").count() == 0  # not his own

    approver.go("/indicators/sets/")
    approver.click(f"main a[href='{draft.get_absolute_url()}']")
    approver.click(f"form[action$='/{draft.pk}/do/approve/'] button")
    approver.page.check("#confirm-activate")
    approver.click(f"form[action$='/{draft.pk}/do/activate/'] button", "indicator-activated")
    run_worker()  # the full scoring run its activation started
    draft.refresh_from_db()
    active.refresh_from_db()
    assert (draft.status, active.status) == ("active", "retired")
    assert draft.approved_by.username == "approver" and draft.created_by.username == "indicator"
    assert ScoringRun.objects.filter(kind="full", status="succeeded", indicator_set=draft).exists()

    # ---- 3. the model administrator trains a candidate; a second person previews and promotes it --------
    model = person("model")
    model.click(".app-sidebar a[href='/scoring/models/']")
    assert model.page.input_value("#id_months") == "24"  # the default history; a smaller archive trains quickly
    model.click("form[action='/scoring/models/train/'] button")
    job = Job.objects.get(kind="scoring.train")
    assert model.page.url.endswith(job.get_absolute_url())
    run_worker()
    model.go(job.get_absolute_url(), "model-train-job")
    assert Job.objects.get(pk=job.pk).status == "succeeded", Job.objects.get(pk=job.pk).error
    candidate = ModelVersion.objects.get(status="candidate")
    model.go("/scoring/models/")
    model.click(f"main a[href='{candidate.get_absolute_url()}']", "model-card")
    assert model.page.locator("a[href*='/scoring/models/change/']").count() == 0  # the trainer may not promote

    approver.go(candidate.get_absolute_url())
    approver.click("main a[href*='/scoring/models/change/']")
    approver.click("main form button[name=do][value=preview], main form button:has-text('运行影响预览')")
    run_worker()
    approver.reload("model-preview")
    assert "等级迁移矩阵" in approver.text()
    approver.page.fill("#id_note", "已核对影响预览：等级迁移合理")
    approver.page.check("#confirm-model-change")
    approver.click("main form button:has-text('上线为在用模型')", "model-promoted")
    candidate.refresh_from_db()
    assert candidate.status == "champion" and candidate.promoted_by.username == "approver"
    run_worker()

    # ---- 4. the district inspector: a random draw, his warning queue, an export with sensitive fields -----
    inspector = person("inspector")
    inspector.check("inspector-home")
    inspector.click(".app-sidebar a[href='/supervision/draws/']")
    inspector.click("main a[href='/supervision/draws/add/']")
    inspector.page.select_option("#id_organisation", label="上城区市场监督管理局")
    inspector.page.fill("#id_name", "第一周双随机抽查")
    inspector.page.check("#id_create_tasks")
    inspector.click("main form button:has-text('保存')", "draw")
    draw = RandomDraw.objects.get(name="第一周双随机抽查")
    tasks = list(Task.objects.filter(draw_item__draw=draw).select_related("assignee", "second_assignee"))
    assert tasks
    assert all({t.assignee.username, t.second_assignee.username} == {"inspector", "inspector2"} for t in tasks)
    assert len({t.due_on for t in tasks}) > 1  # due dates spread over the period

    inspector.click(".app-sidebar a[href='/alerts/']", "alerts-queue")
    others = list(Alert.objects.filter(status="raised", enterprise__region__code__startswith=DISTRICT)
                  .exclude(pk=failed.pk).order_by("pk").values_list("pk", flat=True))
    assert failed.status == "raised" and others, others
    inspector.page.check(f"input[name=select][value='{failed.pk}']")  # the failed inspection: confirmed
    inspector.click("#alert-bulk button[value=confirm]")
    inspector.page.check(f"input[name=select][value='{others[0]}']")  # a grade change: dismissed, with a reason
    inspector.page.fill("#alert-bulk input[name=note]", "已核实：企业已整改到位，无需处置")
    inspector.click("#alert-bulk button[value=dismiss]", "alerts-worked")
    failed.refresh_from_db()
    dismissed = Alert.objects.get(pk=others[0])
    assert failed.status == "confirmed" and failed.reviewed_by.username == "inspector"
    assert dismissed.status == "dismissed" and "整改到位" in dismissed.review_note

    inspector.click(".app-sidebar a[href='/enterprises/']")
    inspector.click("main a[href*='/exports/new/'][href*='format=xlsx']")
    inspector.page.check("#id_confirm")
    inspector.page.check("#id_include_sensitive")
    inspector.page.fill("#id_reason", "核对辖区企业法定代表人信息，用于第一周双随机检查")
    inspector.click("main form button:has-text('导出')", "export-requested")
    request = ExportRequest.objects.get(requested_by__username="inspector")
    assert request.status == "pending" and request.include_sensitive

    approver.go("/")
    approver.click(f"main a[href='{request.get_absolute_url()}']", "export-to-approve")
    approver.page.fill("#id_note", "同意，仅限本次检查使用")
    approver.click("main form button:has-text('批准')")
    run_worker()  # the job that writes the file
    request.refresh_from_db()
    assert request.status == "approved" and request.job.status == "succeeded", request.job.error

    inspector.go("/", "inspector-my-files")
    files = inspector.page.locator("#my-files")
    assert request.job.title in files.inner_text()
    with inspector.page.expect_download() as download:
        files.locator(f"a[href='/jobs/{request.job.pk}/download/']").click()
    assert download.value.suggested_filename.endswith(".xlsx"), download.value.suggested_filename
    saved = bureau / download.value.suggested_filename
    download.value.save_as(saved)
    sheet = openpyxl.load_workbook(saved, read_only=True).active
    header, *rows = list(sheet.values)
    assert len(rows) == request.rows == Enterprise.objects.filter(region__code__startswith=DISTRICT).count()
    representative = header.index("法定代表人")
    assert rows and not any("*" in (row[representative] or "") for row in rows)  # approved: in clear
    inspector.check()

    for someone in (approver, data, indicator, model, inspector):
        assert not someone.errors, someone.errors
