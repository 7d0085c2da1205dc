"""The figures added beside the statistics pages: the credit repairs of the supervision effectiveness page and the
data freshness and quality page, each number a link to the list behind it (views.list_url)."""

from django.utils.translation import gettext as _

from foodrisk.ingest.choices import QuarantineStatus

from . import data_figures, repairs
from .views import FiguresPage, _scope, grade_label, list_url

DATA_PERMISSION = "ingest.view_batch"  # whoever may see the import batches sees their freshness and quality


def repair_figures(user, query):
    """repairs.credit_repairs with links: a month's numbers open the credit repairs applied in that month with that
    decision, a grade's those of the enterprises now holding it (no link for the enterprises not graded)."""
    figures = repairs.credit_repairs(user, query)
    scope = _scope(query, user)

    def links(**where):
        base = {**scope, "grade": query.grade, **where}
        return {"applied": list_url("records:creditrepair_list", **base),
                **{d: list_url("records:creditrepair_list", **base, decision=d) for d in repairs.DECISIONS}}

    for row in figures["months"]:
        row["links"] = links(since=row["first"], until=row["last"])
    for row in figures["grades"]:
        row["label"] = grade_label(row["grade"]) if row["grade"] else _("not graded")
        row["links"] = links(since=query.start, until=query.last_day, grade=row["grade"]) if row["grade"] else {}
    figures["total"]["links"] = links(since=query.start, until=query.last_day)
    return figures


def data_quality_figures(user, query):
    """Freshness per source and kind, the batches per month, the open quarantine per kind, with links."""
    fresh = data_figures.freshness(user, query)
    for row in fresh:
        row["links"] = {"batches": list_url("ingest:batch_list", source=row["source"], kind=row["kind"]),
                        "failed": list_url("ingest:batch_list", source=row["source"], kind=row["kind"],
                                           status="failed")}
    quarantine = data_figures.open_quarantine(user, query)
    for row in quarantine:
        row["url"] = list_url("ingest:quarantinedrow_list", status=QuarantineStatus.OPEN, kind=row["kind"])
    return {"freshness": fresh, "months": data_figures.by_month(user, query), "quarantine": quarantine,
            # a region asked for leaves out the batches without one: the lists (all the person's batches) differ
            "exact": query.region is None}


class DataQualityView(FiguresPage):
    """Data freshness and quality over time (数据时效与质量)."""

    template_name = "analytics/data_quality.html"
    fields = ("start", "end", "region")

    def permission_name(self):
        return DATA_PERMISSION

    def figures(self, query):
        return data_quality_figures(self.request.user, query)

    def chart(self, figures, query):
        months = figures["months"]
        return {"quality": {"months": [f"{r['month']:%Y-%m}" for r in months],
                            "rows": [r["rows_read"] for r in months], "quarantined": [r["quarantined"] for r in months],
                            "share": [r["quarantine_share"] for r in months],
                            "rows_name": _("rows read"), "quarantined_name": _("rows quarantined"),
                            "share_name": _("quarantine share (%)")}}


