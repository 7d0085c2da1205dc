"""A small synthetic city loaded into the archive through the enterprises/records services, and a
trained model artifact cached for the test session (training is the slow part; governance tests reuse
the same artifact JSON in fresh ModelVersion rows)."""

import hashlib
from datetime import date

from foodrisk.core.models import Region
from foodrisk.core.testing import make_regions
from foodrisk.enterprises.models import Enterprise
from foodrisk.enterprises.services import upsert_enterprises, upsert_licences
from foodrisk.records.models import ListEntry
from foodrisk.records.services import upsert_records
from foodrisk.scoring.handlers import no_auto_rescore
from foodrisk.scoring.models import ModelVersion

WORLD_AS_OF = date(2026, 3, 31)
WORLD_SIZE = 400
TRAIN_MONTHS = 36  # history used: the whole 3-year archive

_cache = {}


def world():
    if "world" not in _cache:
        from foodrisk.synth import generate_world

        _cache["world"] = generate_world(WORLD_SIZE, years=3, seed=5, as_of=WORLD_AS_OF)
    return _cache["world"]


def _blank(v):
    return "" if v is None else v


def load_world(w=None):
    """Enterprises, licences and records of the world into the archive; returns {uscc: pk}."""
    w = w or world()
    make_regions()
    ents = w.enterprises.to_pylist()
    for code in sorted({e["region_code"][:6] for e in ents}):
        Region.objects.get_or_create(code=code, defaults={"name": f"区{code}", "level": "county",
                                                          "parent_id": "330100", "full_name": f"杭州市区{code}"})
    rows = [{"uscc": e["uscc"], "name": e["name"], "address": _blank(e["address"]),
             "region_id": e["region_code"][:6], "business_form": e["business_form"], "scale": _blank(e["scale"]),
             "established_on": e["established_on"], "status": e["status"], "static_tier": e["static_tier"],
             "key_supervision": bool(e["key_supervision"]), "former_names": [], "food_categories": []}
            for e in ents]
    with no_auto_rescore():
        upsert_enterprises(rows, source="synth")
        ids = dict(Enterprise.objects.values_list("uscc", "id"))

        def rec(kind, fields, extra=None):
            out = []
            for r in w.table(kind).to_pylist():
                row = {f: _blank(r[f]) if not isinstance(r[f], (bool, int, float, date)) else r[f] for f in fields}
                row["enterprise_id"] = ids[r["uscc"]]
                if extra:
                    row.update(extra(r))
                out.append(row)
            return out

        upsert_licences(rec("licences", ["licence_no", "kind", "category", "issued_on", "expires_on", "status"]))
        upsert_records("inspections", rec("inspections", [
            "inspection_no", "inspected_on", "kind", "organisation", "inspector", "result", "key_items_failed",
            "general_items_failed", "rectification_ordered"]))
        upsert_records("sampling_tests", rec("sampling_tests", [
            "report_no", "sampled_on", "level", "product", "category", "result", "announcement_no"],
            lambda r: {"failed_items": list(r["failed_items"] or [])}))
        upsert_records("penalties", rec("penalties", [
            "decision_no", "decided_on", "violation_type", "severity", "fine", "confiscation", "licence_revoked",
            "publicity_until"], lambda r: {"publicity_until": r["publicity_until"]}))
        upsert_records("complaints", rec("complaints", [
            "complaint_no", "received_on", "channel", "category", "verified", "status", "duplicate_of"]))
        upsert_records("credit_repairs", rec("credit_repairs", [
            "repair_no", "target_kind", "target_no", "applied_on", "decided_on", "decision"],
            lambda r: {"decided_on": r["decided_on"]}))
        upsert_records("list_entries", rec("list_entries", ["list_kind", "listed_on", "reason"], lambda r: {
            "entry_key": ListEntry.make_key(r["uscc"], r["list_kind"], r["listed_on"]),
            "removed_on": r["removed_on"]}))
    return ids


def trained_candidate(user, fresh=False, **kw):
    """Train once per session (the archive must be loaded and a set active); later calls copy the
    artifact into a fresh candidate row trained by `user` (``fresh`` trains again)."""
    from foodrisk.scoring import model_services

    if fresh or "artifact" not in _cache:
        kw.setdefault("threads", 1)  # a shared CI host: no OpenMP oversubscription
        kw.setdefault("horizons", (6,))  # one training horizon and two folds keep the session's fit small
        kw.setdefault("folds", 2)
        mv = model_services.train_candidate(months=TRAIN_MONTHS, as_of=WORLD_AS_OF, user=user, **kw)
        _cache["artifact"], _cache["card"], _cache["window"], _cache["label"] = (
            mv.artifact, mv.metrics, mv.data_window, mv.label)
        return mv
    return copy_candidate(user)


def copy_candidate(user, indicator_set=None):
    from foodrisk.indicators.services import active_sets
    from foodrisk.scoring.model_services import _next_version

    iset = indicator_set or active_sets()[0]
    text = _cache["artifact"]
    return ModelVersion.objects.create(
        version=_next_version(iset), indicator_set=iset, artifact=text,
        artifact_sha256=hashlib.sha256(text.encode()).hexdigest(), label=_cache["label"],
        data_window=_cache["window"], metrics=_cache["card"], trained_by=user)


def on_preview(user, target, as_of=WORLD_AS_OF):
    """The keyword arguments that publish a change of model (promote, rollback, retire the champion): a fresh
    impact preview of making ``target`` the champion (None: no model), confirmed."""
    from foodrisk.scoring import services

    return {"preview": services.preview_model(target, as_of=as_of, user=user), "confirmed": True}
