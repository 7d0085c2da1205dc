import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
# the loop reuses the fixtures of the scoring and supervision tests (scoring_testkit, supervision_testkit)
for folder in (HERE, HERE.parent / "scoring", HERE.parent / "supervision"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


@pytest.fixture(autouse=True)
def _loop_seeds(db):
    """Roles, warning rules, supervision profiles and checklist come from data migrations; a
    TransactionTestCase elsewhere in the same worker flushes them, so load them again (all idempotent)."""
    from foodrisk.alerts.seeds import seed_default_rules
    from foodrisk.core.seeds import seed_roles
    from foodrisk.supervision.seeds import seed

    seed_roles()
    seed_default_rules()
    seed()
