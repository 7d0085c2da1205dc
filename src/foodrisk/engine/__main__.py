"""``python -m foodrisk.engine`` — score a snapshot directory, or write a sample one.

python -m foodrisk.engine score --snapshot DIR --indicator-set food_2016 --as-of 2026-11-01 [--out s.parquet]
python -m foodrisk.engine sample --out DIR --enterprises 20000 --records 300000 [--as-of 2026-11-01]
python -m foodrisk.engine profiles
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from .profiles import list_profiles, load_profile
from .sample import sample_snapshot
from .scoring import SnapshotError, score
from .snapshot import read_snapshot, write_snapshot
from .spec import IndicatorSet, SpecError


def _load_spec(arg: str) -> IndicatorSet:
    p = Path(arg)
    if p.suffix == ".json" or p.exists():
        return IndicatorSet.from_dict(json.loads(p.read_text(encoding="utf-8")))
    return load_profile(arg)


def _cmd_score(a: argparse.Namespace) -> int:
    snap = read_snapshot(a.snapshot, lazy=True)
    as_of = date.fromisoformat(a.as_of) if a.as_of else snap.as_of
    if as_of is None:
        print("error: --as-of is required (snapshot.json has no as_of)", file=sys.stderr)
        return 2
    spec = _load_spec(a.indicator_set)
    res = score(snap.tables, spec, as_of, threads=a.threads, memory_limit=a.memory_limit)
    counts = res.grade_counts()
    n = res.scores.num_rows
    print(f"indicator set: {spec.code} v{spec.version}   as-of: {as_of.isoformat()}")
    print("input rows:    " + ", ".join(f"{k}={v:,}" for k, v in snap.counts().items()))
    print(f"scored:        {n:,} enterprises")
    for g in spec.grades:
        c = counts.get(g, 0)
        print(f"  {g}: {c:>10,}  {100 * c / n if n else 0:5.1f}%")
    print("timing (s):    " + ", ".join(f"{k}={v}" for k, v in res.timing.items()))
    for w in res.warnings:
        print(f"warning: {w}")
    if a.out:
        pq.write_table(res.scores, a.out, compression="zstd")
        print(f"written:       {a.out}")
    return 0


def _cmd_sample(a: argparse.Namespace) -> int:
    as_of = date.fromisoformat(a.as_of)
    tables = sample_snapshot(a.enterprises, a.records, as_of=as_of, seed=a.seed)
    write_snapshot(a.out, tables, as_of)
    print(f"wrote {a.out}: " + ", ".join(f"{k}={t.num_rows:,}" for k, t in tables.items()))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m foodrisk.engine", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("score", help="score a snapshot directory")
    s.add_argument("--snapshot", required=True, help="directory with <table>.parquet + snapshot.json")
    s.add_argument(
        "--indicator-set", required=True, help=f"JSON file or profile ({', '.join(list_profiles())})"
    )
    s.add_argument("--as-of", help="YYYY-MM-DD (default: snapshot.json as_of)")
    s.add_argument("--out", help="write scores to this Parquet file")
    s.add_argument("--threads", type=int, default=2)
    s.add_argument("--memory-limit", default="3GB")
    s.set_defaults(func=_cmd_score)
    m = sub.add_parser("sample", help="write a random sample snapshot")
    m.add_argument("--out", required=True)
    m.add_argument("--enterprises", type=int, default=20_000)
    m.add_argument("--records", type=int, default=300_000)
    m.add_argument("--as-of", default="2026-11-01")
    m.add_argument("--seed", type=int, default=0)
    m.set_defaults(func=_cmd_sample)
    p = sub.add_parser("profiles", help="list shipped policy profiles")
    p.set_defaults(func=lambda a: print("\n".join(list_profiles())) or 0)
    a = ap.parse_args(argv)
    try:
        return a.func(a)
    except (SpecError, SnapshotError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
