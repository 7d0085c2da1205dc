import sqlite3

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from foodrisk.core.models import AuditEntry, Organisation
from foodrisk.core.services import backup
from foodrisk.core.testing import make_regions


@pytest.mark.django_db(transaction=True)
def test_backup_is_consistent_and_verifiable(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "photo.jpg").write_bytes(b"jpeg")
    regions = make_regions()
    Organisation.objects.create(code="B1", name="备份测试局", region=regions["330102"])
    if connection.vendor == "postgresql":
        import shutil

        if not shutil.which("pg_dump"):
            pytest.skip("pg_dump not installed")
    target, manifest = backup.backup(tmp_path / "backups")
    assert "media.tar.gz" in manifest["files"]
    assert backup.verify_backup(target) == []
    assert AuditEntry.objects.filter(action="core.backup").exists()
    if connection.vendor == "sqlite":
        copy = sqlite3.connect(target / "database.sqlite3")
        assert copy.execute("select name from core_organisation where code='B1'").fetchone() == ("备份测试局",)
    (target / "media.tar.gz").write_bytes(b"tampered")
    with pytest.raises(CommandError, match="media.tar.gz"):
        call_command("backup", verify=str(target))
