"""kill -9 in the middle of an import: the batch is detected as failed, its counters equal the committed rows, and
resuming it imports the rest with every row accounted for. The import runs in a real separate process sharing the
test's database (PostgreSQL: the test database itself; SQLite: a file copy of it)."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from foodrisk.ingest.services import batches

from .conftest import ENT_HEADERS, IMPORT_DAY, csv_bytes, ent_row, make_uscc, run_import

WORKER = Path(__file__).with_name("interrupted_import.py")
INSP = ["检查编号", "统一社会信用代码", "检查日期", "检查类型", "检查机构", "检查人员", "检查结果", "不符合重点项数", "不符合一般项数", "责令整改"]
ROWS, CHUNK, KILL_AFTER = 8000, 250, 3


def shared_database_url(tmp_path):
    """A URL another process can open and find what this test wrote."""
    s = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{s['USER']}:{s.get('PASSWORD') or ''}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    copy = tmp_path / "shared.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(copy) as target:
        connection.connection.backup(target)
    return f"sqlite:///{copy}"


def run(command, batch_id, env, *extra):
    done = subprocess.run([sys.executable, str(WORKER), command, str(batch_id), *extra], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_killed_import_is_detected_counts_what_is_committed_and_resumes(regions, tmp_path, settings):
    run_import(csv_bytes(ENT_HEADERS, [ent_row(seq, f"杭州第{seq}号面馆有限公司") for seq in range(1, 21)]), "e.csv")
    rows = [[f"JC{i:05d}", make_uscc(1 + i % 20), "2025-02-30" if i % 97 == 0 else "2025-03-01", "日常检查", "上城所",
             "李四", "符合", "0", "0", "否"] for i in range(ROWS)]
    bad = sum(1 for i in range(ROWS) if i % 97 == 0)
    batch = batches.create_batch(source="test", content=csv_bytes(INSP, rows), file_name="inspections.csv",
                                 import_day=IMPORT_DAY)
    env = {**os.environ, "FOODRISK_DATABASE_URL": shared_database_url(tmp_path),
           "FOODRISK_MEDIA_ROOT": str(settings.MEDIA_ROOT), "FOODRISK_TESTING": "1"}

    worker = subprocess.Popen([sys.executable, str(WORKER), "import", str(batch.pk), str(CHUNK)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = 0
    for _line in worker.stdout:  # one line per committed chunk
        seen += 1
        if seen == KILL_AFTER:
            os.kill(worker.pid, signal.SIGKILL)  # in the middle of the next chunk, most likely
            break
    worker.wait(timeout=60)
    assert worker.returncode == -signal.SIGKILL, (seen, worker.stderr.read()[-3000:])

    after_kill = run("check", batch.pk, env)
    assert (after_kill["status_before"], after_kill["stale"], after_kill["status"]) == ("running", 1, "failed")
    assert "继续导入" in after_kill["error"]
    counts = after_kill["counts"]
    assert after_kill["add_up"] and counts["rows_read"] >= KILL_AFTER * CHUNK and counts["rows_read"] % CHUNK == 0
    assert counts["rows_read"] < ROWS  # killed before the end
    assert counts["accepted_new"] == after_kill["records"]  # the counters are what is committed, nothing more
    assert counts["quarantined"] == after_kill["quarantined_rows"]

    resumed = run("resume", batch.pk, env)
    assert (resumed["job"], resumed["status"]) == ("succeeded", "succeeded"), resumed["error"]
    assert resumed["add_up"] and resumed["counts"]["rows_read"] == ROWS
    assert (resumed["counts"]["accepted_new"], resumed["records"]) == (ROWS - bad, ROWS - bad)
    assert (resumed["counts"]["quarantined"], resumed["quarantined_rows"]) == (bad, bad)
