"""The home page of each role (core.homes): figures, not links. Every number is counted from the same restricted
queryset as the list it opens (Model.objects.restrict(user, "view") and the list's own filter parameters), so a
click lists exactly what was counted, inside the person's region scope. Few queries: one aggregate per table.

- leader: the dashboard's key figures (grades now from the monthly snapshot, the warnings of the period, the
  coverage of C and D enterprises), each reused from the statistics pages;
- inspector (supervisor, handler): his warnings waiting for him, overdue; his open, overdue and soon-due tasks;
- data administrator: import batches (failed, running), open quarantine, pending matches, freshness per kind;
- system administrator: jobs by status, the readiness checks, the recent failed jobs;
- approver (the second person): what waits for his decision — grade adjustments, indicator set versions, export
  requests awaiting approval, candidate models."""

import dataclasses
import datetime as dt

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy

from foodrisk.alerts import services as alert_services
from foodrisk.alerts.choices import OPEN_STATUSES
from foodrisk.alerts.models import Alert
from foodrisk.core import health
from foodrisk.core.models import Job
from foodrisk.core.models.jobs import JobStatus
from foodrisk.enterprises.choices import Grade
from foodrisk.ingest.choices import BatchStatus, CandidateStatus, QuarantineStatus
from foodrisk.ingest.models import Batch, MatchCandidate, QuarantinedRow
from foodrisk.supervision.choices import OPEN_TASK_STATUSES
from foodrisk.supervision.models import Task

from . import data_figures, stats
from .forms import DashboardFilterForm
from .views import (
    PERMISSION,
    SupervisionView,
    WarningHandlingView,
    chart_data,
    drill_down_url,
    list_url,
    with_links,
)

GRADE_TONES = {"A": "success", "B": "primary", "C": "warning", "D": "danger"}  # Bootstrap colours of the cards
SOON_DAYS = 7  # "due soon": a task due within the coming week


def _default_query(user):
    """The statistics pages' default query (the last twelve months, the whole scope). The jurisdiction is set as
    the region asked for: the same figures, but stats.root_region no longer looks it up for every figure."""
    form = DashboardFilterForm({}, user=user)
    form.is_valid()
    query = form.query()
    if query.region is None and user.scope_prefix:
        query = dataclasses.replace(query, region=stats.root_region(user, query))
    return query


def _page(view_class, request, query):
    page = view_class()
    page.request = request
    return page.figures(query)


def leader(request):
    user = request.user
    if not user.has_perm(PERMISSION):
        return {"allowed": False}
    query = _default_query(user)
    root = stats.root_region(user, query)
    series = stats.trend(user, query)
    now = series[-1] if series else None
    names = dict(Grade.choices)
    grades = [(g, names[g], now[g] if now else 0, drill_down_url(root, g, ""), GRADE_TONES[g]) for g in stats.GRADES]
    high = sum(n for g, _label, n, _url, _tone in grades if g in ("C", "D"))
    alerts = _page(WarningHandlingView, request, query)
    supervision = _page(SupervisionView, request, query)
    high_row = next(r for r in supervision["rows"] if r["grade"] == "CD")
    open_alerts = Alert.objects.restrict(user, "view").order_by().aggregate(
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        overdue=Count("pk", filter=Q(status__in=OPEN_STATUSES, deadline__lt=timezone.localdate())))
    matrix = with_links(stats.matrix(user, query), query)
    return {"allowed": True, "query": query, "root": root, "month": now["month"] if now else None,
            "matrix": matrix, "chart": chart_data({"trend": series, "now": now, "matrix": matrix}, query),
            "grades": grades, "graded": now["total"] if now else 0, "high": high,
            "high_share": stats.share(high, now["total"]) if now else None,
            "trend": series, "alerts": alerts, "cd": high_row, "repairs": supervision["repairs"]["total"],
            "open_alerts": open_alerts["open"], "overdue_alerts": open_alerts["overdue"],
            "links": {"open_alerts": list_url("alerts:alert_list", open="true"),
                      "overdue_alerts": list_url("alerts:alert_list", overdue="true")}}


def inspector(request):
    user = request.user
    today = timezone.localdate()
    soon = today + dt.timedelta(days=SOON_DAYS)
    open_statuses = list(OPEN_TASK_STATUSES)
    mine = Q(assignee=user) | Q(second_assignee=user)
    tasks_qs = Task.objects.restrict(user, "view").order_by()
    tasks = tasks_qs.aggregate(
        mine=Count("pk", filter=mine & Q(status__in=open_statuses)),
        mine_overdue=Count("pk", filter=mine & Q(status__in=open_statuses, due_on__lt=today)),
        mine_soon=Count("pk", filter=mine & Q(status__in=open_statuses, due_on__gte=today, due_on__lte=soon)),
        overdue=Count("pk", filter=Q(status__in=open_statuses, due_on__lt=today)),
    ) if user.has_perm("supervision.view_task") else None
    waiting = alert_services.queue(user, "mine").order_by().aggregate(
        waiting=Count("pk"), overdue=Count("pk", filter=Q(status__in=OPEN_STATUSES, deadline__lt=today)))
    in_scope = Alert.objects.restrict(user, "view").order_by().aggregate(
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        overdue=Count("pk", filter=Q(status__in=OPEN_STATUSES, deadline__lt=today)))
    next_tasks = (list(tasks_qs.filter(mine, status__in=open_statuses).select_related("enterprise")
                       .order_by("due_on", "pk")[:8]) if tasks is not None else [])
    mine_params = {"mine": "true", "status": open_statuses}
    return {
        "tasks": tasks, "next_tasks": next_tasks, "today": today, "soon": soon, "waiting": waiting,
        "in_scope": in_scope,
        "links": {
            "waiting": list_url("alerts:my_alerts"),
            "waiting_overdue": list_url("alerts:my_alerts", overdue="true"),
            "open": list_url("alerts:alert_list", open="true"),
            "overdue": list_url("alerts:alert_list", overdue="true"),
            "mine": list_url("supervision:task_list", **mine_params),
            "mine_overdue": list_url("supervision:task_list", mine="true", overdue="true"),
            "mine_soon": list_url("supervision:task_list", **mine_params, due_after=today, due_before=soon),
            "tasks_overdue": list_url("supervision:task_list", overdue="true"),
        }}


def data_admin(request):
    user = request.user
    batches = Batch.objects.restrict(user, "view").order_by().aggregate(
        all=Count("pk"), failed=Count("pk", filter=Q(status=BatchStatus.FAILED)),
        running=Count("pk", filter=Q(status__in=[BatchStatus.RUNNING, BatchStatus.PENDING])))
    quarantine = (QuarantinedRow.objects.restrict(user, "view").order_by()
                  .filter(status=QuarantineStatus.OPEN).count())
    candidates = (MatchCandidate.objects.restrict(user, "view").order_by()
                  .filter(status=CandidateStatus.PENDING).count())
    fresh = data_figures.freshness(user)
    return {"batches": batches, "quarantine": quarantine, "candidates": candidates, "freshness": fresh[:8],
            "stale": sum(1 for r in fresh if r["age_days"] is None or r["age_days"] > 30),
            "links": {"all": list_url("ingest:batch_list"), "failed": list_url("ingest:batch_list", status="failed"),
                      "quarantine": list_url("ingest:quarantinedrow_list", status=QuarantineStatus.OPEN),
                      "candidates": list_url("ingest:matchcandidate_list", status=CandidateStatus.PENDING)}}


CHECK_LABELS = {"database": gettext_lazy("database"), "cache": gettext_lazy("cache"),
                "worker": gettext_lazy("background worker"), "scoring_run": gettext_lazy("last scoring run")}
STATUS_LABELS = {"ok": gettext_lazy("normal"), "stale": gettext_lazy("stalled"),
                 "unavailable": gettext_lazy("unavailable"), "error": gettext_lazy("error")}


def system_admin(request):
    user = request.user
    jobs_qs = Job.objects.restrict(user, "view").order_by()
    jobs = jobs_qs.aggregate(**{s: Count("pk", filter=Q(status=s)) for s in JobStatus.values})
    ready, results = health.readiness()
    checks = [{"name": name, "label": CHECK_LABELS.get(name, name), "ok": r["status"] == "ok",
               "status": STATUS_LABELS.get(r["status"], r["status"]), "critical": r["critical"],
               "duration_ms": r["duration_ms"]} for name, r in results.items()]
    labels = dict(JobStatus.choices)
    return {"ready": ready, "checks": checks,
            "jobs": [(s, labels[s], jobs[s], list_url("core:job_list", status=s)) for s in JobStatus.values],
            "failed": list(jobs_qs.filter(status=JobStatus.FAILED).order_by("-created_at", "-pk")[:5])}


def _waiting(user, model, status, url_name):
    """(n, link) of the rows of `model` in `status` the user may see; None without the model's view permission."""
    opts = model._meta
    if not user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
        return None
    return (model.objects.restrict(user, "view").order_by().filter(status=status).count(),
            list_url(url_name, status=status))


def approver(request):
    from foodrisk.core.models import ExportRequest
    from foodrisk.indicators.models import IndicatorSet
    from foodrisk.scoring.models import GradeAdjustment, ModelVersion

    user = request.user
    rows = [("adjustments", gettext_lazy("grade adjustments awaiting approval"),
             _waiting(user, GradeAdjustment, "pending", "scoring:gradeadjustment_list")),
            ("indicator_sets", gettext_lazy("indicator set versions awaiting approval"),
             _waiting(user, IndicatorSet, "submitted", "indicators:indicatorset_list")),
            ("exports", gettext_lazy("export requests awaiting approval"),
             _waiting(user, ExportRequest, "pending", "core:exportrequest_list")),
            ("models", gettext_lazy("candidate models"),
             _waiting(user, ModelVersion, "candidate", "scoring:modelversion_list"))]
    return {"waiting": [(key, label, *found) for key, label, found in rows if found is not None]}


def register():
    from foodrisk.core import homes

    homes.register("leader", gettext_lazy("Leader's desk"), "analytics/home_leader.html", leader, roles=["leader"], order=10)
    homes.register("inspector", gettext_lazy("My work"), "analytics/home_inspector.html", inspector,
                   roles=["supervisor", "handler"], order=20)
    homes.register("data", gettext_lazy("Data desk"), "analytics/home_data.html", data_admin, roles=["data_admin"], order=30)
    homes.register("approver", gettext_lazy("Awaiting my approval"), "analytics/home_approver.html", approver,
                   roles=["approver"], order=35)
    homes.register("system", gettext_lazy("System desk"), "analytics/home_system.html", system_admin, roles=["system_admin"],
                   order=40, superuser=True)
