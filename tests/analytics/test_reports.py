"""Statistical reports: a monthly report runs as a job, its requester downloads it, the XLSX totals equal the
database's, the PDF's first page is not blank; another region's user and a user without permission are denied;
schedules; the enterprise credit-risk report from the profile page."""

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from analytics_testkit import CITY, DISTRICT, NEIGHBOUR, graded_world, live_counts, make_user
from django.urls import reverse
from django.utils import timezone

from foodrisk.analytics import pdf, reports
from foodrisk.analytics.report_models import Report, ReportStatus
from foodrisk.core.models import AuditEntry, Job, Region, Schedule
from foodrisk.core.services import schedules
from foodrisk.core.testing import run_worker

pytestmark = pytest.mark.django_db
REPORT_PERMS = ("analytics.view_report", "analytics.generate_report")
PDF_OK, PDF_REASON = pdf.engine_status()
needs_pdf = pytest.mark.skipif(not PDF_OK, reason=f"no PDF engine or CJK font here: {PDF_REASON}")
needs_pdftoppm = pytest.mark.skipif(shutil.which("pdftoppm") is None,
                                    reason="pdftoppm (Debian poppler-utils) is not installed")


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    return graded_world(django_capture_on_commit_callbacks)


def _region(code):
    return Region.objects.get(pk=code)


def request_monthly(client, **extra):
    data = {"kind": "monthly", "month": f"{timezone.localdate():%Y-%m}", **extra}
    response = client.post(reverse("analytics:report_list"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Report.objects.latest("pk")


def first_page_variance(content):
    """The pixel variance of the PDF's first page rendered by pdftoppm (0 for a blank page)."""
    from PIL import Image, ImageStat

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "r.pdf"
        source.write_bytes(content)
        subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "40", "-png", str(source), str(Path(folder) / "p")],
                       check=True, timeout=60)
        page = next(Path(folder).glob("p*.png"))
        image = Image.open(page).convert("L")
        return ImageStat.Stat(image).var[0], image.size


def test_a_monthly_report_job_runs_and_its_requester_downloads_it(world, client):
    import openpyxl

    user = make_user("reporter", _region(CITY), *REPORT_PERMS)
    client.force_login(user)
    report = request_monthly(client)
    assert report.status == ReportStatus.QUEUED and report.job.kind == "analytics.report"
    assert run_worker() >= 1
    report.refresh_from_db()
    assert report.status == ReportStatus.READY, (report.error, Job.objects.get(pk=report.job_id).error)
    assert Job.objects.get(pk=report.job_id).status == "succeeded"

    response = client.get(reverse("analytics:report_download", args=[report.pk, "xlsx"]))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert len(book.sheetnames) >= 6
    # the annex of regions: its total row equals the database's grades of the city
    annex = book.worksheets[-2]
    rows = list(annex.iter_rows(values_only=True))
    total = rows[-1]
    expected = live_counts(CITY[:4])
    assert list(total[2:6]) == [expected[g] for g in "ABCD"]
    assert total[6] == sum(expected.values())
    by_code = {r[0]: r for r in rows[1:-1]}
    for code in (DISTRICT, NEIGHBOUR):
        assert list(by_code[code][2:6]) == [live_counts(code)[g] for g in "ABCD"]
    # the grade chapter: the month's row equals the database's too, and the sheet has a native chart
    grades = book.worksheets[1]
    month_row = [r for r in grades.iter_rows(values_only=True) if r[0] == f"{timezone.localdate():%Y-%m}"][0]
    assert list(month_row[1:5]) == [expected[g] for g in "ABCD"]
    assert grades._charts, "a native chart on the grade sheet"
    actions = list(AuditEntry.objects.filter(object_type="analytics.report").values_list("action", flat=True))
    assert {"analytics.report.request", "analytics.report.generate", "download"} <= set(actions)


@needs_pdf
@needs_pdftoppm
def test_the_report_pdf_first_page_is_not_blank(world, client):
    client.force_login(make_user("reporter", _region(CITY), *REPORT_PERMS))
    report = request_monthly(client)
    run_worker()
    report.refresh_from_db()
    assert report.pdf, report.pdf_note
    response = client.get(reverse("analytics:report_download", args=[report.pk, "pdf"]))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert content.startswith(b"%PDF")
    variance, size = first_page_variance(content)
    assert size[0] > 100 and variance > 50, variance


def test_another_regions_user_and_a_user_without_permission_are_denied(world, client):
    owner = make_user("reporter", _region(DISTRICT), *REPORT_PERMS)
    client.force_login(owner)
    report = request_monthly(client)
    run_worker()
    report.refresh_from_db()
    assert report.status == ReportStatus.READY and report.region_id == DISTRICT
    url = reverse("analytics:report_download", args=[report.pk, "xlsx"])

    neighbour = make_user("neighbour", _region(NEIGHBOUR), *REPORT_PERMS)
    client.force_login(neighbour)
    assert client.get(url).status_code == 404
    assert client.get(report.get_absolute_url()).status_code == 404
    assert report.title not in client.get(reverse("analytics:report_list")).content.decode()

    nobody = make_user("nobody", _region(DISTRICT))
    client.force_login(nobody)
    assert client.get(url).status_code == 403
    assert client.get(reverse("analytics:report_list")).status_code == 403
    assert client.post(reverse("analytics:report_list"), {"kind": "monthly"}).status_code == 403

    viewer = make_user("viewer", _region(CITY), "analytics.view_report")  # the city sees the district's report
    client.force_login(viewer)
    assert client.get(url).status_code == 200


def test_a_report_for_a_region_outside_the_jurisdiction_is_refused(world, client):
    user = make_user("reporter", _region(DISTRICT), *REPORT_PERMS)
    client.force_login(user)
    response = client.post(reverse("analytics:report_list"), {"kind": "monthly", "region": NEIGHBOUR})
    assert response.status_code == 400
    assert not Report.objects.exists()


def test_a_schedule_makes_the_report_of_the_last_complete_period_once(world):
    schedule = Schedule.objects.create(name="月报", job_kind="analytics.report", frequency="monthly",
                                       params={"kind": "quarterly", "region": CITY})
    Schedule.objects.filter(pk=schedule.pk).update(next_run_at=timezone.now())
    assert len(schedules.run_due()) == 1
    run_worker()
    report = Report.objects.get()
    assert report.status == ReportStatus.READY and report.schedule_id == schedule.pk
    start, end = reports.last_complete_period("quarterly")
    assert (report.period_start, report.period_end) == (start, end)
    Schedule.objects.filter(pk=schedule.pk).update(next_run_at=timezone.now())
    schedules.run_due()
    run_worker()
    assert Report.objects.count() == 1  # the quarter's report exists: not made again


def test_periods():
    import datetime as dt

    assert reports.period_of("quarterly", dt.date(2026, 5, 9)) == (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    assert reports.period_of("annual", dt.date(2026, 5, 9)) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert reports.last_complete_period("monthly", dt.date(2026, 1, 3)) == (dt.date(2025, 12, 1),
                                                                           dt.date(2025, 12, 31))


# ------------------------------------------------------------------------------------------ enterprise report
@needs_pdf
def test_the_enterprise_report_pdf_is_produced_from_the_profile_page(world, client):
    _author, ents, _run = world
    enterprise = ents[0]
    enterprise.refresh_from_db()  # graded by the run
    enterprise.legal_representative = "张三丰"
    enterprise.save()
    user = make_user("inspector", _region(DISTRICT), "enterprises.view_enterprise", "enterprises.view_licence",
                     "scoring.view_score", "records.view_penalty", "analytics.enterprise_report")
    client.force_login(user)
    profile = client.get(enterprise.get_absolute_url()).content.decode()
    url = reverse("analytics:enterprise_report", args=[enterprise.pk])
    assert f'href="{url}"' in profile
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert AuditEntry.objects.filter(action="analytics.enterprise_report", object_id=str(enterprise.pk)).exists()
    if shutil.which("pdftotext"):
        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder) / "e.pdf"
            source.write_bytes(response.content)
            text = subprocess.run(["pdftotext", str(source), "-"], capture_output=True, text=True).stdout
        assert enterprise.uscc in text and "张**" in text and "张三丰" not in text  # masked as on the profile
    if shutil.which("pdftoppm"):
        variance, _size = first_page_variance(response.content)
        assert variance > 50


def test_the_enterprise_report_stays_in_scope_and_needs_its_permission(world, client):
    _author, ents, _run = world
    theirs = ents[6]  # 西湖区
    assert theirs.region_id == NEIGHBOUR
    user = make_user("inspector", _region(DISTRICT), "enterprises.view_enterprise", "analytics.enterprise_report")
    client.force_login(user)
    assert client.get(reverse("analytics:enterprise_report", args=[theirs.pk])).status_code == 404
    plain = make_user("plain", _region(DISTRICT), "enterprises.view_enterprise")
    client.force_login(plain)
    assert client.get(reverse("analytics:enterprise_report", args=[ents[0].pk])).status_code == 403
    assert "enterprise-report-pdf" not in client.get(ents[0].get_absolute_url()).content.decode()


# ------------------------------------------------------------------------------------------ API
def test_the_api_asks_lists_and_downloads_a_report_in_scope(world, client):
    user = make_user("reporter", _region(DISTRICT), *REPORT_PERMS)
    client.force_login(user)
    response = client.post("/api/analytics/reports/", {"kind": "monthly", "month": f"{timezone.localdate():%Y-%m}"},
                           content_type="application/json")
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["region"] == DISTRICT
    run_worker()
    body = client.get(f"/api/analytics/reports/{pk}/").json()
    assert body["status"] == "ready" and body["xlsx_url"].endswith(f"/api/analytics/reports/{pk}/xlsx/")
    assert client.get(f"/api/analytics/reports/{pk}/xlsx/").status_code == 200
    assert [r["id"] for r in client.get("/api/analytics/reports/").json()["results"]] == [pk]
    bad = client.post("/api/analytics/reports/", {"kind": "monthly", "region": NEIGHBOUR},
                      content_type="application/json")
    assert bad.status_code == 400

    client.force_login(make_user("neighbour", _region(NEIGHBOUR), *REPORT_PERMS))
    assert client.get(f"/api/analytics/reports/{pk}/").status_code == 404
    assert client.get(f"/api/analytics/reports/{pk}/xlsx/").status_code == 404
    assert client.get("/api/analytics/reports/").json()["results"] == []
    client.force_login(make_user("nobody", _region(DISTRICT)))
    assert client.get("/api/analytics/reports/").status_code == 403
    assert client.post("/api/analytics/reports/", {"kind": "monthly"},
                       content_type="application/json").status_code == 403


def test_the_api_gives_the_enterprise_report_in_scope(world, client):
    _author, ents, _run = world
    client.force_login(make_user("inspector", _region(DISTRICT), "enterprises.view_enterprise",
                                 "analytics.enterprise_report"))
    response = client.get(f"/api/analytics/enterprises/{ents[0].pk}/credit-report/")
    if PDF_OK:
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
    else:
        assert response.status_code == 503
    assert client.get(f"/api/analytics/enterprises/{ents[6].pk}/credit-report/").status_code == 404
    client.force_login(make_user("plain", _region(DISTRICT), "enterprises.view_enterprise"))
    assert client.get(f"/api/analytics/enterprises/{ents[0].pk}/credit-report/").status_code == 403


def test_the_report_pages_are_chinese(world, client):
    from foodrisk.core.testing import english_words

    _author, ents, _run = world
    user = make_user("reporter", _region(CITY), *REPORT_PERMS, "analytics.enterprise_report",
                     "enterprises.view_enterprise")
    client.force_login(user)
    report = request_monthly(client, topic="校园周边")
    run_worker()
    for url in (reverse("analytics:report_list"), report.get_absolute_url(), ents[0].get_absolute_url()):
        html = client.get(url).content.decode()
        assert not english_words(html, allowed={"reporter", "PDF", "WeasyPrint", "Pango"}), (url, english_words(html))


def test_without_the_pdf_engine_a_report_is_excel_and_says_why(world, client):
    """A server without Pango (or without a CJK font): the XLSX is made, the report says why there is no PDF, the
    enterprise report answers 503 and the profile shows the reason instead of the button."""
    from unittest import mock

    from foodrisk.core.testing import english_words

    _author, ents, _run = world
    client.force_login(make_user("reporter", _region(CITY), *REPORT_PERMS, "analytics.enterprise_report",
                                 "enterprises.view_enterprise"))
    with mock.patch.object(pdf, "_engine", return_value=(None, "cannot load library 'libpangoft2-1.0.so.0'")):
        report = request_monthly(client)
        run_worker()
        report.refresh_from_db()
        assert report.status == ReportStatus.READY and report.xlsx and not report.pdf
        assert "PDF" in report.pdf_note
        assert client.get(reverse("analytics:report_download", args=[report.pk, "pdf"])).status_code == 404
        assert client.get(reverse("analytics:report_download", args=[report.pk, "xlsx"])).status_code == 200
        assert client.get(reverse("analytics:enterprise_report", args=[ents[0].pk])).status_code == 503
        for url in (report.get_absolute_url(), reverse("analytics:report_list"), ents[0].get_absolute_url()):
            html = client.get(url).content.decode()
            assert "cannot" not in html and not english_words(html, allowed={"reporter", "PDF", "WeasyPrint", "Pango"})
