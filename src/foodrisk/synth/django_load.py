"""Fast direct load of a synthetic world into the archive (demo and benchmarks).

Goes through the same bulk services as the importer (`upsert_enterprises`, `upsert_records`), so
writes are audited per batch, but skips file parsing, validation and entity resolution: the world is
clean by construction. The import path proper (files → ingest) is what the data-quality tests measure.
Imports Django lazily: the rest of `foodrisk.synth` stays a pure library.
"""

import time

RECORD_KINDS = ["inspections", "sampling_tests", "penalties", "complaints", "credit_repairs", "list_entries"]
SOURCE = "synth"


def ensure_stations(world):
    """Supervision stations of the synthetic city exist as sub-county regions."""
    from foodrisk.core.models import Region

    existing = set(Region.objects.filter(code__in=[s.code for s in world.city.stations]).values_list("code", flat=True))
    new = [Region(code=s.code, name=s.name, level="station", parent_id=s.district_code, full_name=s.name)
           for s in world.city.stations if s.code not in existing]
    Region.objects.bulk_create(new)
    return len(new)


def _rows(table, drop=()):
    return [{k: v for k, v in row.items() if k not in drop} for row in table.to_pylist()]


def load_world(world, *, chunk=20000, progress=print):
    """Write enterprises, licences and all records; returns {kind: rows} and seconds taken."""
    from foodrisk.enterprises.models import Enterprise
    from foodrisk.enterprises.services import upsert_enterprises, upsert_licences
    from foodrisk.records.models import ListEntry
    from foodrisk.records.services import upsert_records

    started = time.perf_counter()
    ensure_stations(world)
    counts = {}
    enterprises = []
    for row in _rows(world.table("enterprises"), drop=("enterprise_id",)):
        row["region_id"] = row.pop("region_code")
        row["former_names"] = [n for n in (row.get("former_names") or "").split("；") if n]
        row["food_categories"] = [c for c in (row.get("food_categories") or "").split("；") if c]
        row["legal_representative"] = row.get("legal_representative") or ""
        row["scale"] = row.get("scale") or ""
        enterprises.append(row)
    for start in range(0, len(enterprises), chunk):
        upsert_enterprises(enterprises[start:start + chunk], source=SOURCE)
    counts["enterprises"] = len(enterprises)
    ids = dict(Enterprise.objects.values_list("uscc", "pk"))

    def link(rows):
        for row in rows:
            row["enterprise_id"] = ids[row.pop("uscc")]
        return rows

    licences = link(_rows(world.table("licences"), drop=("enterprise_id",)))
    for start in range(0, len(licences), chunk):
        upsert_licences(licences[start:start + chunk], source=SOURCE)
    counts["licences"] = len(licences)
    for kind in RECORD_KINDS:
        table = world.table(kind)
        drop = {"enterprise_id", "enterprise_name", "enterprise_address"}
        rows = _rows(table, drop=drop)
        for row in rows:
            if kind == "list_entries":
                row["entry_key"] = ListEntry.make_key(row["uscc"], row["list_kind"], row["listed_on"])
                row["reason"] = row.get("reason") or ""
            if kind == "sampling_tests":
                row["failed_items"] = _failed_items(row.get("failed_items"))
            if kind == "credit_repairs":
                row["decided_on"] = row.get("decided_on")
            for key, value in list(row.items()):
                if value is None and key not in ("decided_on", "removed_on", "publicity_until"):
                    row[key] = ""  # text columns are blank, not null
        link(rows)
        for start in range(0, len(rows), chunk):
            upsert_records(kind, rows[start:start + chunk], source=SOURCE)
        counts[kind] = len(rows)
        progress(f"  {kind}: {len(rows)}")
    return counts, time.perf_counter() - started


def _failed_items(text):
    """'项目║结果║标准；…' → [{"item", "measured", "standard"}]."""
    items = []
    for part in (text or "").split("；"):
        if not part.strip():
            continue
        item, measured, standard = ([*part.split("║"), "", ""])[:3]
        items.append({"item": item, "measured": measured, "standard": standard})
    return items
