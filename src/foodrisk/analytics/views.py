"""The statistics dashboard (统计分析): grade distribution now and month by month, a region × grade matrix whose
cells open the enterprise list filtered to exactly those enterprises, and the handling of warnings. Charts are
drawn by static/analytics/dashboard.js from a JSON script element (no inline script); every figure is also in
a plain table."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import generic

from foodrisk.core.views.generic import ScopedMixin
from foodrisk.core.widgets import bootstrap
from foodrisk.enterprises.choices import BusinessForm, Grade

from . import stats
from .forms import DashboardFilterForm
from .models import GradeSnapshot

PERMISSION = "analytics.view_dashboard"
GRADE_COLOURS = {"A": "#2e7d32", "B": "#1565c0", "C": "#ef6c00", "D": "#c62828"}


class DashboardPermissionMixin(ScopedMixin):
    model = GradeSnapshot

    def permission_name(self):
        return PERMISSION


def drill_down_url(region, grade, business_form):
    """The enterprise list of exactly the enterprises of a matrix cell (region subtree, current grade, form)."""
    params = {"region": region.pk if region is not None else "", "current_grade": grade,
              "business_form": business_form}
    return f"{reverse('enterprises:enterprise_list')}?{urlencode({k: v for k, v in params.items() if v})}"


def _month(month):
    return f"{month:%Y-%m}" if month else ""


def chart_data(figures, query):
    """What dashboard.js draws: the trend (stacked bars), the distribution now and the matrix (heat map)."""
    grades = list(stats.GRADES)
    names = dict(Grade.choices)
    rows = figures["matrix"]["rows"]
    cells, links = [], []
    for y, row in enumerate(rows):
        for x, grade in enumerate(grades):
            cells.append([x, y, row[grade]])
            links.append(row["cells"][x][2])
    return {
        "grades": grades, "grade_names": [str(names[g]) for g in grades],
        "colours": [GRADE_COLOURS[g] for g in grades],
        "months": [_month(r["month"]) for r in figures["trend"]],
        "series": {g: [r[g] for r in figures["trend"]] for g in grades},
        "now": [figures["now"][g] if figures["now"] else 0 for g in grades],
        "matrix": {"regions": [row["name"] for row in rows], "cells": cells, "links": links,
                   "max": max((c[2] for c in cells), default=0)},
        "labels": {"enterprises": _("enterprises"), "month": _("month")},
    }


class DashboardView(DashboardPermissionMixin, generic.TemplateView):
    template_name = "analytics/dashboard.html"

    def get(self, request, *args, **kwargs):
        form = DashboardFilterForm(request.GET, user=request.user)  # empty: the default period, everything
        form.compact = True
        bootstrap(form)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form, errors=form.error_list()), status=400)
        query = form.query()
        form.data = {**form.data.dict(), "start": f"{query.start:%Y-%m}", "end": f"{query.end:%Y-%m}"}  # shown
        figures = stats.dashboard(request.user, query)
        for row in figures["matrix"]["rows"]:
            region = row["region"]
            row["name"] = region.name if region is not None else _("other")
            links = {g: drill_down_url(region, g, query.business_form) if row["exact"] else ""
                     for g in (*stats.GRADES, "")}
            row["cells"] = [(g, row[g], links[g]) for g in stats.GRADES]
            row["total_url"] = links[""]
        return self.render_to_response(self.get_context_data(
            form=form, query=query, figures=figures, grades=stats.GRADES, chart=chart_data(figures, query),
            root=figures["matrix"]["root"], business_form_label=dict(BusinessForm.choices).get(query.business_form), now_cells=[(g, figures["now"][g]) for g in stats.GRADES]
            if figures["now"] else []))
