"""The statistics dashboard (统计分析): grade distribution now and month by month, a region × grade matrix whose
cells open the enterprise list filtered to exactly those enterprises, and the handling of warnings. Charts are
drawn by static/analytics/dashboard.js from a JSON script element (no inline script); every figure is also in
a plain table.

The pages behind it (FiguresPage, same filters, charts by static/analytics/figures.js): the grade migration
matrix between two days (/analytics/migration/), risk rankings and TOP-N lists (/analytics/rankings/), the
handling of warnings per organisation (/analytics/warnings/) and supervision effectiveness per grade
(/analytics/supervision/). Each number links to the list behind it: the enterprise list (with the filters
analytics contributes to it: analytics.filtersets), the alerts, the inspection records or the tasks (with the
grade in force when made, contributed as well)."""

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


def drill_down_url(region, grade, business_form, food_category=""):
    """The enterprise list of exactly the enterprises of a matrix cell (region subtree, current grade, form,
    food category)."""
    params = {"region": region.pk if region is not None else "", "current_grade": grade,
              "business_form": business_form, "food_category": food_category}
    return f"{reverse('enterprises:enterprise_list')}?{urlencode({k: v for k, v in params.items() if v})}"


def with_links(matrix, query):
    """stats.matrix's rows with their names and the drill-down link of each cell (the dashboard, the leader's
    home)."""
    for row in matrix["rows"]:
        region = row["region"]
        row["name"] = region.name if region is not None else _("other")
        links = {g: drill_down_url(region, g, query.business_form, query.food_category) if row["exact"] else ""
                 for g in (*stats.GRADES, "")}
        row["cells"] = [(g, row[g], links[g]) for g in stats.GRADES]
        row["total_url"] = links[""]
    return matrix


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
        fields = [form[name] for name in DashboardFilterForm.PERIOD_FIELDS]
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form, fields=fields, errors=form.error_list()),
                                           status=400)
        query = form.query()
        form.data = {**form.data.dict(), "start": f"{query.start:%Y-%m}", "end": f"{query.end:%Y-%m}"}  # shown
        figures = stats.dashboard(request.user, query)
        with_links(figures["matrix"], query)
        return self.render_to_response(self.get_context_data(
            form=form, fields=fields, query=query, figures=figures, grades=stats.GRADES,
            chart=chart_data(figures, query), grade_filter_label=dict(Grade.choices).get(query.grade),
            root=figures["matrix"]["root"], business_form_label=dict(BusinessForm.choices).get(query.business_form), now_cells=[(g, figures["now"][g]) for g in stats.GRADES]
            if figures["now"] else []))


# --- the pages behind the dashboard: migration, rankings, warning handling, supervision -----------------------
def list_url(name, **params):
    """A list page filtered by `params` (empty values dropped; a list value repeats the parameter)."""
    pairs = []
    for key, value in params.items():
        for v in value if isinstance(value, (list, tuple)) else [value]:
            if v not in ("", None):
                pairs.append((key, f"{v:%Y-%m-%d}" if hasattr(v, "strftime") else v))
    return f"{reverse(name)}?{urlencode(pairs)}" if pairs else reverse(name)


def _scope(query, user):
    """The region and business form every drill-down of a page carries (the region asked for, else the person's
    jurisdiction: a list shows the whole scope anyway, the code keeps the link exact for a wider user)."""
    root = stats.root_region(user, query)
    return {"region": root.pk if root is not None else "", "business_form": query.business_form,
            "food_category": query.food_category}


def grade_label(code):
    if code == stats.NOT_GRADED:
        return _("not graded")
    if code == "CD":
        return _("C and D")
    return code


class FiguresPage(DashboardPermissionMixin, generic.TemplateView):
    """One statistics page: the dashboard's filter form (the fields the page uses), its figures in tables and
    charts (dashboard.js draws the JSON element `chart`), each number a link to the list behind it."""

    template_name = ""
    fields = DashboardFilterForm.PERIOD_FIELDS

    def get(self, request, *args, **kwargs):
        form = DashboardFilterForm(request.GET, user=request.user)
        form.compact = True
        bootstrap(form)
        shown = [form[name] for name in self.fields]
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form, fields=shown, errors=form.error_list()),
                                           status=400)
        query = form.query()
        form.data = {**form.data.dict(), "start": f"{query.start:%Y-%m}", "end": f"{query.end:%Y-%m}",
                     "first_date": f"{query.first_day:%Y-%m-%d}", "second_date": f"{query.second_day:%Y-%m-%d}"}
        root = stats.root_region(request.user, query)
        figures = self.figures(query)
        return self.render_to_response(self.get_context_data(
            form=form, fields=shown, query=query, figures=figures, root=root, grades=stats.GRADES,
            business_form_label=dict(BusinessForm.choices).get(query.business_form),
            grade_filter_label=dict(Grade.choices).get(query.grade), chart=self.chart(figures, query)))

    def figures(self, query):
        raise NotImplementedError

    def chart(self, figures, query):
        return {}


class MigrationView(FiguresPage):
    """The grade migration matrix between two days (point in time from the grade history)."""

    template_name = "analytics/migration.html"
    fields = ("first_date", "second_date", "region", "business_form", "food_category", "grade")

    def figures(self, query):
        m = stats.migration(self.request.user, query)
        scope = _scope(query, self.request.user)

        def link(first="", second=""):
            return list_url("enterprises:enterprise_list", **scope, first_date=query.first_day,
                            first_grade=first, second_date=query.second_day, second_grade=second)

        for row in m["rows"]:
            row["label"] = grade_label(row["grade"])
            row["links"] = [(to, row["cells"][to], link(row["grade"], to)) for to in stats.GRADES]
            row["total_url"] = link(row["grade"])
        m["column_links"] = [(to, m["columns"][to], link("", to)) for to in stats.GRADES]
        m["total_url"] = link("", "") if not query.grade else ""
        return m

    def chart(self, figures, query):
        cells, links = [], []
        for y, row in enumerate(figures["rows"]):
            for x, (_to, n, url) in enumerate(row["links"]):
                cells.append([x, y, n])
                links.append(url)
        return {"migration": {"x": list(stats.GRADES), "y": [r["label"] for r in figures["rows"]], "cells": cells,
                              "links": links, "max": max((c[2] for c in cells), default=0),
                              "x_name": _("grade on the second date"), "y_name": _("grade on the first date")}}


class RankingView(FiguresPage):
    """Business forms and food categories by risk (share of C + D, mean score) and the TOP-N lists: the highest
    risk now and the largest rise of the score between two days."""

    template_name = "analytics/rankings.html"
    fields = ("first_date", "second_date", "region", "business_form", "food_category", "grade")

    def figures(self, query):
        user = self.request.user
        scope = _scope(query, user)
        forms = dict(BusinessForm.choices)

        def decorate(rows, key_param, label):
            for row in rows:
                key = row["key"]
                extra = {key_param: key} if key else None
                row["label"] = label(key)
                if extra is None:  # enterprises without a food category: no list names exactly them
                    row["links"], row["total_url"], row["high_url"] = [(g, row[g], "") for g in stats.GRADES], "", ""
                    continue
                base = {**scope, key_param: key}
                high = [g for g in ("C", "D") if not query.grade or g == query.grade]
                row["links"] = [(g, row[g], list_url("enterprises:enterprise_list", **base, current_grade=g)
                                 if not query.grade or g == query.grade else "") for g in stats.GRADES]
                row["total_url"] = list_url("enterprises:enterprise_list", **base, grades=query.grade or stats.GRADES)
                row["high_url"] = list_url("enterprises:enterprise_list", **base, grades=high) if high else ""
            return rows

        by_form = decorate(stats.ranking_by_form(user, query), "business_form", lambda k: forms.get(k, k))
        by_category = decorate(stats.ranking_by_category(user, query), "food_category",
                               lambda k: k or _("no food category given"))
        return {"by_form": by_form, "by_category": by_category,
                "highest": stats.highest_risk(user, query), "rise": stats.largest_rise(user, query),
                "first": query.first_day, "second": query.second_day}

    def chart(self, figures, query):
        def bars(rows):
            return {"names": [str(r["label"]) for r in rows], "values": [r["high_share"] or 0 for r in rows],
                    "links": [r["high_url"] for r in rows]}

        return {"forms": bars(figures["by_form"]), "categories": bars(figures["by_category"][:15]),
                "share_name": _("share of C and D (%)")}


class WarningHandlingView(FiguresPage):
    """The handling of the warnings raised in the period, in all and per responsible organisation."""

    template_name = "analytics/warnings.html"

    def figures(self, query):
        figures = stats.alert_figures(self.request.user, query)
        scope = _scope(query, self.request.user)
        base = {**scope, "raised_after": query.start, "raised_before": query.last_day, "grade": query.grade}

        def link(**extra):
            return list_url("alerts:alert_list", **base, **extra)

        figures["links"] = {"raised": link(), "confirmed": link(step="confirm"), "dismissed": link(step="dismiss"),
                            "closed": link(step="close"), "late": link(late="true")}
        for row in figures["organisations"]:
            org = row["organisation"]
            row["name"] = org.name if org is not None else _("no organisation")
            row["links"] = ({"raised": link(organisation=org.pk), "closed": link(organisation=org.pk, step="close"),
                             "late": link(organisation=org.pk, late="true")} if org is not None else {})
        return figures

    def chart(self, figures, query):
        rows = figures["organisations"]
        return {"organisations": {"names": [str(r["name"]) for r in rows], "raised": [r["raised"] for r in rows],
                                  "late": [r["late"] for r in rows],
                                  "links": [r["links"].get("late", "") for r in rows],
                                  "raised_name": _("Warnings raised"), "late_name": _("Handled past the deadline")}}


class SupervisionView(FiguresPage):
    """Supervision effectiveness per grade in the period."""

    template_name = "analytics/supervision.html"

    def figures(self, query):
        figures = stats.supervision(self.request.user, query)
        scope = _scope(query, self.request.user)
        first, last = figures["first"], figures["last"]
        for row in figures["rows"]:
            grades = ["C", "D"] if row["grade"] == "CD" else [row["grade"]]
            one = grades[0] if len(grades) == 1 else ""
            row["label"] = grade_label(row["grade"])
            enterprises = {**scope, "grades": grades}
            # the inspections and orders under the grade in force when made (stats.supervision), the enterprises
            # (and those not inspected) under their grade now
            inspections = {**scope, "since": first, "until": last, "grade_then": one}
            tasks = {**scope, "kind": "rectification", "due_after": first, "due_before": last, "grade_then": one}
            open_or_done = ["assigned", "in_progress", "verifying", "done"]
            row["links"] = {
                "enterprises": list_url("enterprises:enterprise_list", **enterprises),
                "inspected": list_url("enterprises:enterprise_list", **scope, inspected_as=grades,
                                      inspected_since=first, inspected_until=last, inspected="true"),
                "uninspected": list_url("enterprises:enterprise_list", **enterprises, inspected_since=first,
                                        inspected_until=last, inspected="false"),
                "covered": list_url("enterprises:enterprise_list", **enterprises, inspected_since=first,
                                    inspected_until=last, inspected="true"),
                # a list of inspections or tasks filters one grade: the C + D row has no such link
                "done": list_url("records:inspection_list", **inspections) if one else "",
                "failed": list_url("records:inspection_list", **inspections, result="fail") if one else "",
                "rectifications": list_url("supervision:task_list", **tasks, status=open_or_done) if one else "",
                "rectified": list_url("supervision:task_list", **tasks, status="done") if one else "",
            }
        from .data_views import repair_figures  # it builds on this module's links

        figures["repairs"] = repair_figures(self.request.user, query)
        return figures

    def chart(self, figures, query):
        rows = [r for r in figures["rows"] if r["grade"] != "CD"]
        return {"supervision": {
            "grades": [r["grade"] for r in rows],
            "series": [{"name": _("inspections required"), "values": [r["required"] or 0 for r in rows],
                        "links": [""] * len(rows)},
                       {"name": _("inspections done"), "values": [r["done"] for r in rows],
                        "links": [r["links"]["done"] for r in rows]},
                       {"name": _("non-compliant inspections"), "values": [r["failed"] for r in rows],
                        "links": [r["links"]["failed"] for r in rows]}]}}
