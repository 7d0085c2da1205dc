"""Statistical reports (统计报表): the service that asks for one, the figures it holds, and who may fetch it.

- request_report(): a person asks for a report of a period and a region inside his jurisdiction; the Report row
  and its job are created in one transaction with the audit entry (the job runs in the worker: analytics.tasks).
- scheduled: a core Schedule row with job kind `analytics.report` and parameters {kind, region, business_form,
  topic} starts the same job; it reports on the last complete period and does nothing when that report exists.
- build(): the worker's half — the figures (from the precomputed grade snapshot and the period's records), the
  XLSX (report_xlsx) and the PDF (report_pdf, when the engine and a CJK font are installed), saved into the
  media storage on the Report row.
- file_response(): a report's file through the permission check (analytics.view_report + the report's region
  inside the person's jurisdiction), audited as a download.
"""

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from foodrisk.core.models import Region
from foodrisk.core.querysets import region_prefix
from foodrisk.core.services import audit, jobs
from foodrisk.enterprises.choices import BusinessForm, Grade
from foodrisk.enterprises.models import Enterprise

from . import stats
from .forms import Query
from .report_models import Report, ReportPeriod, ReportStatus
from .services import add_months, current_month, month_start, with_grade_in_force

logger = logging.getLogger(__name__)

JOB_KIND = "analytics.report"
VIEW_PERMISSION = "analytics.view_report"
GENERATE_PERMISSION = "analytics.generate_report"
GRADES = stats.GRADES
MONTHS = {ReportPeriod.MONTHLY: 1, ReportPeriod.QUARTERLY: 3, ReportPeriod.ANNUAL: 12}
TOP_LIST = 50


class ReportError(Exception):
    """A report that cannot be made, in words for the person (the job shows it)."""


# ------------------------------------------------------------------------------------------ periods
def period_of(kind, day):
    """(first day, last day) of the period of `kind` that contains `day`."""
    if kind not in MONTHS:
        raise ValidationError({"kind": _("Unknown report kind.")})
    if kind == ReportPeriod.MONTHLY:
        start = month_start(day)
    elif kind == ReportPeriod.QUARTERLY:
        start = dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    else:
        start = dt.date(day.year, 1, 1)
    return start, add_months(start, MONTHS[kind]) - dt.timedelta(days=1)


def last_complete_period(kind, today=None):
    """The latest period of `kind` that has ended before today (a schedule reports on it)."""
    start, _end = period_of(kind, today or timezone.localdate())
    return period_of(kind, start - dt.timedelta(days=1))


def period_label(kind, start):
    if kind == ReportPeriod.MONTHLY:
        return _("%(year)s-%(month)02d") % {"year": start.year, "month": start.month}
    if kind == ReportPeriod.QUARTERLY:
        return _("Q%(quarter)s %(year)s") % {"year": start.year, "quarter": (start.month - 1) // 3 + 1}
    return _("year %(year)s") % {"year": start.year}


def make_title(kind, start, region, business_form="", topic=""):
    place = (region.full_name or region.name) if region is not None else _("nationwide")
    words = [place, period_label(kind, start), str(ReportPeriod(kind).label)]
    if business_form:
        words.insert(2, str(BusinessForm(business_form).label))
    title = "".join(words) if not topic else f"{''.join(words)}（{topic}）"
    return title[:200]


# ------------------------------------------------------------------------------------------ requests
def _check_region(user, region):
    """The report's region: the one asked for, inside the person's jurisdiction; default the jurisdiction."""
    prefix = user.scope_prefix
    if prefix is None:
        raise PermissionDenied(_("You have no jurisdiction."))
    if region is None:
        if prefix == "":
            return None
        return Region.objects.get(pk=user.scope_code)
    if not region.code.startswith(prefix):
        raise PermissionDenied(_("The region lies outside your jurisdiction."))
    return region


def request_report(*, user, kind, day=None, region=None, business_form="", topic=""):
    """Ask for the report of the period of `kind` containing `day` (default: the last complete one)."""
    if user is None or not user.is_authenticated or not user.has_perm(GENERATE_PERMISSION):
        raise PermissionDenied(_("You have no permission to generate reports."))
    if kind not in MONTHS:
        raise ValidationError({"kind": _("Unknown report kind.")})
    if business_form and business_form not in BusinessForm.values:
        raise ValidationError({"business_form": _("Unknown business form.")})
    today = timezone.localdate()
    start, end = period_of(kind, day) if day else last_complete_period(kind, today)
    if start > today:
        raise ValidationError({"day": _("The period has not begun yet.")})
    region = _check_region(user, region)
    topic = (topic or "").strip()[:100]
    with transaction.atomic():
        report = Report.objects.create(
            kind=kind, period_start=start, period_end=end, region=region, business_form=business_form or "",
            topic=topic, title=make_title(kind, start, region, business_form, topic), requested_by=user)
        audit.record("analytics.report.request", report, user=user, details={
            "kind": kind, "period": [start.isoformat(), end.isoformat()],
            "region": region.pk if region else None, "business_form": business_form, "topic": topic})
        report.job = jobs.start(JOB_KIND, user=user, params={"report": report.pk},
                                title=_("Report: %(title)s") % {"title": report.title})
        report.save(update_fields=["job"])
    return report


def scheduled_report(job, *, kind, region="", business_form="", topic=""):
    """A schedule's report of the last complete period; None when it exists already (a monthly schedule of a
    quarterly report makes one report per quarter)."""
    start, end = last_complete_period(kind)
    region_obj = Region.objects.filter(pk=region).first() if region else None
    if region and region_obj is None:
        raise ReportError(_("Unknown region %(code)s.") % {"code": region})
    existing = Report.objects.filter(kind=kind, period_start=start, region=region_obj,
                                     business_form=business_form or "", topic=topic or "",
                                     status__in=[ReportStatus.READY, ReportStatus.RUNNING]).first()
    if existing is not None:
        return None
    with transaction.atomic():
        report = Report.objects.create(
            kind=kind, period_start=start, period_end=end, region=region_obj, business_form=business_form or "",
            topic=topic or "", title=make_title(kind, start, region_obj, business_form, topic), job=job.job,
            schedule=job.job.schedule)
        audit.record("analytics.report.request", report, details={
            "kind": kind, "period": [start.isoformat(), end.isoformat()], "region": region or None,
            "schedule": job.job.schedule_id})
    return report


# ------------------------------------------------------------------------------------------ figures
@dataclass(frozen=True)
class Scope:
    """The report's region as the statistics functions read a person's jurisdiction."""

    scope_prefix: str
    scope_code: str | None


def _enterprises(report):
    qs = Enterprise.objects.order_by()
    if report.region_id:
        qs = qs.filter(region__code__startswith=region_prefix(report.region_id))
    if report.business_form:
        qs = qs.filter(business_form=report.business_form)
    return qs


def _zone_range(start, end):
    zone = timezone.get_current_timezone()
    return (dt.datetime.combine(start, dt.time.min, tzinfo=zone),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone))


def _grade_changes(report):
    from foodrisk.scoring.models import GradeChange

    start, end = _zone_range(report.period_start, report.period_end)
    changes = GradeChange.objects.filter(enterprise__in=_enterprises(report).values("pk"), at__gte=start, at__lt=end)
    moves = Counter()
    for old, new, n in changes.order_by().values_list("old_grade", "new_grade").annotate(n=Count("id")):
        moves[(old or "", new)] += n
    worse = sum(n for (old, new), n in moves.items() if old and new > old)
    better = sum(n for (old, new), n in moves.items() if old and new < old)
    first = sum(n for (old, _new), n in moves.items() if not old)
    matrix = [{"from": old, **{g: moves.get((old, g), 0) for g in GRADES}} for old in ("", *GRADES)]
    return {"worse": worse, "better": better, "first": first, "total": sum(moves.values()), "matrix": matrix}


def _supervision(report):
    from foodrisk.records.models import CreditRepair, Inspection, Penalty, SamplingTest
    from foodrisk.supervision.models import Task

    ents = _enterprises(report).values("pk")
    start, end = report.period_start, report.period_end
    by_grade = {g: {"inspections": 0, "failed": 0, "enterprises": 0} for g in (*GRADES, "")}
    for grade, n in _enterprises(report).values_list("current_grade").annotate(n=Count("id")):
        by_grade.setdefault(grade or "", {"inspections": 0, "failed": 0, "enterprises": 0})["enterprises"] = n
    inspections = Inspection.objects.filter(enterprise__in=ents, inspected_on__gte=start, inspected_on__lte=end)
    # the enterprises under their grade now; the inspections under the grade in force on their days ("": not
    # graded then), as the supervision page counts them (stats.supervision)
    held = with_grade_in_force(inspections.order_by(), F("inspected_on"))
    for grade, total, failed in (held.values_list("held")
                                 .annotate(n=Count("id"), f=Count("id", filter=Q(result="fail")))):
        row = by_grade.setdefault(grade or "", {"inspections": 0, "failed": 0, "enterprises": 0})
        row["inspections"], row["failed"] = total, failed
    rows = []
    for grade in (*GRADES, ""):
        row = by_grade[grade]
        rate = round(100 * row["failed"] / row["inspections"], 1) if row["inspections"] else None
        rows.append({"grade": grade, **row, "problem_rate": rate})
    # coverage on one basis, the grade now: the C and D enterprises inspected in the period (as the page's)
    inspected_cd = (_enterprises(report).filter(current_grade__in=["C", "D"])
                    .filter(Exists(inspections.filter(enterprise=OuterRef("pk")))).count())
    cd_total = by_grade["C"]["enterprises"] + by_grade["D"]["enterprises"]
    sampling = SamplingTest.objects.filter(enterprise__in=ents, sampled_on__gte=start, sampled_on__lte=end)
    penalties = Penalty.objects.filter(enterprise__in=ents, decided_on__gte=start, decided_on__lte=end)
    fines = penalties.aggregate(s=Sum("fine"))["s"] or Decimal(0)
    t_start, t_end = _zone_range(start, end)
    tasks = Task.objects.filter(enterprise__in=ents, created_at__gte=t_start, created_at__lt=t_end)
    repairs = CreditRepair.objects.filter(enterprise__in=ents, applied_on__gte=start, applied_on__lte=end)
    return {
        "by_grade": rows,
        "inspections": inspections.count(), "inspections_failed": inspections.filter(result="fail").count(),
        "cd_enterprises": cd_total, "cd_inspected": inspected_cd,
        "cd_coverage": round(100 * inspected_cd / cd_total, 1) if cd_total else None,
        "sampling": sampling.count(), "sampling_failed": sampling.filter(result="fail").count(),
        "penalties": penalties.count(), "fines": str(fines.quantize(Decimal("0.01"))),
        "tasks": tasks.count(), "tasks_done": tasks.filter(status="done").count(),
        "tasks_overdue": tasks.filter(overdue=True).count(),
        "repairs": repairs.count(), "repairs_approved": repairs.filter(decision="approved").count(),
    }


def _top(report):
    rows = (_enterprises(report).filter(current_grade__in=["D", "C"]).select_related("region")
            .order_by("-current_grade", "-current_score", "name")[:TOP_LIST])
    return [{"uscc": e.uscc, "name": e.name, "region": e.region.full_name or e.region.name,
             "business_form": e.get_business_form_display(), "grade": e.current_grade,
             "score": None if e.current_score is None else round(e.current_score, 1)} for e in rows]


def _month(month):
    return f"{month:%Y-%m}" if month else None


def compute(report):
    """Every figure of the report as JSON-able data (what the XLSX and the PDF show)."""
    scope = Scope(region_prefix(report.region_id) if report.region_id else "", report.region_id)
    last = min(month_start(report.period_end), current_month())
    query = Query(add_months(month_start(report.period_start), -1), last, report.region, report.business_form)
    series = stats.trend(scope, query)
    opening = next((r for r in series if r["month"] < month_start(report.period_start)), None)
    in_period = [r for r in series if r["month"] >= month_start(report.period_start)]
    closing = in_period[-1] if in_period else None
    matrix = stats.matrix(scope, query)
    period_query = Query(month_start(report.period_start), last, report.region, report.business_form)
    alerts = stats.alert_figures(scope, period_query)

    def counts(row):
        return {g: row[g] if row else 0 for g in (*GRADES, "total")}

    regions = [{"code": r["region"].pk if r["region"] is not None else "",
                "name": (r["region"].full_name or r["region"].name) if r["region"] is not None else _("other"),
                **counts(r)} for r in matrix["rows"]]
    live = Counter(dict(_enterprises(report).exclude(current_grade="").values_list("current_grade")
                        .annotate(n=Count("id"))))
    return {
        "period": [report.period_start.isoformat(), report.period_end.isoformat()],
        "opening": counts(opening), "closing": counts(closing),
        "closing_month": _month(closing["month"]) if closing else None,
        "trend": [{"month": _month(r["month"]), **counts(r)} for r in in_period],
        "regions": regions,
        "graded_now": {g: live.get(g, 0) for g in GRADES},
        "enterprises": _enterprises(report).count(),
        "changes": _grade_changes(report),
        "alerts": alerts,
        "supervision": _supervision(report),
        "top": _top(report),
        "generated_at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
    }


# ------------------------------------------------------------------------------------------ the job
def build(job, report):
    """Compute the figures, write the files, mark the report ready (or failed, the person told why)."""
    from . import pdf, report_pdf, report_xlsx

    Report.objects.filter(pk=report.pk).update(status=ReportStatus.RUNNING, job=job.job)
    try:
        job.progress(0.1, message=_("Counting"))
        figures = compute(report)
        job.progress(0.5, message=_("Writing the Excel file"))
        stem = f"report-{report.kind}-{report.period_start:%Y%m}-{report.region_id or 'all'}-{report.pk}"
        report.xlsx.save(f"{stem}.xlsx", ContentFile(report_xlsx.workbook(report, figures)), save=False)
        ok, reason = pdf.engine_status()
        if ok:
            job.progress(0.7, message=_("Writing the PDF file"))
            report.pdf.save(f"{stem}.pdf", ContentFile(report_pdf.render(report, figures)), save=False)
            report.pdf_note = ""
        else:
            report.pdf_note = reason[:300]
            job.log(f"PDF not written: {reason}")
    except Exception as exc:
        Report.objects.filter(pk=report.pk).update(status=ReportStatus.FAILED, finished_at=timezone.now(),
                                                   error=str(exc)[:300])
        raise
    with transaction.atomic():
        report.figures = {k: figures[k] for k in ("opening", "closing", "closing_month", "enterprises", "alerts")}
        report.status, report.finished_at, report.error = ReportStatus.READY, timezone.now(), ""
        report.save(update_fields=["figures", "status", "finished_at", "error", "xlsx", "pdf", "pdf_note", "job"])
        audit.record("analytics.report.generate", report, details={
            "xlsx": report.xlsx.name, "pdf": report.pdf.name or None, "pdf_note": report.pdf_note})
    return {"report": report.pk, "xlsx": report.xlsx.name, "pdf": report.pdf.name or None}


# ------------------------------------------------------------------------------------------ reading
def visible(user):
    return Report.objects.restrict(user, "view").select_related("region", "requested_by")


def file_response(report, user, fmt):
    """A report's file (fmt "xlsx" or "pdf") for a person who may see the report; audited."""
    if not Report.objects.restrict(user, "view").filter(pk=report.pk).exists():
        raise PermissionDenied
    field = {"xlsx": report.xlsx, "pdf": report.pdf}.get(fmt)
    if field is None or not field or report.status != ReportStatus.READY:
        raise Http404(_("This report has no such file."))
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404(_("The file is missing from storage.")) from None
    audit.record("download", report, user=user, details={"file": field.name, "format": fmt})
    name = f"{report.title}.{fmt}"
    return FileResponse(handle, as_attachment=True, filename=name)


__all__ = ["Grade", "ReportError", "build", "compute", "file_response", "request_report", "scheduled_report"]
