"""Bulk insert-or-update by a unique key (and plain bulk insert), fast on PostgreSQL.

`upsert(model, rows, key, update_fields)` stores the same values as
``model.objects.bulk_create([model(**row) …], update_conflicts=True, unique_fields=[key], update_fields=…)``:

- PostgreSQL: the rows are COPYed into a temporary table shaped like the target
  (``CREATE TEMP TABLE … (LIKE target INCLUDING DEFAULTS) ON COMMIT DROP``), then one
  ``INSERT … SELECT … ON CONFLICT (key) DO UPDATE SET col = EXCLUDED.col …`` moves them in.
  Values are prepared by each field (``get_db_prep_save``: encrypted fields encrypt, JSON fields are
  dumped with the field's encoder); plain values of the field's own type (str, int, date, Decimal …)
  need no preparation and pass straight through. ``auto_now``/``auto_now_add`` fields are set to the
  same "now" as the ORM would; a field left out of update_fields (e.g. ``first_seen_at``) keeps its
  stored value on conflict.
- SQLite: one ``executemany`` of ``INSERT … ON CONFLICT (key) DO UPDATE`` with the same prepared values
  (Django's text forms of dates, datetimes and decimals), which is what ``bulk_create`` sends, minus a model
  instance per row. Other databases: ``bulk_create`` itself.

rows are dicts keyed by field name or attname (``region`` with a model instance, or ``region_id``); a field a
row leaves out gets the model default, as ``model(**row)`` would. When a key appears more than once the last
row wins (one statement cannot update a row twice).
"""

import datetime as dt
import itertools
import json
from decimal import Decimal

from django.db import IntegrityError, connections, models, router, transaction
from django.utils import timezone

_SEQ = itertools.count(1)
_PLANS = {}
_NAMES = {}

# field classes whose database value is the Python value itself when it already has the right type
_PASS_TYPES = [
    (models.BooleanField, (bool,)),
    (models.DecimalField, (Decimal,)),
    (models.DateTimeField, (dt.datetime,)),  # before DateField (a subclass)
    (models.DateField, (dt.date,)),
    (models.FloatField, (float,)),
    (models.IntegerField, (int,)),  # Small/Positive/Big… are subclasses; bool is caught by its own type check
    (models.CharField, (str,)),
    (models.TextField, (str,)),
]


_ADAPTED = {dt.datetime, dt.date, Decimal}


class _Column:
    __slots__ = ("field", "name", "attname", "column", "default", "auto", "prep", "pass_types")

    def __init__(self, field, connection):
        self.field = field
        self.name, self.attname, self.column = field.name, field.attname, field.column
        self.auto = bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))
        self.default = field.get_default  # what model(**row) puts in a field the row leaves out
        self.prep = None  # None: value as is
        self.pass_types = ()
        if isinstance(field, models.JSONField):
            self.prep = _json_dumper(field)
        elif field.is_relation:
            target = field.target_field
            self.pass_types = (int,) if isinstance(target, models.IntegerField) else (str,) if isinstance(
                target, (models.CharField, models.TextField)) else ()
            self.prep = lambda value, f=field, c=connection: f.get_db_prep_save(value, c)
        elif type(field).get_prep_value is not _base_prep(field):
            # a field with its own preparation (e.g. EncryptedTextField): always ask it
            self.prep = lambda value, f=field, c=connection: f.get_db_prep_save(value, c)
        else:
            for cls, types in _PASS_TYPES:
                if isinstance(field, cls):
                    # psycopg adapts dates, datetimes and Decimals itself; sqlite3 needs Django's text forms
                    native = connection.vendor == "postgresql" or not _ADAPTED.intersection(types)
                    self.pass_types = types if native else ()
                    break
            self.prep = lambda value, f=field, c=connection: f.get_db_prep_save(value, c)

    def now(self, now):
        """The database value of "now" for an auto_now(_add) column."""
        return now if type(now) in self.pass_types else self.prep(now)

    def value(self, row, now):
        """The database value of this column for one row."""
        return self.values([row], now)[0]

    def values(self, rows, now):
        """The database values of this column for all rows (column-wise: the per-value work is skipped when
        every value already has the field's own type)."""
        if self.auto:
            return [now] * len(rows)
        attname, name = self.attname, self.name
        values = [row.get(attname, _MISSING) for row in rows]
        if _MISSING in values:
            default, relation = self.default, self.field.is_relation
            for i, value in enumerate(values):
                if value is _MISSING:
                    row = rows[i]
                    if name in row:
                        value = row[name]
                        if relation and isinstance(value, models.Model):
                            value = getattr(value, self.field.target_field.attname)
                    else:
                        value = default()
                    values[i] = value
        types = set(map(type, values))
        types.discard(type(None))
        if types.issubset(self.pass_types):
            return values
        prep, pass_types = self.prep, self.pass_types
        return [value if value is None or type(value) in pass_types else prep(value) for value in values]


_MISSING = object()  # a plain object: `in` compares it in C, by identity


def _check_names(model, rows, extra):
    """A key that names no field fails as it would in model(**row)."""
    names = _NAMES.get(model)
    if names is None:
        names = _NAMES[model] = frozenset(itertools.chain.from_iterable(
            (f.name, f.attname) for f in model._meta.concrete_fields))
    unknown = set().union(*rows).union(extra or ()) - names
    if unknown:
        raise TypeError(f"{model.__name__}() got unexpected keyword arguments: {', '.join(sorted(unknown))}")


def _base_prep(field):
    """The get_prep_value of the nearest built-in Django field class above the field's class."""
    for cls in type(field).__mro__:
        if cls.__module__.startswith("django.db.models"):
            return cls.get_prep_value
    return models.Field.get_prep_value


def _json_dumper(field):
    encoder = field.encoder

    def dump(value):
        value = field.get_prep_value(value)
        return json.dumps(value, cls=encoder) if encoder else json.dumps(value)

    return dump


def _plan(model, connection):
    key = (model, connection.alias)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = [_Column(f, connection) for f in model._meta.concrete_fields if not f.primary_key]
    return plan


def _start(model, rows, extra, using):
    """(rows as a list, the connection to write with); a key that names no field fails here."""
    rows = rows if isinstance(rows, list) else list(rows)
    connection = connections[using or router.db_for_write(model)]
    if rows:
        _check_names(model, rows, extra)
    return rows, connection


def upsert(model, rows, key, update_fields, *, extra=None, using=None, batch_size=2000, new_keys=()):
    """Insert rows, updating update_fields of those whose `key` (a unique field's name) already exists.
    extra: values every row gets (e.g. lineage), as ``model(**row, **extra)``. Returns the number of rows.
    new_keys: keys the caller has just found absent; on PostgreSQL their rows are COPYed straight into the table
    (no conflict handling needed, ~2× faster), falling back to the upsert if one appeared meanwhile."""
    rows, connection = _start(model, rows, extra, using)
    if not rows:
        return 0
    using = connection.alias
    if connection.vendor == "sqlite":
        return _upsert_sqlite(model, rows, key, update_fields, extra or {}, connection)
    if connection.vendor != "postgresql":
        extra = extra or {}
        objs = [model(**row, **extra) for row in rows]
        model.objects.using(using).bulk_create(objs, batch_size=batch_size, update_conflicts=True,
                                               unique_fields=[key], update_fields=list(update_fields))
        return len(objs)
    known = rows
    if new_keys:
        new_keys = new_keys if isinstance(new_keys, (set, frozenset, dict)) else set(new_keys)
        fresh, known = [], []
        for row in rows:
            (fresh if row[key] in new_keys else known).append(row)
        if fresh:
            try:
                with transaction.atomic(using=using):  # a savepoint: a key inserted meanwhile undoes only this
                    _copy_postgresql(model, fresh, key, extra or {}, connection)
            except IntegrityError:
                known = rows
    if known:
        _upsert_postgresql(model, known, key, update_fields, extra or {}, connection)
    return len(rows)  # the copied rows count too


def _copy_postgresql(model, rows, key, extra, connection):
    columns, values = prepared_rows(model, rows, key, extra=extra, connection=connection)
    # wrap_database_errors: a duplicate key raises Django's IntegrityError, as through the ORM
    with connection.wrap_database_errors, connection.cursor() as cursor:
        copy_rows(cursor, model, model._meta.db_table, values)


_PG_COPY_TYPES = {"integer": "int4", "bigint": "int8", "smallint": "int2", "boolean": "bool", "double precision": "float8",
                  "real": "float4", "timestamp with time zone": "timestamptz", "date": "date", "text": "text",
                  "varchar": "varchar", "numeric": "numeric", "jsonb": "jsonb"}
_COPY_TYPES = {}


def _copy_types(model, connection):
    """The PostgreSQL type of each plan column for a binary COPY, or None (then COPY as text)."""
    key = (model, connection.alias)
    if key not in _COPY_TYPES:
        names = [_PG_COPY_TYPES.get((c.field.db_type(connection) or "").split("(")[0].strip().lower())
                 for c in _plan(model, connection)]
        _COPY_TYPES[key] = None if None in names else names
    return _COPY_TYPES[key]


def _json_text(value):
    return value  # JSON columns arrive already dumped by the field's own encoder (_json_dumper)


def copy_rows(cursor, model, table, values):
    """COPY value tuples (in _plan column order) into table (the model's or one shaped like it). Binary when
    every column's type is known: ~6× less client CPU than text, and less parsing for the server."""
    from psycopg.types.json import set_json_dumps

    connection = cursor.db
    qn = connection.ops.quote_name
    plan = _plan(model, connection)
    types = _copy_types(model, connection)
    cols = ", ".join(qn(c.column) for c in plan)
    raw = cursor.cursor  # psycopg's own cursor under Django's wrapper
    if types is not None:
        set_json_dumps(_json_text, context=raw)
    with raw.copy(f"COPY {qn(table)} ({cols}) FROM STDIN" + (" (FORMAT BINARY)" if types else "")) as copy:
        if types is not None:
            copy.set_types(types)
        write = copy.write_row
        for value in values:
            write(value)


def insert(model, rows, *, using=None, batch_size=2000):
    """Insert rows (dicts as for `upsert`, no key): ``bulk_create`` of ``model(**row)`` … in effect; COPY on
    PostgreSQL. Returns the number of rows."""
    rows, connection = _start(model, rows, None, using)
    if not rows:
        return 0
    using = connection.alias
    if connection.vendor not in ("postgresql", "sqlite"):
        model.objects.using(using).bulk_create([model(**row) for row in rows], batch_size=batch_size)
        return len(rows)
    qn = connection.ops.quote_name
    plan = _plan(model, connection)
    now = timezone.now()
    columns = [itertools.repeat(c.now(now)) if c.auto else c.values(rows, now) for c in plan]
    cols = ", ".join(qn(c.column) for c in plan)
    if connection.vendor == "sqlite":
        sql = f"INSERT INTO {qn(model._meta.db_table)} ({cols}) VALUES ({', '.join(['%s'] * len(plan))})"
        with transaction.atomic(using=using, savepoint=False), connection.cursor() as cursor:
            cursor.executemany(sql, list(zip(*columns, strict=False)))
        return len(rows)
    with transaction.atomic(using=using, savepoint=False), connection.cursor() as cursor:
        # the repeat() columns are endless, the others as long as rows
        copy_rows(cursor, model, model._meta.db_table, zip(*columns, strict=False))
    return len(rows)


def update(model, objs, fields, *, using=None):
    """Save `fields` of these stored instances, as ``bulk_update`` does, without its CASE expression per row
    and per field (seconds for a few thousand rows): one UPDATE … WHERE pk = %s sent for all of them
    (psycopg pipelines executemany). Values are read as they are: an auto_now field is not touched unless
    listed and set by the caller. Returns the number of rows."""
    objs = objs if isinstance(objs, list) else list(objs)
    if not objs:
        return 0
    connection = connections[using or router.db_for_write(model)]
    qn = connection.ops.quote_name
    opts = model._meta
    columns = [opts.get_field(name) for name in fields]
    sets = ", ".join(f"{qn(f.column)} = %s" for f in columns)
    sql = f"UPDATE {qn(opts.db_table)} SET {sets} WHERE {qn(opts.pk.column)} = %s"
    params = [[f.get_db_prep_save(getattr(obj, f.attname), connection) for f in columns] + [obj.pk] for obj in objs]
    with transaction.atomic(using=connection.alias, savepoint=False), connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(objs)


def prepared_rows(model, rows, key, *, extra=None, connection=None, now=None):
    """(columns, value tuples) as the PostgreSQL path writes them: one tuple per distinct key, the last wins."""
    connection = connection or connections[router.db_for_write(model)]
    plan = _plan(model, connection)
    now = now or timezone.now()
    extra = extra or {}
    key_col = model._meta.get_field(key)
    key_index = next(i for i, c in enumerate(plan) if c.field is key_col)
    # columns the same for every row (auto_now, extra) are prepared once, the others column by column
    columns = []
    for c in plan:
        if c.auto:
            columns.append(itertools.repeat(c.now(now)))
        elif c.name in extra or c.attname in extra:
            columns.append(itertools.repeat(c.value(extra, now)))
        else:
            columns.append(c.values(rows, now))
    keys = columns[key_index]
    out = dict(zip(keys, zip(*columns, strict=False), strict=False))  # repeat() columns are endless; last row wins
    return [c.column for c in plan], list(out.values())


def _upsert_sqlite(model, rows, key, update_fields, extra, connection):
    """One executemany of INSERT … ON CONFLICT (key) DO UPDATE: what bulk_create(update_conflicts=True) sends,
    without building a model instance per row."""
    qn = connection.ops.quote_name
    opts = model._meta
    columns, values = prepared_rows(model, rows, key, extra=extra, connection=connection)
    updates = [opts.get_field(name).column for name in update_fields]
    set_clause = ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in updates)
    conflict = f"DO UPDATE SET {set_clause}" if updates else "DO NOTHING"
    sql = (f"INSERT INTO {qn(opts.db_table)} ({', '.join(qn(c) for c in columns)}) "
           f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT ({qn(opts.get_field(key).column)}) {conflict}")
    with transaction.atomic(using=connection.alias, savepoint=False), connection.cursor() as cursor:
        cursor.executemany(sql, values)
    return len(rows)


def _upsert_postgresql(model, rows, key, update_fields, extra, connection):
    qn = connection.ops.quote_name
    opts = model._meta
    columns, values = prepared_rows(model, rows, key, extra=extra, connection=connection)
    key_column = opts.get_field(key).column
    updates = [opts.get_field(name).column for name in update_fields]
    temp = f"_bulk_{opts.db_table}_{next(_SEQ)}"[:63]
    cols = ", ".join(qn(c) for c in columns)
    set_clause = ", ".join(f"{qn(c)} = EXCLUDED.{qn(c)}" for c in updates)
    conflict = f"DO UPDATE SET {set_clause}" if updates else "DO NOTHING"
    with transaction.atomic(using=connection.alias, savepoint=False), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE {qn(temp)} (LIKE {qn(opts.db_table)} INCLUDING DEFAULTS) ON COMMIT DROP")
        # the primary key is the target's to assign (its identity/sequence), not the temporary table's
        cursor.execute(f"ALTER TABLE {qn(temp)} DROP COLUMN {qn(opts.pk.column)}")
        copy_rows(cursor, model, temp, values)
        # in key order: concurrent upserts into one table lock their rows alike (no deadlock)
        cursor.execute(f"INSERT INTO {qn(opts.db_table)} ({cols}) SELECT {cols} FROM {qn(temp)} "
                       f"ORDER BY {qn(key_column)} ON CONFLICT ({qn(key_column)}) {conflict}")
        cursor.execute(f"DROP TABLE {qn(temp)}")
    return len(rows)


_SEP = "\x1f"  # ASCII unit separator: cleaned keys never hold it (it is whitespace to str.split and re's \s)


def array_param(values, pg_type="text"):
    """(SQL expression, parameter) for a PostgreSQL array of these values, e.g. for ``col = ANY(<expr>)``.

    Passed as one delimited string: psycopg adapts a 10,000-item list item by item (milliseconds per call,
    seconds per import), one string costs nearly nothing. Falls back to the list when a value holds the
    separator."""
    values = [v if type(v) is str else str(v) for v in values]
    joined = _SEP.join(values)
    if joined.count(_SEP) != max(len(values) - 1, 0) or (len(values) == 1 and not values[0]):
        return f"%s::{pg_type}[]", values
    return f"string_to_array(%s, chr(31))::{pg_type}[]", joined


SQLITE_CHUNK = 900  # keys per query on SQLite: under its bound-parameter limit (999 in older builds)


def rows_for_keys(queryset, field, keys):
    """The queryset filtered to `field` in keys, as querysets to run in turn: on PostgreSQL one (key_filter: the
    keys as one array parameter), on SQLite one per chunk of SQLITE_CHUNK keys."""
    keys = keys if isinstance(keys, list) else list(keys)
    if connections[queryset.db].vendor == "postgresql":
        return [key_filter(queryset, field, keys)]
    return [queryset.filter(**{f"{field}__in": keys[start:start + SQLITE_CHUNK]})
            for start in range(0, len(keys), SQLITE_CHUNK)]


def key_filter(queryset, field, values):
    """``queryset.filter(<field>__in=values)``; on PostgreSQL the values go as one array parameter (array_param).
    On SQLite, callers with more values than its bound-parameter limit pass them in parts."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return queryset.filter(**{f"{field}__in": values})
    model_field = queryset.model._meta.get_field(field)
    column = f"{connection.ops.quote_name(queryset.model._meta.db_table)}.{connection.ops.quote_name(model_field.column)}"
    pg_type = "bigint" if model_field.get_internal_type() in ("AutoField", "BigAutoField", "BigIntegerField",
                                                              "IntegerField", "ForeignKey") else "text"
    expr, param = array_param(values, pg_type)
    return queryset.extra(where=[f"{column} = ANY({expr})"], params=[param])
