"""Backups: a consistent copy of the database plus the uploaded files, with a SHA-256 manifest.

SQLite uses the online backup API (safe while the server runs); PostgreSQL uses pg_dump in custom
format (restore with pg_restore). The audit log gets an entry naming the files and digests.
"""

import datetime as dt
import hashlib
import json
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path

from django.conf import settings
from django.db import connection

from . import audit


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def backup(out_dir, *, include_media=True):
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = Path(out_dir) / f"foodrisk-{stamp}"
    target.mkdir(parents=True, exist_ok=False)
    files = []
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        path = target / "database.sqlite3"
        connection.ensure_connection()
        dest = sqlite3.connect(path)
        with dest:
            connection.connection.backup(dest)
        dest.close()
        files.append(path)
    elif connection.vendor == "postgresql":
        if not shutil.which("pg_dump"):
            raise RuntimeError("pg_dump is not installed")
        path = target / "database.pgdump"
        env = {"PGPASSWORD": db.get("PASSWORD") or ""}
        cmd = ["pg_dump", "--format=custom", "--no-owner", f"--file={path}", "-h", db.get("HOST") or "localhost",
               "-p", str(db.get("PORT") or 5432), "-U", db.get("USER") or "postgres", db["NAME"]]
        subprocess.run(cmd, check=True, env={**__import__("os").environ, **env})
        files.append(path)
    else:
        raise RuntimeError(f"backups for {connection.vendor} are not supported")
    media = Path(settings.MEDIA_ROOT)
    if include_media and media.exists() and settings.STORAGE_KIND == "local":
        archive = target / "media.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(media, arcname="media")
        files.append(archive)
    manifest = {"created": stamp, "database": connection.vendor,
                "files": {f.name: {"bytes": f.stat().st_size, "sha256": _sha256(f)} for f in files}}
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    audit.record("core.backup", details={"path": str(target), **manifest})
    return target, manifest


def verify_backup(path):
    """Recompute the digests of a backup folder; returns the names whose digest differs."""
    path = Path(path)
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    return [name for name, meta in manifest["files"].items() if _sha256(path / name) != meta["sha256"]]
