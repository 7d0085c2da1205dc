"""Backups and restores: a consistent copy of the database plus the uploaded files, with a signed manifest.

A backup folder `foodrisk-<UTC time>/` holds
- `database.sqlite3` (SQLite's online backup API, safe while the server runs) or `database.pgdump`
  (`pg_dump --format=custom`: one consistent snapshot, restored by `pg_restore` into an empty database);
- `media.tar.gz`: the files of the media root, with paths relative to it (local storage only);
- `manifest.json`: size and SHA-256 of each file, the audit chain's signed checkpoint taken just before the
  dump, all signed with the audit key (so a changed digest or checkpoint shows).

The backup's own audit entry is committed before the dump, so the backup contains the record of itself and
the checkpoint counts it. `restore` goes into an EMPTY database and an empty media root, then checks the
restored audit chain against the manifest's checkpoint and records itself in the chain and in the
checkpoint log (a restore line, so the checkpoints of the history it rolled back no longer apply).
"""

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import connection

from . import audit

FORMAT = 2  # 1: media archive nested a "media/" folder, no signature, audit entry after the dump


class RestoreError(Exception):
    pass


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _pg_args(db):
    """Connection arguments and environment for the PostgreSQL client tools."""
    args = ["-h", db.get("HOST") or "localhost", "-p", str(db.get("PORT") or 5432), "-U", db.get("USER") or "postgres"]
    return args, {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}


def _client_tool(name):
    if not shutil.which(name):
        raise RuntimeError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return name


def backup(out_dir, *, include_media=True):
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = Path(out_dir) / f"foodrisk-{stamp}"
    target.mkdir(parents=True, exist_ok=False)
    # Committed before the dump: the backup holds the record of itself, and the checkpoint counts it.
    audit.record("core.backup", details={"path": str(target), "include_media": include_media})
    try:
        checkpoint = audit.checkpoint(kind="backup")
    except audit.AuditChainBroken as exc:  # still back up (the evidence matters), but say so in the manifest
        checkpoint = {"broken": str(exc)}
    files = [_dump_database(target)]
    media = Path(settings.MEDIA_ROOT)
    if include_media and settings.STORAGE_KIND == "local":
        archive = target / "media.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            for child in sorted(media.iterdir()) if media.exists() else ():
                tar.add(child, arcname=child.name)
        files.append(archive)
    manifest = audit.sign({
        "format": FORMAT, "created": stamp, "database": connection.vendor,
        "files": {f.name: {"bytes": f.stat().st_size, "sha256": _sha256(f)} for f in files},
        "audit_checkpoint": checkpoint,
    })
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return target, manifest


def _dump_database(target):
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        if connection.in_atomic_block:  # the online backup would wait for this transaction's own lock forever
            raise RuntimeError("an SQLite backup cannot run inside a transaction")
        path = target / "database.sqlite3"
        connection.ensure_connection()
        dest = sqlite3.connect(path)
        with dest:
            connection.connection.backup(dest)
        dest.close()
        return path
    if connection.vendor == "postgresql":
        path = target / "database.pgdump"
        args, env = _pg_args(db)
        subprocess.run([_client_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                        f"--file={path}", *args, db["NAME"]], check=True, env=env)
        return path
    raise RuntimeError(f"backups for {connection.vendor} are not supported")


def read_manifest(path):
    return json.loads((Path(path) / "manifest.json").read_text(encoding="utf-8"))


def verify_backup(path):
    """Recompute the digests of a backup folder; returns the names whose digest differs (manifest.json when
    its signature does not match the audit key)."""
    path = Path(path)
    manifest = read_manifest(path)
    bad = [name for name, meta in manifest["files"].items()
           if not (path / name).exists() or _sha256(path / name) != meta["sha256"]]
    if manifest.get("format", 1) >= 2 and not audit.signature_ok(manifest):
        bad.append("manifest.json")
    return bad


def _media_members(tar, nested):
    """The archive's regular files and folders; a format-1 archive nests them in a "media/" folder."""
    for member in tar.getmembers():
        parts = PurePosixPath(member.name).parts
        if nested:
            if parts[:1] != ("media",) or len(parts) == 1:
                continue
            member.name = str(PurePosixPath(*parts[1:]))
        yield member


def restore(path, *, out=print):
    """Restore a backup folder into the configured database, which must be empty, and the media root,
    which must be empty or absent. Returns a summary; raises RestoreError when it refuses or the restored
    audit chain does not verify against the backup's checkpoint."""
    path = Path(path)
    bad = verify_backup(path)
    if bad:
        raise RestoreError(f"backup damaged: {', '.join(bad)}")
    manifest = read_manifest(path)
    if manifest["database"] != connection.vendor:
        raise RestoreError(f"this backup is of a {manifest['database']} database, the configured one is "
                           f"{connection.vendor}")
    if connection.introspection.table_names():
        raise RestoreError("the database is not empty: restore into a new, empty database "
                           "(PostgreSQL: createdb; SQLite: a new file), then point FOODRISK_DATABASE_URL at it")
    media = Path(settings.MEDIA_ROOT)
    if media.exists() and any(media.iterdir()):
        raise RestoreError(f"the media root {media} is not empty")

    _restore_database(path, manifest)
    out(f"database restored from {path}")
    media_files = 0
    if "media.tar.gz" in manifest["files"]:
        media.mkdir(parents=True, exist_ok=True)
        with tarfile.open(path / "media.tar.gz", "r:gz") as tar:
            members = list(_media_members(tar, nested=manifest.get("format", 1) < 2))
            tar.extractall(media, members=members, filter="data")
            media_files = sum(1 for m in members if m.isfile())
        out(f"{media_files} files restored into {media}")

    result = audit.restored(manifest.get("audit_checkpoint"))
    audit.record("core.restore", details={
        "path": str(path), "backup_created": manifest["created"], "entries": result.checked,
        "media_files": media_files})
    out(f"audit chain verified: {result.checked} entries, matching the backup's signed checkpoint")
    return {"entries": result.checked, "media_files": media_files, "manifest": manifest}


def _restore_database(path, manifest):
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        connection.close()
        source = sqlite3.connect(f"file:{path / 'database.sqlite3'}?mode=ro", uri=True)
        dest = sqlite3.connect(db["NAME"])
        with dest:
            source.backup(dest)
        source.close()
        dest.close()
        return
    # Into an empty database, so no --clean (which fails on every object it cannot find to drop); one
    # transaction and --exit-on-error: a restore either completes or leaves the database empty.
    args, env = _pg_args(db)
    subprocess.run([_client_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction",
                    "--exit-on-error", *args, "-d", db["NAME"], str(path / "database.pgdump")], check=True, env=env)
