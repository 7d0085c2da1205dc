"""The words of a statistical report shared by its XLSX and its PDF: chapter titles and the summary."""

from django.utils.translation import gettext as _

from foodrisk.enterprises.choices import Grade


def chapter_titles():
    return {"cover": _("Cover"), "summary": _("Summary"), "grades": _("Grade distribution and changes"),
            "alerts": _("Warning handling"), "supervision": _("Supervision effectiveness"), "annex": _("Annex")}


def grade_label(grade):
    return str(dict(Grade.choices).get(grade, grade or "—"))


def _share(n, total):
    return f"{100 * n / total:.1f}%" if total else "—"


def summary_lines(report, figures):
    """The summary chapter: a few sentences a leader reads first."""
    closing, opening = figures["closing"], figures["opening"]
    total = closing["total"]
    lines = [_("At the end of the period %(total)s enterprises were graded: A %(A)s, B %(B)s, C %(C)s, D %(D)s.")
             % closing]
    if total:
        lines.append(_("Higher and high risk (C and D) make up %(share)s of the graded enterprises.")
                     % {"share": _share(closing["C"] + closing["D"], total)})
    if opening["total"]:
        diff = (closing["C"] + closing["D"]) - (opening["C"] + opening["D"])
        lines.append(_("Compared with the start of the period, C and D enterprises changed by %(diff)+d.")
                     % {"diff": diff})
    c = figures["changes"]
    lines.append(_("Grade changes in the period: %(total)s (worse %(worse)s, better %(better)s, first graded "
                   "%(first)s).") % c)
    a = figures["alerts"]
    line = _("Warnings: %(raised)s raised, %(confirmed)s confirmed, %(dismissed)s dismissed, %(closed)s closed.") % a
    if a["days_to_close_median"] is not None:
        line += _(" Median days to close: %(days)s.") % {"days": a["days_to_close_median"]}
    lines.append(line)
    s = figures["supervision"]
    lines.append(_("Supervision: %(inspections)s inspections (%(failed)s with problems), %(penalties)s penalties, "
                   "%(tasks)s tasks (%(done)s done).") % {
        "inspections": s["inspections"], "failed": s["inspections_failed"], "penalties": s["penalties"],
        "tasks": s["tasks"], "done": s["tasks_done"]})
    if s["cd_coverage"] is not None:
        lines.append(_("%(share)s%% of the enterprises graded C or D now were inspected in the period.")
                     % {"share": s["cd_coverage"]})
    if report.topic:
        lines.insert(0, _("Topic: %(topic)s.") % {"topic": report.topic})
    return lines
