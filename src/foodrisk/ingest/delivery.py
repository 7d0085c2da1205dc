"""Importing files from disk: one file, or a whole delivery described by a manifest (foodrisk synth output),
in dependency order (enterprises → licences → records)."""

import datetime as dt
import json
from pathlib import Path

from . import mapping


class DeliveryError(Exception):
    pass


def import_file(path, *, source, kind="auto", profile="", wait=True, user=None, import_day=None, region=None):
    """region: the jurisdiction the file belongs to (a Region or its code); its users see the batch, and rows
    outside it are refused. None: the user's own, else none (only users who see every region see the batch)."""
    from foodrisk.core.models import Region

    from . import services
    from .models import Batch

    path = Path(path)
    if not path.exists():
        raise DeliveryError(f"no such file: {path}")
    if isinstance(region, str):
        code, region = region, Region.objects.filter(pk=region).first()
        if region is None:
            raise DeliveryError(f"no such region: {code}")
    try:
        batch = services.create_batch(user=user, source=source, kind=kind, content=path.read_bytes(),
                                      file_name=path.name, profile=profile or None, import_day=import_day,
                                      region=region)
    except services.IngestError as exc:
        raise DeliveryError(str(exc))
    services.start_batch(batch, user=user, wait=wait)
    return Batch.objects.get(pk=batch.pk)


def ensure_manifest_regions(manifest, user=None):
    """The synth city's regions must exist: GB/T 2260 from the loader, stations from the manifest."""
    from foodrisk.core import seeds
    from foodrisk.core.models import Region
    from foodrisk.core.services import objects

    if not Region.objects.exists():
        seeds.load_regions()
    city = manifest.get("city") or {}
    known = set(Region.objects.filter(code__in=[s["code"] for s in city.get("stations", [])])
                .values_list("code", flat=True))
    for station in city.get("stations", []):
        if station["code"] in known or not Region.objects.filter(pk=station["code"][:6]).exists():
            continue
        objects.save_instance(Region(code=station["code"], name=station["name"], level="station",
                                     parent_id=station["code"][:6], full_name=station["name"]), user=user)


def import_manifest(manifest_path, *, user=None, out=print, import_day=None, region=None):
    """Every file of a delivery, in dependency order. region: default the manifest's city, so that the city's
    users see the batches."""
    from foodrisk.core.models import Region

    path = Path(manifest_path)
    if path.is_dir():
        path = path / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    ensure_manifest_regions(manifest, user=user)
    city = (manifest.get("city") or {}).get("code")
    if region is None and city and (user is None or getattr(user, "scope_prefix", "") in ("", None)):
        region = Region.objects.filter(pk=city).first()
    day = import_day or (dt.date.fromisoformat(manifest["import_day"]) if manifest.get("import_day") else None)
    files = sorted(manifest["files"], key=lambda f: mapping.KIND_ORDER.get(f["kind"], 99))
    from .services import format_report

    batches = []
    for entry in files:
        profile = "" if entry.get("profile", "template") == "template" else entry["profile"]
        batch = import_file(path.parent / entry["file"], source=entry.get("source") or entry["file"],
                            kind=entry["kind"], profile=profile, wait=True, user=user, import_day=day, region=region)
        out(format_report(batch))
        batches.append(batch)
    return batches
