"""The two worlds of the validity benchmark as point-in-time snapshot providers.

* the synthetic city (``foodrisk.synth``), and
* Chicago's real canvass inspections and business licences (``../shared/data/chicago``, City of Chicago,
  MIT licence) read by :func:`chicago_direct` straight into the engine's snapshot tables. This direct
  loader is the development / "before" path; the benchmark's final Chicago figure goes through the ingest
  path when a Chicago mapping profile is available (``bench_validity.py`` says which path it used).

Chicago → snapshot mapping (what the two files hold, nothing more):

* one enterprise per licence number (both files; 2,400 inspections name a licence without a licence row);
  business form from the facility type (restaurants/bakeries → catering, grocery → sales, schools, day care,
  hospitals, long-term care → canteen), static tier from Chicago's own risk class (Risk 1 → 3 … Risk 3 → 1),
  established on the first licence date (``minDate``), region = the ZIP code of the premises, food categories =
  the business activity plus the licence flags held (tobacco, tavern, package goods, …);
* licences: kind JY, the current licence term (issued/expires) with its status derived from the dates;
* inspections: kind routine (all are canvass), result Pass → pass, Pass w/ Conditions → basic, Fail → fail,
  ``key_items_failed`` = critical violations, ``general_items_failed`` = serious violations.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from foodrisk.engine.snapshot import conform

CHICAGO_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "chicago"
for _candidate in (CHICAGO_DIR, Path("/work/shared/data/chicago")):
    if (_candidate / "food_inspections.csv").exists():
        CHICAGO_DIR = _candidate
        break

_CANTEEN = ("school", "daycare", "day care", "children", "hospital", "long term", "long-term", "nursing",
            "assisted", "church", "shelter", "college", "university", "adult", "senior")
_SALES = ("grocery", "store", "market", "liquor", "gas station", "convenience", "drug", "pharmacy", "wholesale")


def _business_form(facility: str | None) -> str:
    f = (facility or "").lower()
    if any(k in f for k in _CANTEEN):
        return "canteen"
    if any(k in f for k in _SALES):
        return "sales"
    return "catering"


_TIER = {"Risk 1 (High)": 3, "Risk 2 (Medium)": 2, "Risk 3 (Low)": 1}
_LICENCE_FLAGS = ("consumption_on_premises_incidental_activity", "tobacco", "package_goods", "outdoor_patio",
                  "public_place_of_amusement", "limited_business_license", "childrens_services_facility_license",
                  "tavern", "regulated_business_license", "filling_station", "caterers_liquor_license",
                  "mobile_food_license")
_RESULT = {"Pass": "pass", "Pass w/ Conditions": "basic", "Fail": "fail"}


def chicago_available(directory: Path | None = None) -> bool:
    d = directory or CHICAGO_DIR
    return (d / "food_inspections.csv").exists() and (d / "business_licenses.csv").exists()


class ChicagoDirect:
    """Full Chicago tables; ``snapshot_at(d)`` = records dated ≤ d with the licence status as of d."""

    def __init__(self, directory: Path | None = None):
        d = directory or CHICAGO_DIR
        ins = pacsv.read_csv(d / "food_inspections.csv")
        lic = pacsv.read_csv(d / "business_licenses.csv")
        ids_lic = lic["LICENSE_NUMBER"].to_numpy()
        ids_ins = ins["License"].to_numpy()
        # latest facility type / risk class per licence number (static attributes of the premises)
        order = np.argsort(ins["Inspection_Date"].to_numpy(), kind="stable")
        facility, tier, zipcode = {}, {}, {}
        fac, risk, zips = ins["Facility_Type"].to_pylist(), ins["Risk"].to_pylist(), ins["Zip"].to_pylist()
        for i in order:
            facility[ids_ins[i]] = fac[i]
            zipcode[ids_ins[i]] = zips[i]
            if risk[i] in _TIER:
                tier[ids_ins[i]] = _TIER[risk[i]]
        first_licence = dict(zip(ids_lic.tolist(), lic["minDate"].to_pylist(), strict=True))
        # food categories: the licence's business activity plus the licence flags it holds (tobacco, tavern,
        # package goods, …) — what the archive's food_categories holds for a Chinese enterprise
        flags = [c for c in _LICENCE_FLAGS if c in lic.schema.names]
        flag_values = {c: lic[c].to_pylist() for c in flags}
        acts = lic["BUSINESS_ACTIVITY"].to_pylist()
        activity = {}
        for k, lid in enumerate(ids_lic.tolist()):
            parts = [a.strip() for a in (acts[k] or "").split("|") if a.strip()]
            parts += [c for c in flags if (flag_values[c][k] or 0) > 0]
            activity[lid] = "；".join(parts) or None
        ids = sorted(set(ids_lic.tolist()) | set(ids_ins.tolist()))
        self.enterprises = conform("enterprises", pa.table({
            "enterprise_id": pa.array(ids, pa.int64()),
            "uscc": pa.array([str(i) for i in ids]),
            "business_form": pa.array([_business_form(facility.get(i)) for i in ids]),
            "scale": pa.nulls(len(ids), pa.string()),
            # the ZIP code as the region (sanitarians are assigned by area: Chicago's strongest signal)
            "region_code": pa.array([str(zipcode.get(i) or "110105") for i in ids]),
            "status": pa.array(["active"] * len(ids)),
            "static_tier": pa.array([tier.get(i) for i in ids], pa.int8()),
            "established_on": pa.array([first_licence.get(i) for i in ids], pa.date32()),
            "key_supervision": pa.array([False] * len(ids)),
            "food_categories": pa.array([activity.get(i) for i in ids], pa.string()),
        }))
        self.licences = conform("licences", pa.table({
            "enterprise_id": lic["LICENSE_NUMBER"],
            "kind": pa.array(["JY"] * lic.num_rows),
            "issued_on": lic["LICENSE_TERM_START_DATE"],
            "expires_on": lic["LICENSE_TERM_EXPIRATION_DATE"],
            "status": pa.array(["valid"] * lic.num_rows),
        }).filter(pc.is_valid(lic["LICENSE_TERM_START_DATE"])))
        self.inspections = conform("inspections", pa.table({
            "enterprise_id": ins["License"],
            "inspected_on": ins["Inspection_Date"],
            "kind": pa.array(["routine"] * ins.num_rows),
            "result": pa.array([_RESULT.get(r, "basic") for r in ins["Results"].to_pylist()]),
            "key_items_failed": ins["criticalCount"],
            "general_items_failed": ins["seriousCount"],
            "rectification_ordered": pc.equal(ins["Results"], "Fail"),
        }))
        # evaluation target of Chicago's protocol: a critical violation found at this inspection
        self.critical = pc.greater(ins["criticalCount"], 0)
        self.first_date = pc.min(ins["Inspection_Date"]).as_py()
        self.last_date = pc.max(ins["Inspection_Date"]).as_py()

    def snapshot_at(self, as_of: date | None = None) -> dict[str, pa.Table]:
        as_of = as_of or self.last_date
        a = pa.scalar(as_of, pa.date32())
        lic = self.licences.filter(pc.less_equal(self.licences["issued_on"], a))
        lic = lic.set_column(4, "status", pc.if_else(pc.less(lic["expires_on"], a), "expired", "valid"))
        return {
            "enterprises": self.enterprises,
            "licences": lic,
            "inspections": self.inspections.filter(pc.less_equal(self.inspections["inspected_on"], a)),
            "sampling_tests": conform("sampling_tests", pa.table({"enterprise_id": pa.array([], pa.int64())})),
            "penalties": conform("penalties", pa.table({"enterprise_id": pa.array([], pa.int64())})),
            "complaints": conform("complaints", pa.table({"enterprise_id": pa.array([], pa.int64())})),
            "list_entries": conform("list_entries", pa.table({"enterprise_id": pa.array([], pa.int64())})),
        }

    def window(self, start: date, end: date) -> pa.Table:
        """The inspections done in [start, end): enterprise_id, inspected_on, critical."""
        m = pc.and_(pc.greater_equal(self.inspections["inspected_on"], pa.scalar(start, pa.date32())),
                    pc.less(self.inspections["inspected_on"], pa.scalar(end, pa.date32())))
        t = pa.table({"enterprise_id": self.inspections["enterprise_id"],
                      "inspected_on": self.inspections["inspected_on"], "critical": self.critical})
        return t.filter(m)


class ChicagoIngested:
    """Chicago imported through the product's ingest path — the two files unedited, over the REST API, with the
    built-in profiles made in the designer (``benchmarks/chicago_import.py``: ZIP code → a station region under
    110105, licence number → crosswalk, inspections linked by it or by name + address) — into a database of
    its own (a temporary SQLite unless FOODRISK_VALIDITY_DATABASE_URL names one: its archive is emptied).
    Snapshots come from the archive as the product builds them (``scoring.snapshot.snapshot_at``)."""

    def __init__(self):
        import os

        url = os.environ.pop("FOODRISK_DATABASE_URL", None)  # never empty the database `make bench` measures
        if os.environ.get("FOODRISK_VALIDITY_DATABASE_URL"):
            os.environ["FOODRISK_DATABASE_URL"] = os.environ["FOODRISK_VALIDITY_DATABASE_URL"]
        import chicago_import

        t0 = time.perf_counter()
        chicago_import.main(out=None)
        self.import_seconds = round(time.perf_counter() - t0, 1)
        if url is not None:
            os.environ["FOODRISK_DATABASE_URL"] = url
        from django.db.models import Max, Min

        from foodrisk.records.models import Inspection

        span = Inspection.objects.aggregate(first=Min("inspected_on"), last=Max("inspected_on"))
        self.first_date, self.last_date = span["first"], span["last"]

    def snapshot_at(self, as_of: date | None = None) -> dict[str, pa.Table]:
        from foodrisk.scoring.snapshot import snapshot_at

        return snapshot_at(as_of or self.last_date)

    def window(self, start: date, end: date) -> pa.Table:
        """The inspections done in [start, end): enterprise_id, inspected_on, critical (a critical violation)."""
        from foodrisk.records.models import Inspection

        rows = list(Inspection.objects.filter(inspected_on__gte=start, inspected_on__lt=end)
                    .order_by("inspected_on", "pk").values_list("enterprise_id", "inspected_on", "key_items_failed"))
        return pa.table({"enterprise_id": pa.array([r[0] for r in rows], pa.int64()),
                         "inspected_on": pa.array([r[1] for r in rows], pa.date32()),
                         "critical": pa.array([(r[2] or 0) > 0 for r in rows], pa.bool_())})
