"""`foodrisk db_worker` with the fault tests' job kinds registered: python run_worker.py [db_worker options]."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "foodrisk.settings")

import django  # noqa: E402

django.setup()

import fault_jobs  # noqa: E402, F401  (registers test.slow and test.slow_once)
from django.core.management import execute_from_command_line  # noqa: E402

execute_from_command_line(["foodrisk", "db_worker", *sys.argv[1:]])
