import pytest
from analytics_testkit import CITY, graded_world, make_user
from django.urls import reverse
from django.utils import timezone

from foodrisk.analytics.report_models import Report
from foodrisk.core.models import Region
from foodrisk.core.testing import run_worker

pytestmark = pytest.mark.django_db


def test_dump(django_capture_on_commit_callbacks, client):
    _a, ents, _r = graded_world(django_capture_on_commit_callbacks)
    client.force_login(make_user("r", Region.objects.get(pk=CITY), "analytics.view_report", "analytics.generate_report",
                                 "analytics.enterprise_report", "enterprises.view_enterprise", "enterprises.view_licence",
                                 "scoring.view_score", "scoring.view_gradechange", "records.view_penalty", "supervision.view_task"))
    client.post(reverse("analytics:report_list"), {"kind": "monthly", "month": f"{timezone.localdate():%Y-%m}", "topic": "校园周边"})
    run_worker()
    r = Report.objects.get()
    open("/tmp/rpt/report.pdf", "wb").write(r.pdf.read())
    open("/tmp/rpt/report.xlsx", "wb").write(r.xlsx.open("rb").read())
    e = ents[0]; e.legal_representative = "张三丰"; e.save()
    open("/tmp/rpt/ent.pdf", "wb").write(client.get(reverse("analytics:enterprise_report", args=[e.pk])).content)
    open("/tmp/rpt/profile.html", "w").write(client.get(e.get_absolute_url()).content.decode())
    open("/tmp/rpt/list.html", "w").write(client.get(reverse("analytics:report_list")).content.decode())
    open("/tmp/rpt/detail.html", "w").write(client.get(r.get_absolute_url()).content.decode())
