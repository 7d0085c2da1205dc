import pytest


@pytest.fixture(autouse=True)
def _media_root(request, tmp_path):
    """Uploaded files go to a temporary folder, never into var/ (skipped when run with -p no:django)."""
    if request.config.pluginmanager.hasplugin("django"):
        request.getfixturevalue("settings").MEDIA_ROOT = tmp_path / "media"
