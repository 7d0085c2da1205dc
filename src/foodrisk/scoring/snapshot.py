"""Archive → engine snapshot (Arrow tables) for an as-of date and an optional enterprise subset.

No model instances: each table is one ORM-built `values_list` query (`sql_with_params`), so the
filters are the same on both databases.

* SQLite: executed on a raw cursor (Django's per-row converters skipped); columns are turned into Arrow
  arrays in bulk (dates arrive as ISO text, become date32).
* PostgreSQL: no Python rows at all. Each query runs as ``COPY (SELECT …) TO STDOUT (FORMAT csv)`` on
  Django's connection (so it sees the caller's transaction), and the CSV bytes are parsed by
  ``pyarrow.csv`` with the snapshot schema's column types, in blocks of ~32 MB (the CSV text is never
  held whole). The derived ``repaired`` flags: a penalty's own repair is computed in its SELECT; approved
  credit repairs are read once and matched to the records in Arrow — what the Python path does row by row.

Point in time: records dated after as-of are not read (the engine would ignore them anyway);
`repaired` is true only if the repair happened on or before as-of (Penalty.repaired_on, or an approved
CreditRepair decided by then).

`snapshot_at(as_of)` (``point_in_time=True``) also reconstructs the dated *state* columns for a past
as-of date, for model training and monitoring:

* licences.status: ``expired`` iff expires_on < as-of, else ``valid``; a stored ``revoked`` counts only
  from the date of the enterprise's licence-revoking penalty (before it the licence was valid/expired by
  its dates); a ``revoked`` without such a penalty, and ``cancelled``, have no date and stay as stored;
* penalties.repaired: as above (repaired_on ≤ as-of, or an approved credit repair decided by then);
* list_entries.repaired: an approved credit repair decided by as-of counts; the stored ``repaired`` flag
  has no date (ListEntry has no repair date) and is **current state** — a known, documented leak;
* enterprises.status: the archive keeps no status history, so a stored ``cancelled`` / ``revoked`` /
  ``suspended`` has no date. At a past as-of it counts only if the enterprise has no record dated after as-of:
  an inspection, a sampling test, a penalty or a complaint after as-of proves that it was still operating then
  (without this, every enterprise closed since would vanish from the training history and from a past
  window's ranking — a survivorship leak).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import BooleanField, Exists, ExpressionWrapper, F, FloatField, OuterRef, Q
from django.db.models.functions import Cast

from foodrisk.engine.schema import SCHEMAS
from foodrisk.enterprises.models import Enterprise, Licence
from foodrisk.records.models import Complaint, CreditRepair, Inspection, ListEntry, Penalty, SamplingTest

# above this many ids, read everything and filter in Arrow (no huge IN lists)
MAX_IN_LIST = 900


def _rows(qs, fields):
    try:
        sql, params = qs.values_list(*fields).query.sql_with_params()
    except EmptyResultSet:  # e.g. an empty id list
        return [[] for _ in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return [[] for _ in fields]
    return [list(col) for col in zip(*rows, strict=True)]


COPY_BLOCK_BYTES = 32 << 20  # CSV text parsed per block on PostgreSQL


def _copy_columns(qs, fields, types):
    """PostgreSQL: the query's rows as Arrow arrays (one per field, of the given Arrow types), read with
    COPY → CSV → pyarrow.csv. Blocks of CSV are parsed in a worker thread (pyarrow releases the GIL)
    while the next block is read. Empty text and NULL both become null for strings (as `_array` does)."""
    try:
        sql, params = qs.values_list(*fields).query.sql_with_params()
    except EmptyResultSet:
        return [pa.array([], t) for t in types]
    names = [f"c{i}" for i in range(len(types))]
    convert = pacsv.ConvertOptions(
        column_types=dict(zip(names, types, strict=True)), null_values=[""], strings_can_be_null=True,
        quoted_strings_can_be_null=True, true_values=["t"], false_values=["f"])
    read = pacsv.ReadOptions(column_names=names, use_threads=True, block_size=8 << 20)
    parse = pacsv.ParseOptions(newlines_in_values=True)

    def parse_block(data):
        return pacsv.read_csv(pa.BufferReader(pa.py_buffer(data)), read_options=read, parse_options=parse,
                              convert_options=convert)

    statement = f"COPY ({connection.ops.compose_sql(sql, params)}) TO STDOUT (FORMAT csv)"
    futures = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        buf = bytearray()
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            read_block = copy.read
            while data := read_block():
                buf += data
                if len(buf) >= COPY_BLOCK_BYTES:  # whole rows only: each COPY message is one row
                    futures.append(pool.submit(parse_block, buf))
                    buf = bytearray()
        if buf:
            futures.append(pool.submit(parse_block, buf))
        del buf
        batches = [f.result() for f in futures]
    if not batches:
        return [pa.array([], t) for t in types]
    table = pa.concat_tables(batches) if len(batches) > 1 else batches[0]
    return [table.column(i).combine_chunks() for i in range(len(types))]


def _pg_table(name, qs, fields):
    """PostgreSQL: a snapshot table straight from COPY (fields in the schema's column order)."""
    schema = pa.schema(list(SCHEMAS[name])[:len(fields)])  # enterprises: food_categories is added afterwards
    return pa.Table.from_arrays(_copy_columns(qs, fields, schema.types), schema=schema)


def _array(values, typ):
    if pa.types.is_date(typ):
        sample = next((v for v in values if v is not None), None)
        if isinstance(sample, str):
            return pa.array(values, pa.string()).cast(typ)
        return pa.array(values, typ)
    if pa.types.is_boolean(typ):
        return pa.array([None if v is None else bool(v) for v in values], typ)
    if pa.types.is_floating(typ):
        return pa.array([None if v is None else float(v) for v in values], typ)
    if pa.types.is_string(typ):
        arr = pa.array(values, pa.string())
        # blank enumerations ("" scale) are missing values for the engine
        return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr) if len(arr) else arr
    return pa.array(values, typ)


def _table(name, columns):
    schema = pa.schema([f for f in SCHEMAS[name] if f.name in columns])  # enterprises: food_categories later
    arrays = [_array(columns[f.name], f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _subset(qs, enterprise_ids, field="enterprise_id"):
    if enterprise_ids is not None and len(enterprise_ids) <= MAX_IN_LIST:
        return qs.filter(**{f"{field}__in": list(enterprise_ids)})
    return qs


def _repaired_targets(as_of, enterprise_ids):
    qs = CreditRepair.objects.filter(decision="approved", decided_on__lte=as_of)
    ent, kind, target = _rows(_subset(qs, enterprise_ids), ["enterprise_id", "target_kind", "target_no"])
    return set(zip(ent, kind, target, strict=True))


SIMPLE = {
    "licences": (Licence, "issued_on", ["kind", "issued_on", "expires_on", "status"]),
    "inspections": (Inspection, "inspected_on", ["inspected_on", "kind", "result", "key_items_failed",
                                                 "general_items_failed", "rectification_ordered"]),
    "sampling_tests": (SamplingTest, "sampled_on", ["sampled_on", "level", "result"]),
    "complaints": (Complaint, "received_on", ["received_on", "channel", "verified"]),
}


def snapshot_at(as_of: date, enterprise_ids=None) -> dict[str, pa.Table]:
    """Point-in-time snapshot provider for the model (``build_dataset(snapshot_at, …)``)."""
    return build_snapshot(as_of, enterprise_ids, point_in_time=True)


def _licence_status_at(as_of, ent, expires, status, ids):
    """Licence status at as-of from its dates (see the module docstring)."""
    qs = _subset(Penalty.objects.order_by().filter(licence_revoked=True), ids)
    pen_ent, pen_on = _rows(qs, ["enterprise_id", "decided_on"])
    first_revoked = {}
    for e, on in zip(pen_ent, pen_on, strict=True):
        on = str(on)
        if e not in first_revoked or on < first_revoked[e]:
            first_revoked[e] = on
    a = as_of.isoformat()
    out = []
    for e, exp, st in zip(ent, expires, status, strict=True):
        by_date = "expired" if exp is not None and str(exp) < a else "valid"
        if st == "revoked":
            rev_on = first_revoked.get(e)
            out.append("revoked" if rev_on is None or rev_on <= a else by_date)
        elif st == "cancelled":
            out.append(st)
        else:
            out.append(by_date)
    return out


def build_snapshot(as_of: date, enterprise_ids=None, *, point_in_time=False) -> dict[str, pa.Table]:
    """The engine's snapshot tables (docs/data-formats.md) read from the archive.

    ``point_in_time`` reconstructs the licence status at as-of from dates (see the module docstring);
    without it the stored (current) status is used, as published scoring always has."""
    ids = None if enterprise_ids is None else sorted(set(enterprise_ids))
    if connection.vendor == "postgresql":
        tables = _build_pg(as_of, ids, point_in_time)
    else:
        tables = _build_rows(as_of, ids, point_in_time)
    tables["enterprises"] = _with_food_categories(tables["enterprises"], ids)
    if point_in_time:
        tables["enterprises"] = _status_at(tables["enterprises"], as_of, ids)
    if ids is not None and len(ids) > MAX_IN_LIST:
        keep = pa.array(ids, pa.int64())
        tables = {k: t.filter(pc.is_in(t["enterprise_id"], value_set=keep)) for k, t in tables.items()}
    return tables


def _with_food_categories(ents, ids):
    """The enterprises table with ``food_categories`` ("；"-joined, the model's food-category features): read
    as JSON lists through the ORM, only for enterprises that have any (most rows of a big city add nothing)."""
    qs = _subset(Enterprise.objects.order_by().exclude(food_categories=[]), ids, "id")
    cats = {pk: "；".join(str(c) for c in v) for pk, v in qs.values_list("id", "food_categories") if v}
    col = pa.array([cats.get(e) for e in ents["enterprise_id"].to_pylist()], pa.string()) if cats else \
        pa.nulls(ents.num_rows, pa.string())
    if "food_categories" in ents.schema.names:
        return ents.set_column(ents.schema.get_field_index("food_categories"), "food_categories", col)
    return ents.append_column("food_categories", col)


def _status_at(ents, as_of, ids):
    """The enterprises table with the status at a past as-of (see the module docstring)."""
    later = [Exists(model.objects.filter(enterprise_id=OuterRef("pk"), **{f"{field}__gt": as_of}))
             for model, field in ((Inspection, "inspected_on"), (SamplingTest, "sampled_on"),
                                  (Penalty, "decided_on"), (Complaint, "received_on"))]
    qs = _subset(Enterprise.objects.order_by().exclude(status="active"), ids, "id").filter(
        later[0] | later[1] | later[2] | later[3])
    (operating,) = _rows(qs, ["id"])
    if not operating:
        return ents
    i = ents.schema.get_field_index("status")
    mask = pc.is_in(ents["enterprise_id"], value_set=pa.array(operating, pa.int64()))
    return ents.set_column(i, "status", pc.if_else(mask, "active", ents["status"]))


ENT_FIELDS = ["id", "uscc", "business_form", "scale", "region_id", "status", "static_tier", "established_on",
              "key_supervision"]


def _keys(ent, *parts):
    """"<enterprise_id>|<part>…" strings: the (enterprise, target) keys of credit repairs, in Arrow."""
    return pc.binary_join_element_wise(pc.cast(ent, pa.string()), *parts, "|")


def _repaired_by_credit_repair(repairs, kind, ent, target):
    """Per record: is (enterprise, kind, target) an approved credit repair (the Python path's `repairs`)?"""
    mask = pc.equal(repairs["kind"], kind)
    keys = _keys(pc.filter(repairs["ent"], mask), pc.filter(repairs["target"], mask))
    return pc.fill_null(pc.is_in(_keys(ent, target), value_set=keys), False)


def _build_pg(as_of, ids, point_in_time):
    """PostgreSQL: every table by COPY into Arrow; same rows and values as `_build_rows`."""
    tables = {"enterprises": _pg_table("enterprises", _subset(Enterprise.objects.order_by(), ids, "id"),
                                       ENT_FIELDS)}
    for name, (model, date_field, fields) in SIMPLE.items():
        qs = _subset(model.objects.order_by().filter(**{f"{date_field}__lte": as_of}), ids)
        table = _pg_table(name, qs, ["enterprise_id", *fields])
        if name == "licences" and point_in_time:  # one row per licence: the Python rule is cheap enough
            cols = {f: table[f].to_pylist() for f in ("enterprise_id", "expires_on", "status")}
            status = _licence_status_at(as_of, cols["enterprise_id"], cols["expires_on"], cols["status"], ids)
            table = table.set_column(table.schema.get_field_index("status"), "status", pa.array(status, pa.string()))
        tables[name] = table

    # approved credit repairs decided by as-of (few rows), matched to records in Arrow
    qs = _subset(CreditRepair.objects.order_by().filter(decision="approved", decided_on__lte=as_of), ids)
    ent, kind, target = _copy_columns(qs, ["enterprise_id", "target_kind", "target_no"],
                                      [pa.int64(), pa.string(), pa.string()])
    repairs = {"ent": ent, "kind": pc.fill_null(kind, ""), "target": pc.fill_null(target, "")}

    own = ExpressionWrapper(Q(repaired=True) & (Q(repaired_on__isnull=True) | Q(repaired_on__lte=as_of)),
                            output_field=BooleanField())
    qs = _subset(Penalty.objects.order_by().filter(decided_on__lte=as_of), ids).annotate(
        fine_f=Cast(F("fine"), FloatField()), conf_f=Cast(F("confiscation"), FloatField()), own_f=own)
    schema = SCHEMAS["penalties"]
    *cols, own_rep, dec_no = _copy_columns(
        qs, ["enterprise_id", "decided_on", "severity", "violation_type", "fine_f", "conf_f", "licence_revoked",
             "own_f", "decision_no"], [*schema.types, pa.string()])
    rep = pc.or_(own_rep, _repaired_by_credit_repair(repairs, "penalties", cols[0], pc.fill_null(dec_no, "")))
    tables["penalties"] = pa.Table.from_arrays([*cols, rep], schema=schema)

    qs = _subset(ListEntry.objects.order_by().filter(listed_on__lte=as_of), ids)
    schema = SCHEMAS["list_entries"]
    *cols, flag, key = _copy_columns(qs, ["enterprise_id", "list_kind", "listed_on", "removed_on", "repaired",
                                          "entry_key"], [*schema.types, pa.string()])
    ent, list_kind, listed = cols[0], pc.fill_null(cols[1], ""), cols[2]
    by_date = pc.binary_join_element_wise(list_kind, pc.cast(listed, pa.string()), ":")
    rep = pc.or_(pc.or_(pc.fill_null(flag, False),
                        _repaired_by_credit_repair(repairs, "list_entries", ent, pc.fill_null(key, ""))),
                 _repaired_by_credit_repair(repairs, "list_entries", ent, by_date))
    tables["list_entries"] = pa.Table.from_arrays([*cols, rep], schema=schema)
    return tables


def _build_rows(as_of, ids, point_in_time):
    """SQLite (and any other backend): rows through a raw cursor, columns to Arrow in bulk."""
    tables = {}

    cols = _rows(_subset(Enterprise.objects.order_by(), ids, "id"), ENT_FIELDS)
    tables["enterprises"] = _table("enterprises", dict(zip(
        ["enterprise_id", "uscc", "business_form", "scale", "region_code", "status", "static_tier",
         "established_on", "key_supervision"], cols, strict=True)))

    for name, (model, date_field, fields) in SIMPLE.items():
        qs = _subset(model.objects.order_by().filter(**{f"{date_field}__lte": as_of}), ids)
        cols = _rows(qs, ["enterprise_id", *fields])
        columns = dict(zip(["enterprise_id", *fields], cols, strict=True))
        if name == "licences" and point_in_time:
            columns["status"] = _licence_status_at(as_of, columns["enterprise_id"], columns["expires_on"],
                                                   columns["status"], ids)
        tables[name] = _table(name, columns)

    repairs = _repaired_targets(as_of, ids)

    qs = _subset(Penalty.objects.order_by().filter(decided_on__lte=as_of), ids).annotate(
        fine_f=Cast(F("fine"), FloatField()), conf_f=Cast(F("confiscation"), FloatField()))
    ent, dec_on, sev, vt, fine, conf, revoked, repaired, rep_on, dec_no = _rows(
        qs, ["enterprise_id", "decided_on", "severity", "violation_type", "fine_f", "conf_f", "licence_revoked",
             "repaired", "repaired_on", "decision_no"])
    as_of_iso = as_of.isoformat()
    rep = []
    for e, flag, on, no in zip(ent, repaired, rep_on, dec_no, strict=True):
        ok = bool(flag) and (on is None or str(on) <= as_of_iso)
        rep.append(ok or (e, "penalties", no) in repairs)
    tables["penalties"] = _table("penalties", {
        "enterprise_id": ent, "decided_on": dec_on, "severity": sev, "violation_type": vt, "fine": fine,
        "confiscation": conf, "licence_revoked": revoked, "repaired": rep})

    qs = _subset(ListEntry.objects.order_by().filter(listed_on__lte=as_of), ids)
    ent, kind, listed, removed, repaired, key = _rows(
        qs, ["enterprise_id", "list_kind", "listed_on", "removed_on", "repaired", "entry_key"])
    rep = [bool(flag) or (e, "list_entries", k) in repairs or (e, "list_entries", f"{lk}:{lo}") in repairs
           for e, flag, k, lk, lo in zip(ent, repaired, key, kind, listed, strict=True)]
    tables["list_entries"] = _table("list_entries", {
        "enterprise_id": ent, "list_kind": kind, "listed_on": listed, "removed_on": removed, "repaired": rep})

    return tables
