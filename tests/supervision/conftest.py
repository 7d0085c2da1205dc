import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(autouse=True)
def _supervision_seeds(db):
    """Profiles, checklist and parameters come from a data migration; a TransactionTestCase elsewhere in
    the same worker flushes them, so load them again (idempotent)."""
    from foodrisk.supervision.seeds import seed

    seed()
