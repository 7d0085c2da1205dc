"""Backup → `foodrisk restore` into an EMPTY database and media root → the same rows in every table, the same
files, and the audit chain verifies (issue 12). Runs on the database the suite runs on (SQLite or PostgreSQL);
the restore runs as an operator would run it: `foodrisk restore` in another process, pointed at the new
database by FOODRISK_DATABASE_URL."""

import hashlib
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from foodrisk.core.models import AuditEntry
from foodrisk.core.services import backup


def _checksums(root):
    root = Path(root)
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _source_row_counts():
    with connection.cursor() as cursor:
        counts = {}
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
    return counts


def _row_counts(db_connect, tables):
    conn = db_connect()
    try:
        cursor = conn.cursor()
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
        return counts
    finally:
        conn.close()


@pytest.fixture
def empty_database(tmp_path):
    """A new, empty database: (FOODRISK_DATABASE_URL, a function that opens a DB-API connection to it)."""
    if connection.vendor == "sqlite":
        path = tmp_path / "restored.sqlite3"
        yield f"sqlite:///{path}", lambda: sqlite3.connect(path)
        return
    import psycopg

    if not shutil.which("pg_dump") or not shutil.which("pg_restore"):
        pytest.skip("PostgreSQL client tools not installed")
    db = connection.settings_dict
    params = dict(host=db["HOST"] or "localhost", port=db["PORT"] or 5432, user=db["USER"] or "postgres",
                  password=db["PASSWORD"] or None)
    name = f"audit_backup_restore_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    password = f":{params['password']}" if params["password"] else ""
    yield (f"postgres://{params['user']}{password}@{params['host']}:{params['port']}/{name}",
           lambda: psycopg.connect(dbname=name, **params))
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _foodrisk(*args, env):
    return subprocess.run([sys.executable, "-m", "foodrisk", *args], env=env, capture_output=True, text=True,
                          timeout=600)


def _small_city():
    """Regions, an organisation and a user, enterprises with licences, every kind of record and attachments
    (files in nested folders of the media root, one with a Chinese name), written through the services where
    they audit; some encrypted fields (the field key must travel with the backup)."""
    from django.core.files.base import ContentFile

    from foodrisk.core.models import Organisation, User
    from foodrisk.core.testing import make_regions
    from foodrisk.enterprises.services import save_enterprise
    from foodrisk.enterprises.testing import make_enterprise, make_licence
    from foodrisk.records.models import Attachment
    from foodrisk.records.services import save_attachment
    from foodrisk.records.testing import make_record

    regions = make_regions()
    organisation = Organisation.objects.create(code="R-1", name="上城区市场监管局", region=regions["330102"])
    user = User.objects.create_user("restorer", password="Test-pass-2026!", organisation=organisation)
    for n in range(12):
        enterprise = make_enterprise(regions["330102" if n % 2 else "330106"])
        enterprise.address = f"杭州市某路{n}号"
        save_enterprise(enterprise, user=user)
        make_licence(enterprise)
        for kind in ("inspections", "sampling_tests", "penalties", "complaints", "list_entries"):
            make_record(kind, enterprise)
        if n % 3 == 0:
            save_attachment(Attachment(enterprise=enterprise, kind="photo", description="现场照片",
                                       file=ContentFile(os.urandom(1024 + n), name=f"现场照片-{n}.jpg")), user=user)


@pytest.mark.django_db(transaction=True)
def test_restore_round_trip_into_an_empty_database(tmp_path, empty_database):
    _small_city()
    media = Path(settings.MEDIA_ROOT)
    folder, manifest = backup.backup(tmp_path / "backups")
    source_counts, source_files = _source_row_counts(), _checksums(media)
    assert manifest["audit_checkpoint"]["count"] == AuditEntry.objects.get(action="core.backup").seq
    assert source_counts["core_auditentry"] > 10 and len(source_files) > 3

    url, connect = empty_database
    restored_media = tmp_path / "restored-media"
    env = {**os.environ, "FOODRISK_DATABASE_URL": url, "FOODRISK_MEDIA_ROOT": str(restored_media),
           "FOODRISK_AUDIT_KEY": settings.AUDIT_KEY, "FOODRISK_SECRET_KEY": settings.SECRET_KEY,
           "FOODRISK_AUDIT_CHECKPOINT_DIR": str(settings.AUDIT_CHECKPOINT_DIR), "FOODRISK_DB_POOL": "0"}
    restored = _foodrisk("restore", str(folder), env=env)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "audit chain verified" in restored.stdout

    verified = _foodrisk("audit", "verify", env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "audit chain OK" in verified.stdout and "signed checkpoints" in verified.stdout

    # Every table holds the same rows; the audit log one more: the restore's own entry.
    expected = {**source_counts, "core_auditentry": source_counts["core_auditentry"] + 1}
    assert _row_counts(connect, sorted(source_counts)) == expected
    conn = connect()
    try:
        last_action = conn.cursor().execute("SELECT action FROM core_auditentry ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    assert last_action == ("core.restore",)
    assert _checksums(restored_media) == source_files  # the files themselves, not a nested media/ folder

    # A restore never overwrites: the database is not empty any more.
    again = _foodrisk("restore", str(folder), env=env)
    assert again.returncode != 0 and "not empty" in again.stderr


@pytest.mark.django_db(transaction=True)  # a backup reads committed data
def test_restore_refuses_a_damaged_backup_or_a_forged_manifest(tmp_path):
    folder, manifest = backup.backup(tmp_path / "backups")
    assert backup.verify_backup(folder) == []
    text = (folder / "manifest.json").read_text()
    (folder / "manifest.json").write_text(text.replace('"created": "', '"created": "1'))
    assert backup.verify_backup(folder) == ["manifest.json"]
    (folder / "manifest.json").write_text(text)
    with open(folder / next(iter(manifest["files"])), "ab") as f:
        f.write(b"x")
    with pytest.raises(backup.RestoreError, match="damaged"):
        backup.restore(folder, out=lambda line: None)


def test_media_of_a_format_1_backup_is_unnested():
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as tar:
        for name in ("media", "media/jobs", "media/jobs/a.csv"):
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE if not name.endswith(".csv") else tarfile.REGTYPE
            tar.addfile(info, io.BytesIO(b"") if info.isfile() else None)
    data.seek(0)
    with tarfile.open(fileobj=data, mode="r:gz") as tar:
        assert [m.name for m in backup._media_members(tar, nested=True)] == ["jobs", "jobs/a.csv"]
