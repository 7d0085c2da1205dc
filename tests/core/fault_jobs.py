"""Job kinds of the fault tests, registered in the test process and in the worker processes the tests start
(run_worker.py imports this module before the worker loop)."""

import time

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodrisk.core import jobs


def _slow(job, seconds, retried_seconds, with_run):
    if with_run and job.job.attempts == 1:  # a scoring run in flight, as scoring.full keeps one while it computes (published at the end)
        from foodrisk.scoring.models import ScoringRun

        ScoringRun.objects.create(kind="full", as_of=timezone.localdate(), job=job.job)
    wait = seconds if job.job.attempts <= 1 else retried_seconds
    job.log(f"attempt {job.job.attempts}: working {wait} s")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        time.sleep(0.1)
    return {"attempt": job.job.attempts}


@jobs.register("test.slow", _("slow test job, safe to run again"), retry=True)
def slow(job, seconds=60, retried_seconds=0.2, with_run=False):
    return _slow(job, seconds, retried_seconds, with_run)


@jobs.register("test.slow_once", _("slow test job, not to be run again"))
def slow_once(job, seconds=60, retried_seconds=0.2, with_run=False):
    return _slow(job, seconds, retried_seconds, with_run)
