"""Files out and quality: import templates, quarantine workbooks (and a corrected one uploaded back), the
quality overview over batches."""

from django.utils.translation import gettext as _

from foodrisk.core import bulk

from .. import mapping, readers
from ..models import QualitySnapshot
from . import IngestError
from .pipeline import blank_row, cell_text
from .quarantine import resubmit_many, shown


def template_xlsx(kind):
    from foodrisk.core.spreadsheets import xlsx_bytes

    headers = [h for _f, h, _t, _r in mapping.TEMPLATE_FIELDS[kind]]
    return xlsx_bytes([headers], sheet=mapping.KIND_LABELS[kind])


QUARANTINE_ID_HEADER = "隔离编号"
REASONS_HEADER = "问题原因"


def quarantine_xlsx(rows):
    """Quarantined rows as a workbook: id, reasons, then the original columns (edit and upload back)."""
    from foodrisk.core.spreadsheets import xlsx_bytes

    return xlsx_bytes(quarantine_rows(rows), sheet="quarantine")


def quarantine_rows(rows):
    rows = list(rows)
    headers = []
    for q in rows:
        for h in q.corrected_data or q.raw_data:
            if h not in headers:
                headers.append(h)
    out = [[QUARANTINE_ID_HEADER, REASONS_HEADER, *headers]]
    for q in rows:
        data = shown(q.corrected_data or q.raw_data)  # sensitive cells masked; kept when sent back unchanged
        out.append([q.pk, "；".join(q.reason_labels), *[data.get(h, "") for h in headers]])
    return out


def resubmit_workbook(content, file_name, queryset, *, user=None):
    """Upload a corrected quarantine workbook: every row naming an open quarantined row in `queryset`
    (the user's scope) is resubmitted. Returns {"fixed": n, "still_failing": n, "skipped": n}."""
    try:
        table = readers.read_bytes(content, file_name)
    except readers.UnreadableFile as exc:
        raise IngestError(str(exc)) from None
    if QUARANTINE_ID_HEADER not in table.headers:
        raise IngestError(_("The workbook has no %(column)s column: upload the quarantine workbook downloaded from "
                            "this system.") % {"column": QUARANTINE_ID_HEADER})
    id_col = table.headers.index(QUARANTINE_ID_HEADER)
    data_cols = [(i, h) for i, h in enumerate(table.headers) if h and h not in (QUARANTINE_ID_HEADER, REASONS_HEADER)]
    wanted = {}
    for cells in table.rows:
        if blank_row(cells):
            continue
        try:
            pk = int(float(cells[id_col]))
        except (TypeError, ValueError, IndexError):
            continue
        wanted[pk] = {h: cell_text(cells[i]) if i < len(cells) else "" for i, h in data_cols}
    qrows = {q.pk: q for q in bulk.key_filter(queryset.filter(status="open"), "id", list(wanted))
             .select_related("batch", "batch__source")}
    pairs = [(qrows[pk], data) for pk, data in wanted.items() if pk in qrows]
    outcomes = resubmit_many(pairs, user=user)
    fixed = sum(1 for o in outcomes if o.status != "quarantined")
    return {"fixed": fixed, "still_failing": len(outcomes) - fixed, "skipped": len(wanted) - len(pairs)}



def quality_overview(batches):
    """Pass rate per key field over the given batches, findings by reason code, and a trend series."""
    fields, codes, trend = {}, {}, []
    snaps = QualitySnapshot.objects.filter(batch__in=batches).select_related("batch").order_by("batch__created_at",
                                                                                               "batch_id")
    for snap in snaps:
        for f, st in snap.field_stats.items():
            agg = fields.setdefault(f, {"checked": 0, "failed": 0})
            agg["checked"] += st["checked"]
            agg["failed"] += st["failed"]
        for code, n in snap.reason_counts.items():
            codes[code] = codes.get(code, 0) + n
        trend.append({"batch": snap.batch_id, "label": f"#{snap.batch_id}", "pass_rate": snap.pass_rate,
                      "kind": snap.kind})
    for agg in fields.values():
        agg["pass_rate"] = round(1 - agg["failed"] / agg["checked"], 6) if agg["checked"] else 1.0
    return {"fields": dict(sorted(fields.items())), "reason_codes": dict(sorted(codes.items(), key=lambda kv: -kv[1])),
            "trend": trend}
