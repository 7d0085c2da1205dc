"""A separate process for test_interrupted: `import BATCH CHUNK` runs the batch printing a line per committed
chunk (the test kills it with SIGKILL); `check BATCH` and `resume BATCH` print what the database holds as JSON.
Configured by the environment (FOODRISK_DATABASE_URL, FOODRISK_MEDIA_ROOT) to share the test's database."""

import datetime as dt
import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "foodrisk.settings")
django.setup()

from foodrisk.ingest.models import Batch, QuarantinedRow  # noqa: E402
from foodrisk.ingest.services import batches  # noqa: E402
from foodrisk.ingest.services.pipeline import MODELS  # noqa: E402


def state(batch_id, **extra):
    batch = Batch.objects.get(pk=batch_id)
    return {**extra, "status": batch.status, "error": batch.error, "counts": batches.counts(batch),
            "add_up": batch.counts_add_up, "records": MODELS[batch.kind].objects.filter(source_batch=batch_id).count(),
            "quarantined_rows": QuarantinedRow.objects.filter(batch_id=batch_id).count()}


def main(command, batch_id, chunk=None):
    if command == "import":
        batches.CHUNK = int(chunk)
        batches.run_batch(Batch.objects.get(pk=batch_id), progress=lambda done, total, _m: print(done, total, flush=True))
    elif command == "check":
        before = Batch.objects.get(pk=batch_id).status
        stale = batches.fail_stale_batches(dt.timedelta(0))
        print(json.dumps(state(batch_id, status_before=before, stale=stale), ensure_ascii=False))
    elif command == "resume":
        job = batches.resume_batch(Batch.objects.get(pk=batch_id), wait=True)
        job.refresh_from_db()
        print(json.dumps(state(batch_id, job=job.status), ensure_ascii=False))


if __name__ == "__main__":
    main(*sys.argv[1:])
