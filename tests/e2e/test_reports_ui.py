"""Browser test of the statistical reports and the enterprise credit-risk report (issue 14 item 3): a leader
opens 统计报表 from the menu, asks for this month's report, the worker makes it, he downloads the Excel and the
PDF; on an enterprise's profile the report button gives the enterprise's PDF."""

import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
for folder in (TESTS / "analytics", TESTS / "scoring"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from foodrisk.analytics import pdf  # noqa: E402
from foodrisk.core.models import Role, User  # noqa: E402
from foodrisk.core.seeds import seed_roles  # noqa: E402
from foodrisk.core.testing import run_worker  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@contextmanager
def committed(execute=True):
    yield


def test_leader_generates_and_downloads_a_report_and_an_enterprise_report(page, live_server, log_in, shot):
    from analytics_testkit import CITY, graded_world, make_user

    _author, ents, _run = graded_world(committed)
    seed_roles()
    leader = make_user("leader", None)
    leader.groups.add(Role.objects.get(code="leader"))
    User.objects.filter(pk=leader.pk).update(scope_region_id=CITY)
    log_in(page, "leader")
    page.click(".app-sidebar a[href='/analytics/reports/']")
    page.wait_for_selector("#report-request-form")
    page.select_option("#id_kind", "monthly")
    from django.utils import timezone

    page.fill("#id_month", f"{timezone.localdate():%Y-%m}")
    shot(page, "report-list")
    page.click("#report-request-form button")
    page.wait_for_selector("#report-status")
    run_worker()
    page.reload()
    page.wait_for_selector("#report-xlsx")
    shot(page, "report-detail")
    with page.expect_download() as download:
        page.click("#report-xlsx")
    assert download.value.suggested_filename.endswith(".xlsx")
    if pdf.engine_status()[0]:
        with page.expect_download() as download:
            page.click("#report-pdf")
        assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
        page.goto(f"{live_server.url}{ents[0].get_absolute_url()}")
        shot(page, "enterprise-profile-report")
        with page.expect_download() as download:
            page.click("#enterprise-report-pdf")
        assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
        assert download.value.suggested_filename.endswith(".pdf")
