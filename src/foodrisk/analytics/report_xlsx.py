"""The XLSX of a statistical report: one sheet per chapter of the fixed layout, native Excel charts for the
grade distribution. Text is written as strings (never a formula), counts as numbers, so the totals can be
summed and checked in Excel."""

import io

from django.utils.translation import gettext as _

from .report_text import chapter_titles, grade_label, summary_lines

GRADES = ("A", "B", "C", "D")


def workbook(report, figures):
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})
    head = book.add_format({"bold": True, "bg_color": "#E7EEF7", "border": 1})
    cell = book.add_format({"border": 1})
    title = book.add_format({"bold": True, "font_size": 16})
    chapters = chapter_titles()

    def table(sheet, row, header, rows, widths=None):
        for c, text in enumerate(header):
            sheet.write_string(row, c, str(text), head)
        for r, values in enumerate(rows, start=row + 1):
            for c, value in enumerate(values):
                if value is None:
                    sheet.write_blank(r, c, None, cell)
                elif isinstance(value, str):
                    sheet.write_string(r, c, value, cell)
                else:
                    sheet.write_number(r, c, value, cell)
        for c, width in enumerate(widths or [14] * len(header)):
            sheet.set_column(c, c, width)
        return row + 1 + len(rows)

    # 摘要 (cover and summary)
    sheet = book.add_worksheet(_("Summary"))
    sheet.write_string(0, 0, report.title, title)
    sheet.write_string(1, 0, _("Period: %(start)s to %(end)s") % {"start": report.period_start,
                                                                  "end": report.period_end})
    sheet.write_string(2, 0, _("Generated: %(at)s (Beijing time)") % {"at": figures["generated_at"]})
    for n, line in enumerate(summary_lines(report, figures), start=4):
        sheet.write_string(n, 0, line)
    sheet.set_column(0, 0, 100)

    # 等级分布与变化
    sheet = book.add_worksheet(chapters["grades"])
    header = [_("month"), *[grade_label(g) for g in GRADES], _("total")]
    trend = figures["trend"]
    end = table(sheet, 0, header, [[r["month"], *[r[g] for g in GRADES], r["total"]] for r in trend],
                [12, 16, 16, 16, 16, 10])
    closing = figures["closing"]
    sheet.write_string(end + 1, 0, _("End of period"), head)
    for c, g in enumerate(GRADES, start=1):
        sheet.write_number(end + 1, c, closing[g], cell)
    sheet.write_number(end + 1, 5, closing["total"], cell)
    if trend:
        chart = book.add_chart({"type": "column", "subtype": "stacked"})
        colours = {"A": "#2e7d32", "B": "#1565c0", "C": "#ef6c00", "D": "#c62828"}
        for c, g in enumerate(GRADES, start=1):
            chart.add_series({"name": [sheet.name, 0, c], "categories": [sheet.name, 1, 0, len(trend), 0],
                              "values": [sheet.name, 1, c, len(trend), c], "fill": {"color": colours[g]}})
        chart.set_title({"name": _("Grades month by month")})
        chart.set_y_axis({"name": _("enterprises")})
        sheet.insert_chart(end + 3, 0, chart, {"x_scale": 1.3})
        pie = book.add_chart({"type": "pie"})
        pie.add_series({"name": _("End of period"), "categories": [sheet.name, 0, 1, 0, 4],
                        "values": [sheet.name, end + 1, 1, end + 1, 4], "data_labels": {"percentage": True},
                        "points": [{"fill": {"color": colours[g]}} for g in GRADES]})
        pie.set_title({"name": _("Grade distribution at the end of the period")})
        sheet.insert_chart(end + 3, 7, pie)
    changes = figures["changes"]
    sheet2 = book.add_worksheet(_("Grade changes"))
    table(sheet2, 0, [_("from grade"), *[_("to %(grade)s") % {"grade": g} for g in GRADES]],
          [[grade_label(m["from"]) if m["from"] else _("first grade"), *[m[g] for g in GRADES]]
           for m in changes["matrix"]], [18, 10, 10, 10, 10])
    sheet2.write_string(7, 0, _("Worse: %(worse)s, better: %(better)s, first graded: %(first)s") % changes)

    # 预警处置
    sheet = book.add_worksheet(chapters["alerts"])
    a = figures["alerts"]
    table(sheet, 0, [_("figure"), _("value")], [
        [_("warnings raised"), a["raised"]], [_("warnings confirmed"), a["confirmed"]],
        [_("warnings dismissed"), a["dismissed"]], [_("warnings closed"), a["closed"]],
        [_("days to close, median"), a["days_to_close_median"]],
        [_("days to close, 90th percentile"), a["days_to_close_p90"]]], [30, 14])

    # 监管成效
    sheet = book.add_worksheet(chapters["supervision"])
    s = figures["supervision"]
    end = table(sheet, 0, [_("grade"), _("enterprises (grade now)"), _("inspections (grade when inspected)"),
                           _("problems found"), _("problem-finding rate (%)")],
                [[grade_label(r["grade"]) if r["grade"] else _("not graded"), r["enterprises"], r["inspections"],
                  r["failed"], r["problem_rate"]] for r in s["by_grade"]], [24, 16, 22, 12, 18])
    table(sheet, end + 1, [_("figure"), _("value")], [
        [_("inspections"), s["inspections"]], [_("inspections with problems"), s["inspections_failed"]],
        [_("C/D enterprises"), s["cd_enterprises"]],
        [_("C/D enterprises inspected"), s["cd_inspected"]],
        [_("coverage of C/D enterprises (%)"), s["cd_coverage"]],
        [_("sampling tests"), s["sampling"]], [_("sampling tests failed"), s["sampling_failed"]],
        [_("penalties"), s["penalties"]], [_("fines (yuan)"), float(s["fines"])],
        [_("supervision tasks"), s["tasks"]], [_("tasks done"), s["tasks_done"]],
        [_("tasks overdue"), s["tasks_overdue"]],
        [_("credit repair applications"), s["repairs"]], [_("credit repairs approved"), s["repairs_approved"]]])

    # 附表
    sheet = book.add_worksheet(_("Annex - regions"))
    rows = [[r["code"], r["name"], *[r[g] for g in GRADES], r["total"]] for r in figures["regions"]]
    end = table(sheet, 0, [_("region code"), _("region"), *GRADES, _("total")], rows, [12, 30, 10, 10, 10, 10, 10])
    sheet.write_string(end, 1, _("Total"), head)
    for c in range(2, 7):
        sheet.write_number(end, c, sum(r[c] for r in rows), head)
    sheet = book.add_worksheet(_("Annex - high risk"))
    table(sheet, 0, [_("unified social credit code"), _("name"), _("region"), _("business form"), _("grade"),
                     _("risk score")],
          [[e["uscc"], e["name"], e["region"], e["business_form"], e["grade"], e["score"]] for e in figures["top"]],
          [22, 36, 30, 14, 8, 10])
    book.close()
    return buffer.getvalue()
