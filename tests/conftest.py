import pytest


@pytest.fixture(autouse=True)
def _media_root(request, tmp_path):
    """Uploaded files go to a temporary folder, never into var/ (skipped when run with -p no:django);
    so do the audit chain's checkpoints (each test database has its own chain)."""
    if request.config.pluginmanager.hasplugin("django"):
        settings = request.getfixturevalue("settings")
        settings.MEDIA_ROOT = tmp_path / "media"
        settings.AUDIT_CHECKPOINT_DIR = tmp_path / "audit-checkpoints"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Test sessions on PostgreSQL may TRUNCATE the audit log (a transactional test's flush does): the
    database refuses it otherwise (core migration 0002)."""
    from django.conf import settings

    for db in settings.DATABASES.values():
        if db["ENGINE"].endswith("postgresql"):
            options = db.setdefault("OPTIONS", {})
            options["options"] = f"{options.get('options', '')} -c foodrisk.audit_maintenance=on".strip()
