"""``python -m foodrisk.synth`` / ``foodrisk synth``: generate a synthetic city and its import files."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date

from .world import generate_world
from .writer import write_import_files


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="foodrisk synth", description="Generate a synthetic food-enterprise city (食品企业合成数据).")
    p.add_argument("--enterprises", type=int, default=20000, help="number of enterprises (default 20000)")
    p.add_argument("--years", type=int, default=5, help="years of records before --as-of (default 5)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dirty-rate", type=float, default=0.02, help="fraction of rows carrying one injected error")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--as-of", type=date.fromisoformat, default=None,
                   help="as-of / import day YYYY-MM-DD (default today; pass it for byte-identical reruns)")
    p.add_argument("--formats", default="csv,xlsx", help="csv or csv,xlsx (penalties and SAMR announcements as XLSX)")
    p.add_argument("--city", default="330100", help="prefecture-level GB/T 2260 code (default 330100 杭州市)")
    p.add_argument("--snapshot", action="store_true", help="also write the engine snapshot to OUT/snapshot")
    p.add_argument("--no-import-files", action="store_true", help="skip the import files (snapshot/benchmarks only)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    if not set(formats) <= {"csv", "xlsx"} or "csv" not in formats:
        print("--formats must be csv or csv,xlsx", file=sys.stderr)
        return 2
    if not 0.0 <= args.dirty_rate < 1.0:
        print("--dirty-rate must be in [0, 1)", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    world = generate_world(args.enterprises, args.years, args.seed, args.as_of or date.today(), city_code=args.city)
    t1 = time.perf_counter()
    counts = world.record_counts()
    print(f"world: {world.city.name} {world.n} enterprises, {sum(counts.values()) - world.n} records, "
          f"as_of {world.as_of} ({t1 - t0:.1f}s)")
    if not args.no_import_files:
        m = write_import_files(world, args.out, args.dirty_rate, args.seed, formats)
        t2 = time.perf_counter()
        print(f"import files: {len(m['files'])} files, {m['ground_truth']['errors']} injected errors, "
              f"{m['ground_truth']['noise']} noise rows → {args.out} ({t2 - t1:.1f}s)")
    if args.snapshot:
        t2 = time.perf_counter()
        world.write_snapshot(f"{args.out}/snapshot")
        print(f"snapshot → {args.out}/snapshot ({time.perf_counter() - t2:.1f}s)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
