"""Snapshot directories: one ``<table>.parquet`` per table plus ``snapshot.json``.

``snapshot.json`` = ``{"as_of": "YYYY-MM-DD", "tables": {name: row count}}`` (docs/data-formats.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from .schema import SCHEMAS, TABLE_NAMES


@dataclass
class Snapshot:
    tables: dict[str, pa.Table | pads.Dataset]
    as_of: date | None = None
    meta: dict = field(default_factory=dict)

    def __getitem__(self, name: str) -> pa.Table:
        return self.tables[name]

    def counts(self) -> dict[str, int]:
        return {k: t.num_rows if isinstance(t, pa.Table) else t.count_rows() for k, t in self.tables.items()}


def empty_table(name: str) -> pa.Table:
    """A zero-row table with the canonical schema of ``name``."""
    return SCHEMAS[name].empty_table()


def empty_snapshot() -> dict[str, pa.Table]:
    return {name: empty_table(name) for name in TABLE_NAMES}


def conform(name: str, table: pa.Table) -> pa.Table:
    """Cast/select to the canonical schema (extra columns dropped, missing nullable columns added as null)."""
    schema = SCHEMAS[name]
    cols = []
    for f in schema:
        if f.name in table.schema.names:
            cols.append(table[f.name].cast(f.type))
        else:
            cols.append(pa.nulls(table.num_rows, f.type))
    return pa.Table.from_arrays(cols, schema=schema)


def write_snapshot(directory: str | Path, tables: dict[str, pa.Table], as_of: date | None = None) -> Path:
    """Write each table as zstd Parquet plus snapshot.json. Unknown table names are rejected."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    unknown = set(tables) - set(TABLE_NAMES)
    if unknown:
        raise ValueError(f"unknown snapshot tables: {', '.join(sorted(unknown))}")
    counts = {}
    for name, t in tables.items():
        pq.write_table(t, d / f"{name}.parquet", compression="zstd")
        counts[name] = t.num_rows
    meta = {"as_of": as_of.isoformat() if as_of else None, "tables": counts}
    (d / "snapshot.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return d


def read_snapshot(directory: str | Path, *, lazy: bool = False) -> Snapshot:
    """Read every known ``<table>.parquet`` in the directory; tables absent on disk are absent here.

    ``lazy=True`` returns pyarrow Datasets that DuckDB scans from disk (national-scale runs: the
    records never sit in Python memory as a whole).
    """
    d = Path(directory)
    if not d.is_dir():
        raise FileNotFoundError(f"snapshot directory not found: {d}")
    meta: dict = {}
    mp = d / "snapshot.json"
    if mp.exists():
        meta = json.loads(mp.read_text(encoding="utf-8"))
    tables = {}
    for name in TABLE_NAMES:
        p = d / f"{name}.parquet"
        if p.exists():
            tables[name] = pads.dataset(p, format="parquet") if lazy else pq.read_table(p)
    as_of = date.fromisoformat(meta["as_of"]) if meta.get("as_of") else None
    return Snapshot(tables=tables, as_of=as_of, meta=meta)
