"""A full run on the Spark back end (local[2]) publishes like any run — the same audit entry, Score rows, no
grade changes against the grades the DuckDB back end published — and with the champion the same model scores
and model reasons."""

import json
import shutil
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from model_testkit import WORLD_AS_OF, load_world, on_preview, trained_candidate, world
from scoring_testkit import activate_profile, make_user, people

from foodrisk.core.models import AuditEntry
from foodrisk.engine import profile_dict, score
from foodrisk.engine.spark import SetInput, read_results, write_job
from foodrisk.scoring import model_services, services
from foodrisk.scoring import spark as scoring_spark
from foodrisk.scoring.models import GradeChange, Score
from spark_testkit import spark_or_skip

pytestmark = pytest.mark.django_db

PERMS = ("scoring.view_modelversion", "scoring.add_modelversion", "scoring.promote_modelversion",
         "scoring.view_score")
FIELDS = ("engine_grade", "base_grade", "grade", "new_enterprise", "subtotals", "rule_hits", "reasons", "details",
          "model_version", "model_reasons")


def rows(run):
    return {s.enterprise_id: s for s in Score.objects.filter(run=run)}


def test_spark_run_publishes_what_the_duckdb_run_does(settings, tmp_path):
    spark = spark_or_skip()
    settings.SPARK_MASTER = spark.sparkContext.master  # the test session's local[2]: no second session
    settings.SPARK_CONF = {"spark.sql.shuffle.partitions": "2"}
    settings.SPARK_WORK_DIR = str(tmp_path / "spark")
    author, approver = people()
    activate_profile(author, approver)
    load_world()
    trainer = make_user("trainer", None, *PERMS, national=True)
    admin = make_user("modeladmin", None, *PERMS, national=True)
    mv = trained_candidate(trainer)
    model_services.promote(mv, user=admin, note="card reviewed", **on_preview(admin, mv))

    first = services.run_scoring("full", WORLD_AS_OF, author, engine="duckdb")
    call_command("score", "--full", "--wait", "--engine", "spark", "--as-of", WORLD_AS_OF.isoformat())
    on_spark = services.last_successful_run()
    again = services.run_scoring("full", WORLD_AS_OF, author, engine="duckdb")

    assert on_spark.summary["engine"] == "spark" and again.summary["engine"] == "duckdb"
    assert on_spark.timing["spark"]["total_s"] > 0 and not list(tmp_path.joinpath("spark").iterdir())
    # published like any run: the audit entry, the figures; the grades the DuckDB run published did not move
    assert AuditEntry.objects.filter(action="scoring.run.publish", object_id=str(on_spark.pk)).count() == 1
    assert on_spark.changed_count == 0 and not GradeChange.objects.filter(run=on_spark).exists()
    assert on_spark.grade_distribution == first.grade_distribution == again.grade_distribution
    assert on_spark.summary["model"]["scored"] == again.summary["model"]["scored"] > 0
    assert on_spark.summary["model"]["explained"] == again.summary["model"]["explained"] > 0
    a, b = rows(on_spark), rows(again)  # both after a run that published these grades: same explanation targets
    assert a.keys() == b.keys() and len(a) == on_spark.enterprise_count
    for eid, s in a.items():
        t = b[eid]
        assert all(getattr(s, f) == getattr(t, f) for f in FIELDS), eid
        for f in ("rule_score", "total_score", "model_score"):
            x, y = getattr(s, f), getattr(t, f)
            assert (x is None and y is None) or abs(float(x) - float(y)) <= 1e-9, (eid, f)
    assert sum(1 for s in a.values() if s.model_reasons) == on_spark.summary["model"]["explained"]


def test_job_through_spark_submit(settings, tmp_path):
    """What a cluster master does: the job directory written once, spark-submit runs spark_main.py on it (here
    with a local master), the results read back — the same scores as DuckDB's."""
    spark_or_skip()
    submit = Path(sys.executable).with_name("spark-submit")
    if not submit.exists():
        submit = shutil.which("spark-submit")
    settings.SPARK_SUBMIT = str(submit)
    settings.SPARK_MASTER = "local[1]"
    settings.SPARK_CONF = {"spark.pyspark.python": sys.executable, "spark.pyspark.driver.python": sys.executable,
                           "spark.sql.shuffle.partitions": "2", "spark.ui.enabled": "false"}
    snap = world().to_snapshot()
    spec = profile_dict("anhui")
    uri = write_job(str(tmp_path / "job"), snap, [SetInput("7", spec)], WORLD_AS_OF)
    assert any(p.name.startswith("region_part=3301") for p in (tmp_path / "job" / "snapshot" / "inspections").iterdir())
    scoring_spark.submit(uri)
    res = read_results(uri)
    assert res.model_scores is None and res.reasons == {} and res.timing["total_s"] > 0
    [(key, result)] = res.parts
    want = score(snap, spec, WORLD_AS_OF, compact_details=True).scores
    assert key == "7" and result.scores["enterprise_id"].equals(want["enterprise_id"])
    for col in ("grade", "base_grade", "rule_score", "total_score"):
        assert result.scores[col].equals(want[col]), col
    for col in ("reasons", "rule_hits", "subtotals"):
        assert [json.loads(r) for r in result.scores[col].to_pylist()] == [
            json.loads(r) for r in want[col].to_pylist()], col


def test_failed_submit_says_why(settings, tmp_path):
    settings.SPARK_SUBMIT = "false"  # a command that fails
    with pytest.raises(RuntimeError, match="spark-submit failed"):
        scoring_spark.submit(str(tmp_path / "job"))


@pytest.mark.parametrize(("kind", "engine", "n", "threshold", "want"), [
    ("full", None, 2_000_001, 2_000_000, "spark"),
    ("full", None, 2_000_000, 2_000_000, "duckdb"),
    ("full", None, 10**8, 0, "duckdb"),  # 0: never by size
    ("incremental", None, 3_000_000, 2_000_000, "duckdb"),  # increments are small: this process
    ("incremental", "spark", 10, 0, "spark"),  # asked for explicitly
    ("full", "duckdb", 3_000_000, 2_000_000, "duckdb"),
])
def test_engine_by_size_or_as_asked(settings, kind, engine, n, threshold, want):
    settings.SPARK_THRESHOLD = threshold
    assert services.choose_engine(kind, engine, n) == want
