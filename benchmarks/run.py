"""`make bench`: run every benchmark in its own process and print a summary of target ratios.

Each bench_*.py prints its own figures and writes benchmarks/results/<name>.json. Pass names to run a
subset (`python benchmarks/run.py engine scoring`); set FOODRISK_DATABASE_URL to measure PostgreSQL.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["engine", "ingest", "scoring", "model", "model_scale", "validity", "sharing", "load", "analytics"]  # model_scale: FOODRISK_BENCH_SLOW=1; load, analytics: skipped unless their cities are built


def main(argv):
    wanted = argv or [name for name in ORDER if (HERE / f"bench_{name}.py").exists()]
    failures = []
    for name in wanted:
        script = HERE / f"bench_{name}.py"
        print(f"\n### {name} ({script.name})", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"### {name}: exit {code} in {time.perf_counter() - started:.1f} s", flush=True)
        if code:
            failures.append(name)
    print("\n## results")
    for path in sorted((HERE / "results").glob("*.json")):
        data = json.loads(path.read_text())
        print(f"- {path.name}: {json.dumps(data.get('summary', data), ensure_ascii=False)[:400]}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
