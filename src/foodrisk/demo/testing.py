"""Test helpers of the demo."""

import io

from django.core.management import call_command


def installation():
    """The installation `make demo` runs demo_data on: `seed`, the defaults the data migrations load (warning rules,
    supervision profiles and checklist: a transactional test before may have flushed them) and `demo_accounts`."""
    from foodrisk.alerts.seeds import seed_default_rules
    from foodrisk.supervision.seeds import seed as seed_supervision

    quiet = {"stdout": io.StringIO()}
    call_command("seed", **quiet)
    seed_default_rules()
    seed_supervision()
    call_command("demo_accounts", **quiet)
