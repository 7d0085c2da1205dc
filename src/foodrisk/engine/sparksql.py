"""The engine's DuckDB SQL as Spark SQL: one set of definitions, two back ends.

The compiler (``compile_spec``) and the model's feature catalogue (``compile_features``) emit DuckDB SQL.
:func:`to_spark_sql` parses that SQL with sqlglot and writes Spark SQL, so the Spark back end runs exactly
the indicators, points, caps, policy rules, reasons and features the single-machine path runs — there is
no second, hand-written copy to drift.

sqlglot translates syntax; a few DuckDB functions have the same name but different *semantics* in Spark,
and those are rewritten here so the results are identical (the sameness test, tests/engine/test_spark.py,
holds the two back ends to the same grades, scores, reasons and model scores):

* ``round(x, n)`` on a double: DuckDB computes ``std::round(x · 10ⁿ) / 10ⁿ`` (half away from zero on the
  binary value); Spark rounds the shortest decimal text half-up, which differs on ties such as a 50/50 blend
  of two 4-decimal scores. Rewritten to DuckDB's arithmetic.
* ``printf('%.Nf', x)``: Java's formatter rounds the shortest decimal text half-up (2.675 → "2.68"), C's
  printf rounds the exact binary value (→ "2.67"). ``format_number`` with a ``0.00`` pattern
  (java.text.DecimalFormat, half-even on the exact binary value) prints what DuckDB prints.
* ``date_sub('month', a, b)`` (complete months, DuckDB's end-of-month rule) and ``date_diff('month', a, b)``
  (month boundaries crossed): Spark's ``months_between``/``timestampdiff`` count neither way, so both are
  spelt out with year/month/day arithmetic.
* ``to_json(text)`` (Spark's to_json takes only structs, maps and arrays) and ``json_object``.
* ``list[i]``: an index past the end is NULL in DuckDB, an error in ANSI Spark → ``try_element_at``.
* decimal literals (``1.0``): DuckDB divides decimals as doubles, Spark as decimals → cast to DOUBLE.
* ``SELECT * REPLACE (…)`` does not exist in Spark: expanded with the table's columns (``columns``).

A construct this module does not know how to carry over raises :class:`SparkSQLError` instead of running
with other semantics.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence

import sqlglot
from sqlglot import exp

_PRINTF_RE = re.compile(r"^%\.(\d+)f(%%)?$")


def _not_index_offset_note(record: logging.LogRecord) -> bool:
    # sqlglot logs every DuckDB list index it re-bases at INFO; a scoring query has dozens of them
    return "array index offset" not in record.getMessage()


logging.getLogger("sqlglot").addFilter(_not_index_offset_note)


class SparkSQLError(ValueError):
    """DuckDB SQL with a construct that has no identical Spark SQL here."""


def _p(sql: str) -> exp.Expression:
    """A Spark SQL fragment as an expression tree (the templates below are written in Spark SQL)."""
    return sqlglot.parse_one(sql, read="spark")


def _sub(template: str, **parts: exp.Expression) -> exp.Expression:
    """Spark SQL template with ``{name}`` placeholders replaced by expression trees (copied each use)."""
    tree = _p(template.format(**{k: f"__{k}__" for k in parts}))

    def put(node):
        if isinstance(node, exp.Column) and not node.table and node.name.startswith("__") and node.name.endswith("__"):
            return parts[node.name[2:-2]].copy()
        return node

    return tree.transform(put)


def _round(x: exp.Expression, digits: exp.Expression | None) -> exp.Expression:
    n = 0 if digits is None else int(digits.name)
    if n < 0 or n > 15:
        raise SparkSQLError(f"round to {n} digits is not carried over")
    # std::round(y) = sign(y) · (floor|y| + (|y| − floor|y| ≥ 0.5)); the fraction is exact in binary
    y = _sub("CAST({x} AS DOUBLE) * CAST({m} AS DOUBLE)", x=x, m=exp.Literal.number(10**n))
    r = _sub(
        "CAST(signum({y}) * (CAST(floor(abs({y})) AS DOUBLE) + "
        "CASE WHEN abs({y}) - CAST(floor(abs({y})) AS DOUBLE) >= 0.5 THEN 1.0 ELSE 0.0 END) AS DOUBLE)",
        y=y,
    )
    return r if n == 0 else _sub("{r} / CAST({m} AS DOUBLE)", r=r, m=exp.Literal.number(10**n))


def _printf(args: list[exp.Expression]) -> exp.Expression:
    if len(args) != 2 or not args[0].is_string:
        raise SparkSQLError(f"printf({', '.join(a.sql('duckdb') for a in args)}) is not carried over")
    m = _PRINTF_RE.match(args[0].name)
    if not m:
        raise SparkSQLError(f"printf format {args[0].name!r} is not carried over (only %.Nf and %.Nf%%)")
    digits = int(m.group(1))
    pattern = "0." + "0" * digits if digits else "0"
    out = _sub("format_number(CAST({x} AS DOUBLE), {pat})", x=args[1], pat=exp.Literal.string(pattern))
    return _sub("concat({out}, '%')", out=out) if m.group(2) else out


def _months(start: exp.Expression, end: exp.Expression) -> exp.Expression:
    """Month boundaries crossed from start to end (DuckDB date_diff('month', start, end))."""
    return _sub("((year({e}) * 12 + month({e})) - (year({s}) * 12 + month({s})))", s=start, e=end)


def _complete_months(start: exp.Expression, end: exp.Expression) -> exp.Expression:
    """Whole months from start to end, DuckDB's date_sub('month', start, end): one less than the boundaries
    when the end's day of month is before the start's — unless the end is its month's last day (then a
    longer month's later day counts as reached: 01-31 → 02-28 is one month)."""

    def forward(a, b):
        return _sub(
            "({m} - CASE WHEN day({b}) < day({a}) AND {b} <> last_day({b}) THEN 1 ELSE 0 END)",
            m=_months(a, b), a=a, b=b,
        )

    return _sub(
        "CASE WHEN {s} <= {e} THEN {f} ELSE -{g} END",
        s=start, e=end, f=forward(start, end), g=forward(end, start),
    )


def _to_json(x: exp.Expression) -> exp.Expression:
    """JSON text of a scalar (NULL stays NULL, as in DuckDB)."""
    return _sub(r"nullif(regexp_replace(to_json(array({x})), '^\\[|\\]$', ''), 'null')", x=x)


def _json_object(node: exp.JSONObject) -> exp.Expression:
    pairs = []
    for kv in node.expressions:
        if not isinstance(kv, exp.JSONKeyValue) or not kv.this.is_string:
            raise SparkSQLError(f"json_object with computed keys is not carried over: {node.sql('duckdb')}")
        pairs += [kv.this.copy(), kv.expression.copy()]
    # a struct keeps the keys' order; subtotals are never NULL, so Spark's dropping of NULL fields is moot
    return exp.func("to_json", exp.func("named_struct", *pairs))


def _expand_star(select: exp.Select, columns: Mapping[str, Sequence[str]]) -> None:
    """``SELECT * REPLACE (expr AS c), …`` → the table's columns with c replaced (Spark has no REPLACE)."""
    for i, item in enumerate(select.expressions):
        if not (isinstance(item, exp.Star) and item.args.get("replace")):
            continue
        source = select.args["from_"].this if "from_" in select.args else select.args["from"].this
        table = source.name
        if table not in columns:
            raise SparkSQLError(f"SELECT * REPLACE over {table!r}: its columns are unknown")
        replaced = {a.alias: a for a in item.args["replace"]}
        cols = [replaced.pop(c).copy() if c in replaced else exp.column(c, quoted=True) for c in columns[table]]
        if replaced:
            raise SparkSQLError(f"SELECT * REPLACE of columns {sorted(replaced)} that {table!r} does not have")
        select.set("expressions", select.expressions[:i] + cols + select.expressions[i + 1:])
        return


def to_spark_sql(sql: str, columns: Mapping[str, Sequence[str]] | None = None, *, ordered: bool = True) -> str:
    """Spark SQL with the results of the DuckDB ``sql`` (see the module doc for what is rewritten).

    ``columns``: {table: column names} of the tables that a ``SELECT * REPLACE`` reads. ``ordered=False``
    drops the outermost ORDER BY: on a cluster a global sort is a full shuffle of every row, and the job's
    reader sorts what it loads anyway."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    if not ordered:
        tree.set("order", None)
    for select in list(tree.find_all(exp.Select)):
        _expand_star(select, columns or {})

    def rewrite(node):
        if isinstance(node, exp.Literal) and not node.is_string and not node.is_int:
            # 1.0 is a DECIMAL in both; DuckDB divides decimals as doubles, Spark as decimals (2/3 then ends in
            # …67 instead of …66): the literal becomes the double DuckDB computes with
            return exp.cast(node.copy(), exp.DataType.build("double"))
        if isinstance(node, exp.Round):
            return _round(node.this, node.args.get("decimals"))
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            args = list(node.expressions)
            if name == "printf":
                return _printf(args)
            if name == "to_json" and len(args) == 1:
                return _to_json(args[0])
            if name == "date_sub" and len(args) == 3 and args[0].is_string and args[0].name.lower() == "month":
                return _complete_months(args[1], args[2])
            raise SparkSQLError(f"DuckDB function {node.name}() is not carried over to Spark SQL")
        if isinstance(node, exp.DateDiff):
            unit = (node.unit.name if node.unit else "day").lower()
            if unit == "month":
                return _months(node.expression, node.this)
            if unit == "day":
                return exp.func("datediff", node.this.copy(), node.expression.copy())
            raise SparkSQLError(f"date_diff by {unit} is not carried over")
        if isinstance(node, exp.JSONObject):
            return _json_object(node)
        if isinstance(node, exp.Bracket):
            if len(node.expressions) != 1:
                raise SparkSQLError("multi-index brackets are not carried over")
            # sqlglot re-bases a literal DuckDB index to 0 (it cannot re-base an expression, which stays as
            # DuckDB's 1-based index); try_element_at counts from 1 and takes an INT
            idx = node.expressions[0]
            if idx.is_int:
                one_based = exp.Literal.number(int(idx.name) + 1)
            else:
                one_based = _sub("CAST({i} AS INT)", i=idx)
            return exp.func("try_element_at", node.this.copy(), one_based)
        return node

    tree = tree.transform(rewrite)
    return tree.sql(dialect="spark")
