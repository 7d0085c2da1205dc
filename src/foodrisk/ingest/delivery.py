"""Importing files from disk: one file, or a whole delivery described by a manifest (foodrisk synth output),
in dependency order (the enterprises, then the other files side by side)."""

import datetime as dt
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path

from django.utils.translation import gettext as _

from . import mapping


class DeliveryError(Exception):
    pass


def import_file(path, *, source, kind="auto", profile="", wait=True, user=None, import_day=None, region=None,
                confirm_duplicate=False):
    """region: the jurisdiction the file belongs to (a Region or its code); its users see the batch, and rows
    outside it are refused. None: the user's own, else none (only users who see every region see the batch).
    confirm_duplicate: import a file that was already imported again (see batches.create_batch)."""
    batch = store_file(path, source=source, kind=kind, profile=profile, user=user, import_day=import_day,
                       region=region, confirm_duplicate=confirm_duplicate)
    return _run(batch, user, wait=wait)


def _region(region):
    """A Region given as itself, by its code, or None."""
    from foodrisk.core.models import Region

    if not isinstance(region, str):
        return region
    found = Region.objects.filter(pk=region).first()
    if found is None:
        raise DeliveryError(_("No such region: %(code)s") % {"code": region})
    return found


def store_file(path, *, source, kind="auto", profile="", user=None, import_day=None, region=None,
               confirm_duplicate=False):
    """The file stored as a pending batch (see import_file)."""
    from .services import IngestError, batches

    path = Path(path)
    if not path.exists():
        raise DeliveryError(_("No such file: %(path)s") % {"path": path})
    region = _region(region)
    try:
        return batches.create_batch(user=user, source=source, kind=kind, content=path.read_bytes(),
                                     file_name=path.name, profile=profile or None, import_day=import_day,
                                     region=region, confirm_duplicate=confirm_duplicate)
    except IngestError as exc:
        raise DeliveryError(str(exc))


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


def import_manifest(manifest_path, *, user=None, out=print, import_day=None, region=None, workers=None,
                    confirm_duplicate=False):
    """Every file of a delivery. All are stored as batches first (a file that cannot be read stops the delivery
    before anything is imported), then imported stage by stage (mapping.IMPORT_STAGE: enterprises, then the
    rest). Within a stage, files of different kinds run side by side in up to `workers` processes (default
    settings.INGEST_WORKERS): this one and spawned helpers; files of one kind (one table) stay in one process,
    in order. One process on SQLite (a single writer) and inside a transaction (helpers would not see the
    batches). region: a Region or its code; default the manifest's city, so that the city's users see the
    batches."""
    from foodrisk.core.models import Region

    from .models import Batch
    from .services.batches import format_report

    region = _region(region)  # a code is looked up once, not per file
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
    stored = []
    for entry in files:
        file = path.parent / entry["file"]
        profile = "" if entry.get("profile", "template") == "template" else entry["profile"]
        batch = store_file(file, source=entry.get("source") or entry["file"], kind=entry["kind"], profile=profile,
                           user=user, import_day=day, region=region, confirm_duplicate=confirm_duplicate)
        stored.append((batch, file.stat().st_size))
    stages = {}
    for batch, size in stored:
        stages.setdefault(mapping.IMPORT_STAGE.get(batch.kind, len(mapping.KINDS)), []).append((batch, size))
    plan = [plan_lanes(stages[stage], worker_count(workers)) for stage in sorted(stages)]
    helpers = max(len(lanes) for lanes in plan) - 1 if plan else 0
    done = {}  # pk → the batch as it finished
    with _helpers(helpers) as pool:
        for lanes in plan:
            running = [pool.submit(_run_lane, [b.pk for b in lane], getattr(user, "pk", None)) for lane in lanes[1:]]
            for batch in lanes[0]:  # the heaviest lane here, the others in the helpers
                done[batch.pk] = _run(batch, user)
                out(format_report(done[batch.pk]))
            for future in as_completed(running):
                finished = Batch.objects.in_bulk(future.result())
                for pk in future.result():
                    done[pk] = finished[pk]
                    out(format_report(done[pk]))
    return [done[batch.pk] for batch, _size in stored]


def plan_lanes(batches, workers):
    """[(batch, file size)] → lanes (lists of batches, heaviest lane first) for `workers` processes: the files of
    one kind together, in their order, groups placed heaviest first on the lightest lane. An XLSX file counts
    three times its size (compressed, and slower to read)."""
    groups = {}
    for batch, size in batches:
        weight = size * (3 if batch.file_name.lower().endswith((".xlsx", ".xlsm")) else 1)
        group = groups.setdefault(batch.kind, [0, []])
        group[0] += weight
        group[1].append(batch)
    lanes = [[0, []] for _ in range(max(1, min(workers, len(groups))))]
    for weight, group in sorted(groups.values(), key=lambda g: -g[0]):
        lane = min(lanes, key=lambda lane: lane[0])
        lane[0] += weight
        lane[1].extend(group)
    lanes.sort(key=lambda lane: -lane[0])
    return [sorted(lane, key=lambda b: (mapping.KIND_ORDER.get(b.kind, 99), b.pk)) for _weight, lane in lanes]


def worker_count(workers=None):
    """How many processes import a delivery's stage: `workers` (default settings.INGEST_WORKERS), but one on
    SQLite or inside a transaction."""
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return max(1, workers or settings.INGEST_WORKERS)


@contextmanager
def _helpers(count):
    """A pool of `count` spawned processes, started now (their start-up overlaps the first stage), or none."""
    if count < 1:
        yield None
        return
    from django.conf import settings
    from django.db import connections

    databases = {alias: connections[alias].settings_dict["NAME"] for alias in connections}
    with ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"), initializer=_start_helper,
                             initargs=(databases, str(settings.MEDIA_ROOT))) as pool:
        for _ in range(count):
            pool.submit(int)
        yield pool


def _start_helper(databases, media_root):
    """In a helper: Django set up with this process's settings, on the caller's databases (a test database has
    another name than the settings give) and media folder."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connections

    for alias, name in databases.items():
        settings.DATABASES[alias]["NAME"] = name
        connections[alias].settings_dict["NAME"] = name
    settings.MEDIA_ROOT = media_root


def _run_lane(batch_ids, user_id):
    """In a helper: run these stored batches in order; returns their ids."""
    from foodrisk.core.models import User

    from .models import Batch

    user = User.objects.filter(pk=user_id).first() if user_id else None
    for pk in batch_ids:
        _run(Batch.objects.get(pk=pk), user)
    return batch_ids


def _run(batch, user, wait=True):
    """Start the batch (wait: run it now, in this process); returns it as stored after."""
    from .models import Batch
    from .services import batches

    batches.start_batch(batch, user=user, wait=wait)
    return Batch.objects.get(pk=batch.pk)
