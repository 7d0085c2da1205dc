"""Engine tests run without Django (``-p no:django``): neutralise Django-only autouse fixtures."""

import pytest


@pytest.fixture(autouse=True)
def _media_root():
    # overrides tests/conftest.py's Django MEDIA_ROOT fixture: the engine never touches Django settings
    yield
