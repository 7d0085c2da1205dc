"""The enterprise credit-risk report (企业信用风险报告): one enterprise's identity, licences, current grade and its
history, the reasons, records and supervision measures, as a PDF — from the profile page (a button) and the API.

What it shows is what the person may see on the profile: every part read through `.restrict(user, …)`, the legal
representative masked as the profile masks it (revealing is a deliberate act on the profile, never a side effect
of a report). Every report made is an audit entry on the enterprise.
"""

from urllib.parse import quote

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from foodrisk.core.services import audit
from foodrisk.enterprises.models import Licence
from foodrisk.enterprises.sensitive import masked

from . import pdf
from .report_text import grade_label

PERMISSION = "analytics.enterprise_report"
HISTORY = 24
RECORDS = 60


def may_make(user):
    return bool(user and user.is_authenticated and user.has_perm(PERMISSION)
                and user.has_perm("enterprises.view_enterprise"))


def _scores(enterprise, user):
    from foodrisk.scoring.models import GradeChange, Score

    if not user.has_perm("scoring.view_score"):
        return None, [], []
    scores = Score.objects.restrict(user, "view").filter(enterprise=enterprise).select_related("indicator_set")
    latest = scores.order_by("-run_id").first()
    history = list(scores.order_by("-as_of", "-run_id")[:HISTORY])
    changes = []
    if user.has_perm("scoring.view_gradechange"):
        changes = list(GradeChange.objects.restrict(user, "view").filter(enterprise=enterprise)[:HISTORY])
    return latest, history, changes


def _reasons(score):
    """The reasons of the latest score: the rules' sentences, then the model's (both lists of Chinese text)."""
    if score is None:
        return []
    return [str(r) for r in [*(score.reasons or []), *(score.model_reasons or [])] if r]


def _records(enterprise, user):
    from foodrisk.records.timeline import timeline

    entries, total, _counts = timeline(enterprise, user, limit=RECORDS)
    return entries, total


def _measures(enterprise, user):
    if not user.has_perm("supervision.view_task"):
        return None, []
    from foodrisk.supervision.models import Task
    from foodrisk.supervision.services.profiles import measures_for

    tasks = list(Task.objects.restrict(user, "view").filter(enterprise=enterprise).order_by("-created_at")[:10])
    return measures_for(enterprise), tasks


def context(enterprise, user):
    latest, history, changes = _scores(enterprise, user)
    records, total = _records(enterprise, user)
    info, tasks = _measures(enterprise, user)
    licences = (list(Licence.objects.restrict(user, "view").filter(enterprise=enterprise))
                if user.has_perm("enterprises.view_licence") else None)
    return {
        "e": enterprise, "legal_representative": masked(enterprise), "licences": licences,
        "grade_label": grade_label(enterprise.current_grade) if enterprise.current_grade else "",
        "score": latest, "history": history, "changes": changes, "reasons": _reasons(latest),
        "records": records, "records_total": total, "measures": info, "tasks": tasks,
        "generated_at": timezone.localtime().strftime("%Y-%m-%d %H:%M"), "generated_by": user,
        "font_family": mark_safe(pdf.font_stack()),
    }


def produce(enterprise, user):
    """(file name, PDF bytes) for `user`, who may see the enterprise; audited. Raises pdf.PDFUnavailable."""
    ok, reason = pdf.engine_status()
    if not ok:
        raise pdf.PDFUnavailable(reason)
    html = render_to_string("analytics/reports/enterprise_pdf.html", context(enterprise, user))
    content = pdf.render_html(html)
    audit.record("analytics.enterprise_report", enterprise, user=user, details={"bytes": len(content)})
    name = f"企业信用风险报告-{enterprise.uscc}-{timezone.localdate():%Y%m%d}.pdf"
    return name, content


def disposition(name):
    """Content-Disposition of a file with a Chinese name (RFC 6266: an ASCII fallback and the UTF-8 name)."""
    ascii_name = name.encode("ascii", "ignore").decode().lstrip("-") or "report.pdf"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def profile_section(enterprise, request):
    """The profile's card with the report button (contributed to enterprises.profile)."""
    if not may_make(request.user):
        return None
    ok, reason = pdf.engine_status()
    return {"template": "analytics/reports/profile_report.html", "pdf_ok": ok, "pdf_reason": reason}
