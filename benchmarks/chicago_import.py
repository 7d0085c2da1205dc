"""Import the City of Chicago's two files, unedited (../shared/data/chicago, see its README), over the REST API
with the built-in profiles made in the designer, and record what happened: rows imported, how each record was
linked, what was quarantined and why. Writes benchmarks/results/chicago-import.json (quoted in the closing note
of issue 11 and in docs/data-formats.md).

    FOODRISK_DATABASE_URL=postgres://…/<db> .venv/bin/python benchmarks/chicago_import.py   (empties that DB's
    archive!)   CHICAGO_DIR to point elsewhere; without FOODRISK_DATABASE_URL an SQLite database in a temporary
    folder.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# ../shared/data/chicago beside the repository (a worktree one level deeper finds it one more level up)
DATA = Path(os.environ.get("CHICAGO_DIR") or next(
    (p for p in (HERE.parent.parent / "shared/data/chicago", HERE.parent.parent.parent / "shared/data/chicago")
     if p.exists()), HERE.parent.parent / "shared/data/chicago"))
# the inspection file twice: its records, then what it says of each premises (facility type → business form,
# Chicago's risk class → static tier) onto the enterprises its licence numbers name
FILES = (("business_licenses.csv", "enterprises", "chicago_licenses"),
         ("food_inspections.csv", "inspections", "chicago_inspections"),
         ("food_inspections.csv", "enterprises", "chicago_inspection_premises"))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "foodrisk.settings")
if "FOODRISK_DATABASE_URL" not in os.environ:
    os.environ["FOODRISK_VAR_DIR"] = tempfile.mkdtemp(prefix="foodrisk-chicago-")
os.environ.setdefault("FOODRISK_DB_POOL", "0")


def main(out=HERE / "results" / "chicago-import.json"):
    """Import both files; ``out`` receives the record (None: nothing written — bench_validity's own import)."""
    import django

    django.setup()
    from bench_ingest import reset_archive
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings
    from rest_framework.test import APIClient

    from foodrisk.core import seeds
    from foodrisk.core.models import Organisation, Region, Role
    from foodrisk.core.services import accounts
    from foodrisk.enterprises.models import CrosswalkEntry
    from foodrisk.ingest.models import Batch
    from foodrisk.ingest.validators import reason_label

    call_command("migrate", verbosity=0)
    if not Region.objects.exists():
        seeds.load_regions()
    seeds.seed_all()
    from foodrisk.ingest import mapping
    from foodrisk.ingest.models import MappingProfile
    from foodrisk.ingest.services.profiles import ensure_builtin_profiles

    ensure_builtin_profiles()  # the profiles as shipped, also in a database an earlier version of them was used in
    for _name, _kind, code in FILES:
        MappingProfile.objects.filter(code=code, builtin=True).update(config=mapping.BUILTIN_PROFILES[code])
    reset_archive(connection)
    CrosswalkEntry.objects.all().delete()
    org, _ = Organisation.objects.get_or_create(code="CHI", defaults={"name": "芝加哥公共卫生局",
                                                                    "region": Region.objects.get(code="110105")})
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username="chicago-data").first() or accounts.create_user(
        username="chicago-data", password="Xq7#mRv2-pLw9!zT", full_name="数据管理员", organisation=org,
        roles=[Role.objects.get(code="data_admin")])
    client = APIClient()
    client.force_authenticate(user)
    immediate = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
                             "QUEUES": ["default", "scoring", "ingest"]}}
    result = {"data": str(DATA), "database": connection.vendor, "files": []}
    for name, kind, profile in FILES:
        content = (DATA / name).read_bytes()
        t0 = time.perf_counter()
        with override_settings(TASKS=immediate, ALLOWED_HOSTS=["testserver"]):
            response = client.post("/api/ingest/batches/", {
                "file": SimpleUploadedFile(name, content), "source": "芝加哥", "kind": kind, "profile": profile,
                "confirm_duplicate": "true"}, format="multipart")
        assert response.status_code == 202, response.content
        batch = Batch.objects.get(pk=response.json()["id"])
        with override_settings(ALLOWED_HOSTS=["testserver"]):
            detail = client.get(f"/api/ingest/batches/{batch.pk}/").json()
        assert batch.status == "succeeded", batch.error
        assert batch.counts_add_up
        report = batch.report
        entry = {
            "file": name, "profile": profile, "batch": batch.pk, "seconds": round(time.perf_counter() - t0, 1),
            "rows": batch.rows_read, "new": batch.accepted_new, "updated": batch.accepted_updated,
            "unchanged": batch.unchanged, "merged": batch.merged_duplicates, "quarantined": batch.quarantined,
            "in_review": batch.in_review, "linked_by": report.get("links", {}),
            "quarantined_by_reason": {f"{code}（{reason_label(code, kind)}）": n
                                      for code, n in sorted(report.get("reasons", {}).items(), key=lambda kv: -kv[1])},
            "notes": report.get("notes", {}), "api_status": detail.get("status"),
        }
        result["files"].append(entry)
        print(json.dumps(entry, ensure_ascii=False), flush=True)
    result["crosswalk_entries"] = CrosswalkEntry.objects.filter(scheme="chicago_license").count()
    result["stations"] = Region.objects.filter(parent_id="110105", level="station").count()
    result["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    if out is not None:
        Path(out).parent.mkdir(exist_ok=True)
        Path(out).write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(HERE))
    raise SystemExit(main())
