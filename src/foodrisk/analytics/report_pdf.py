"""The PDF of a statistical report (fixed Chinese layout: 封面、摘要、等级分布与变化、预警处置、监管成效、附表) and
the inline SVG charts it draws (no script, no fetched resource)."""

from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe

from . import pdf
from .report_text import chapter_titles, grade_label, summary_lines

GRADES = ("A", "B", "C", "D")
COLOURS = {"A": "#2e7d32", "B": "#1565c0", "C": "#ef6c00", "D": "#c62828"}


def stacked_bars(trend, width=640, height=220):
    """Grades month by month as stacked columns, with a legend."""
    if not trend:
        return ""
    top = max((r["total"] for r in trend), default=0) or 1
    left, bottom, plot_h = 40, 30, height - 60
    step = (width - left - 10) / len(trend)
    bar = min(48.0, max(4.0, step * 0.6))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-size="10">',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - 5}" y2="{height - bottom}" stroke="#888"/>',
             f'<text x="{left - 4}" y="{height - bottom - plot_h + 4}" text-anchor="end">{top}</text>',
             f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end">0</text>']
    for i, row in enumerate(trend):
        x = left + i * step + (step - bar) / 2
        y = height - bottom
        for g in GRADES:
            h = plot_h * row[g] / top
            if h > 0:
                y -= h
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                             f'fill="{COLOURS[g]}"/>')
        if len(trend) <= 13 or i % 3 == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 12}" text-anchor="middle">'
                         f'{escape(row["month"])}</text>')
    for n, g in enumerate(GRADES):
        parts.append(f'<rect x="{left + n * 70}" y="4" width="10" height="10" fill="{COLOURS[g]}"/>'
                     f'<text x="{left + n * 70 + 14}" y="13">{g}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def share_bar(counts, width=640, height=26):
    """One bar split by grade (the distribution at the end of the period)."""
    total = sum(counts[g] for g in GRADES)
    if not total:
        return ""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-size="11">']
    x = 0.0
    for g in GRADES:
        w = width * counts[g] / total
        if w > 0:
            parts.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{height}" fill="{COLOURS[g]}"/>')
            if w > 40:
                parts.append(f'<text x="{x + w / 2:.1f}" y="{height / 2 + 4}" fill="#fff" text-anchor="middle">'
                             f'{g} {100 * counts[g] / total:.0f}%</text>')
        x += w
    parts.append("</svg>")
    return mark_safe("".join(parts))


def context(report, figures):
    supervision = dict(figures["supervision"])
    supervision["by_grade"] = [{**r, "label": grade_label(r["grade"]) if r["grade"] else None}
                               for r in supervision["by_grade"]]
    changes = dict(figures["changes"])
    changes["matrix"] = [{**m, "label": grade_label(m["from"]) if m["from"] else None,
                          "cells": [m[g] for g in GRADES]} for m in changes["matrix"]]
    regions = figures["regions"]
    return {
        "report": report, "f": figures, "chapters": chapter_titles(), "summary": summary_lines(report, figures),
        "grades": GRADES, "grade_rows": [(g, grade_label(g), figures["opening"][g], figures["closing"][g],
                                         figures["closing"][g] - figures["opening"][g]) for g in GRADES],
        "trend_rows": [(r["month"], [r[g] for g in GRADES], r["total"]) for r in figures["trend"]],
        "region_rows": [(r["code"], r["name"], [r[g] for g in GRADES], r["total"]) for r in regions],
        "region_totals": [sum(r[g] for r in regions) for g in (*GRADES, "total")],
        "changes": changes, "supervision": supervision,
        "trend_chart": stacked_bars(figures["trend"]), "share_chart": share_bar(figures["closing"]),
        "font_family": mark_safe(pdf.font_stack()),
    }


def render(report, figures):
    html = render_to_string("analytics/reports/report_pdf.html", context(report, figures))
    return pdf.render_html(html)
