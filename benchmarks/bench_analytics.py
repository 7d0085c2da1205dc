"""Benchmark the statistics pages (issue #14 item 5: every dashboard ≤ 300 ms at 20,000 enterprises and ≤ 1 s at
1,000,000 / 30,000,000 records, on PostgreSQL).

    .venv/bin/python benchmarks/bench_analytics.py            # every city that is built; the others are skipped
    .venv/bin/python benchmarks/bench_analytics.py 20k        # one city

Each city is its own PostgreSQL database, built once (BENCH_ANALYTICS_DB_20K / _1M, default
postgres://postgres@127.0.0.1:5432/an20k and …/an1m):

    export FOODRISK_DATABASE_URL=postgres://postgres@127.0.0.1:5432/an1m
    .venv/bin/foodrisk migrate && .venv/bin/foodrisk seed
    BENCH_ENTERPRISES=1000000 BENCH_RECORDS_PER_ENTERPRISE=30 .venv/bin/python benchmarks/bench_scoring.py --bulk-load
    .venv/bin/python benchmarks/bench_analytics.py --prepare     # grade history and the snapshot, see prepare()

The bulk loader (engine sample data COPYed into the archive) writes no grades and no food categories, so
prepare() adds, in SQL: one to two food categories per enterprise (a tenth lists none), and thirteen months of
published grades and scores (the month before the default twelve-month period, then up to this month) as a
deterministic synthetic walk per enterprise, written straight into the per-enterprise monthly snapshot
(EnterpriseMonth), the last month also as the enterprises' current grade and score; then the counts
(GradeSnapshot) through the analytics services. No GradeChange or Score rows are written (the pages read the
snapshot; a page falling back to the grade history would find none), no alerts and no tasks (the warning page
and the rectification figures count an empty set: their time is not measured at scale here).

Measured in-process with Django's test client (the whole view: form, queries, template or JSON), warm (one
unmeasured request first), BENCH_ANALYTICS_RUNS (5) times each, as a city-wide leader (杭州市) and a district
user (上城区): median and p95 per page and API, the ratio to the target of the size, the machine's load averages
before and after (the machine is shared: read the figures with them), BENCH_ANALYTICS_NOTE (how the city was
built, when it differs from the above) in the result. PostgreSQL's statement_timeout bounds a
page at BENCH_ANALYTICS_TIMEOUT_S (60 s). Results: benchmarks/results/analytics-<city>.json.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CITIES = {
    "20k": (os.environ.get("BENCH_ANALYTICS_DB_20K", "postgres://postgres@127.0.0.1:5432/an20k"), 20_000, 0.3),
    "1m": (os.environ.get("BENCH_ANALYTICS_DB_1M", "postgres://postgres@127.0.0.1:5432/an1m"), 1_000_000, 1.0),
}
RUNS = int(os.environ.get("BENCH_ANALYTICS_RUNS", 5))
TIMEOUT_S = int(os.environ.get("BENCH_ANALYTICS_TIMEOUT_S", 60))
CITY, DISTRICT = "330100", "330102"
FIRST_MONTH = "2025-12-01"  # the month before the default period (twelve months up to 2026-12)
HISTORY_MONTHS = 13
CATEGORIES = ["肉制品", "乳制品", "粮食加工品", "食用油", "饮料", "酒类", "调味品", "糕点"]

PAGES = [
    ("dashboard", "/analytics/", {}),
    ("dashboard, category", "/analytics/", {"food_category": "乳制品"}),
    ("migration", "/analytics/migration/", {}),
    ("rankings", "/analytics/rankings/", {}),
    # two dates not a year apart: the migration and the rise join two snapshot months instead
    ("migration, 6 months", "/analytics/migration/", {"first_date": "2026-05-31"}),
    ("rankings, 6 months", "/analytics/rankings/", {"first_date": "2026-05-31"}),
    ("warnings", "/analytics/warnings/", {}),
    ("supervision", "/analytics/supervision/", {}),
    ("api grades", "/api/analytics/grades/", {}),
    ("api matrix", "/api/analytics/matrix/", {}),
    ("api alerts", "/api/analytics/alerts/", {}),
    ("api migration", "/api/analytics/migration/", {}),
    ("api rankings", "/api/analytics/rankings/", {}),
    ("api supervision", "/api/analytics/supervision/", {}),
]


def _setup(url):
    os.environ["FOODRISK_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "foodrisk.settings")
    os.environ.setdefault("FOODRISK_DB_POOL", "0")
    import django

    django.setup()


def prepare():
    """Food categories, thirteen months of grades and scores, the snapshot (see the module). Idempotent."""
    _setup(os.environ["FOODRISK_DATABASE_URL"])
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from foodrisk.analytics import services
    from foodrisk.analytics.models import EnterpriseMonth

    call_command("migrate", verbosity=0)
    cats = "ARRAY[" + ", ".join(f"'{c}'" for c in CATEGORIES) + "]"
    # a score walk per enterprise: a level, a drift per month and some noise, all from the id (deterministic)
    score = ("LEAST(100, GREATEST(0, (e.id * 7919) %% 80 + ((e.id * 31) %% 7 - 3) * m.k "
             "+ ((e.id * 13 + m.k * 17) %% 11) - 5))")
    grade = "CASE WHEN s < 50 THEN 'A' WHEN s < 65 THEN 'B' WHEN s < 80 THEN 'C' ELSE 'D' END"
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as c:
        c.execute(f"UPDATE enterprises_enterprise SET food_categories = CASE WHEN id % 10 = 0 THEN '[]'::jsonb "
                  f"WHEN id % 3 = 0 THEN jsonb_build_array(({cats})[1 + id % 8], ({cats})[1 + (id % 8 + 1 + "
                  f"(id / 8) % 7) % 8]) ELSE jsonb_build_array(({cats})[1 + id % 8]) END")
        print(f"categories {time.perf_counter() - t0:.0f} s", flush=True)
        c.execute("TRUNCATE analytics_enterprisemonth, analytics_gradesnapshot, analytics_snapshotmonth")
        for k in range(HISTORY_MONTHS):  # month by month, as refresh_month and backfill write them (the layout)
            c.execute(f"INSERT INTO analytics_enterprisemonth (month, enterprise_id, region_id, business_form, "
                      f"key_supervision, grade, score, year_before_grade) SELECT (date '{FIRST_MONTH}' + "
                      f"make_interval(months => %s))::date, e.id, e.region_id, e.business_form, e.key_supervision, "
                      f"{grade}, s, '' FROM enterprises_enterprise e "
                      f"CROSS JOIN (SELECT %s AS k) AS m CROSS JOIN LATERAL (SELECT {score} AS s) x", [k, k])
        print(f"history {time.perf_counter() - t0:.0f} s", flush=True)
        last = services.add_months(services.month_start(timezone.datetime.fromisoformat(FIRST_MONTH).date()),
                                   HISTORY_MONTHS - 1)
        c.execute("UPDATE enterprises_enterprise e SET current_grade = m.grade, current_score = m.score "
                  "FROM analytics_enterprisemonth m WHERE m.enterprise_id = e.id AND m.month = %s", [last])
        print(f"current grades {time.perf_counter() - t0:.0f} s", flush=True)
        services._write_categories()
        now = timezone.now()
        for month in sorted(EnterpriseMonth.objects.order_by().values_list("month", flat=True).distinct()):
            services._link_year_before(month)
            services._aggregate(month, now)
        print(f"counts {time.perf_counter() - t0:.0f} s", flush=True)
    inspection_months()
    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE")
    print(json.dumps({"prepare_s": round(time.perf_counter() - t0, 1)}), flush=True)


def inspection_months():
    """The monthly inspection counts (InspectionMonth) built in full from the archive, as the first refresh does."""
    from django.utils import timezone

    from foodrisk.analytics import services
    from foodrisk.analytics.models import Precomputed

    t0 = time.perf_counter()
    Precomputed.objects.filter(name=services.INSPECTION_MONTHS).delete()
    services._keep_inspection_months(timezone.now())
    print(f"inspection months {time.perf_counter() - t0:.0f} s", flush=True)


def _user(username, region_code):
    from foodrisk.core.models import Organisation, Region, User
    from foodrisk.core.testing import grant

    region = Region.objects.get(pk=region_code)
    org, _ = Organisation.objects.get_or_create(code=f"BENCH-{region_code}", defaults={"name": region.name,
                                                                                        "region": region})
    user = User.objects.filter(username=username).first() or User.objects.create_user(
        username, password="Bench-pass-2026!", organisation=org)
    return grant(user, "analytics.view_dashboard", "enterprises.view_enterprise", "alerts.view_alert",
                 "records.view_inspection", "supervision.view_task")


def measure(name):
    """One city, in this process (see the module)."""
    url, size, target_s = CITIES[name]
    _setup(url)
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from foodrisk.enterprises.models import Enterprise
    from foodrisk.records.models import Inspection

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    logging.getLogger("foodrisk.access").setLevel(logging.WARNING)  # one line per request would drown the figures
    with connection.cursor() as c:
        c.execute(f"SET statement_timeout = '{TIMEOUT_S}s'")
    enterprises = Enterprise.objects.count()
    with connection.cursor() as c:
        c.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [Inspection._meta.db_table])
        inspections = c.fetchone()[0]
    load_before = os.getloadavg()
    pages = {}
    for who, region in (("city", CITY), ("district", DISTRICT)):
        client = Client()
        client.force_login(_user(f"bench-analytics-{who}", region))
        for label, path, params in PAGES:
            times, status = [], None
            for i in range(RUNS + 1):
                started = time.perf_counter()
                try:
                    status = client.get(path, params).status_code
                except Exception as exc:  # a statement timeout: the page did not answer in time
                    status = type(exc).__name__
                    connection.close()
                    with connection.cursor() as c:
                        c.execute(f"SET statement_timeout = '{TIMEOUT_S}s'")
                    times.append(time.perf_counter() - started)
                    break
                if i:  # the first request warms caches and imports: not counted
                    times.append(time.perf_counter() - started)
            times.sort()
            median = statistics.median(times)
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            row = pages.setdefault(label, {"path": path, "params": params})
            row[who] = {"status": status, "median_ms": round(median * 1000, 1), "p95_ms": round(p95 * 1000, 1),
                        "ratio_to_target": round(p95 / target_s, 2),
                        "median_ratio_to_target": round(median / target_s, 2), "runs": len(times)}
            print(f"{name} {who:8} {label:22} {status} median {median * 1000:8.1f} ms  p95 {p95 * 1000:8.1f} ms "
                  f" ratio {p95 / target_s:.2f}", flush=True)
    load_after = os.getloadavg()
    worst = max(r[w]["ratio_to_target"] for r in pages.values() for w in ("city", "district"))
    worst_median = max(r[w]["median_ratio_to_target"] for r in pages.values() for w in ("city", "district"))
    missing = sorted(f"{label} ({w})" for label, r in pages.items() for w in ("city", "district")
                     if r[w]["ratio_to_target"] > 1 or r[w]["status"] != 200)
    result = {
        "summary": {"city": name, "database": "postgresql", "enterprises": enterprises,
                    "inspections_estimate": inspections, "target_ms": target_s * 1000, "worst_ratio": worst,
                    "worst_median_ratio": worst_median,
                    "pages_missing_target": missing, "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in load_after]},
        "runs_per_page": RUNS, "statistic": ("p95 (nearest rank: with a few runs, the slowest) and median of warm requests, in process; "
                      "ratio_to_target from the p95"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "note": "2 cores shared by 5 engineers working at the same time"},
        "data": ("bench_scoring.py --bulk-load archive; food categories and 13 months of synthetic grades/scores "
                 "written by bench_analytics.py --prepare straight into the monthly snapshot; no alerts, tasks, "
                 "grade changes or score rows"),
        "note": os.environ.get("BENCH_ANALYTICS_NOTE", ""),  # how this city was built, when it differs
        "pages": pages,
    }
    out = HERE / "results" / f"analytics-{name}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {out}", flush=True)


def _built(name):
    url = CITIES[name][0]
    p = subprocess.run(["psql", url.replace("postgres://", "postgresql://"), "-tAc",
                        "SELECT count(*) FROM analytics_snapshotmonth"], capture_output=True, text=True)
    return p.returncode == 0 and p.stdout.strip() not in ("", "0")


def main(argv):
    if argv[:1] == ["--prepare"]:
        return prepare()
    if argv[:1] == ["--inspection-months"]:  # only that step of prepare() (e.g. after a schema change)
        _setup(os.environ["FOODRISK_DATABASE_URL"])
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        return inspection_months()
    if argv[:1] == ["--year-before"]:  # only that step of prepare() (e.g. after a schema change)
        _setup(os.environ["FOODRISK_DATABASE_URL"])
        from django.core.management import call_command

        from foodrisk.analytics import services
        from foodrisk.analytics.models import SnapshotMonth

        call_command("migrate", verbosity=0)
        for month in SnapshotMonth.objects.order_by("month").values_list("month", flat=True):
            services._link_year_before(month)
        return None
    if argv[:1] == ["--city"]:
        return measure(argv[1])
    failures = 0
    for name in argv or list(CITIES):
        if not _built(name):
            print(f"{name}: not built (see the module's docstring), skipped")
            continue
        failures += subprocess.call([sys.executable, __file__, "--city", name]) != 0
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
