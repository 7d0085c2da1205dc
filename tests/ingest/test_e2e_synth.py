"""A small synthetic city imported through its files: injected errors found code by code, no row lost."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection

from foodrisk.ingest.delivery import import_manifest
from foodrisk.ingest.evaluation import evaluate, linking_accuracy
from foodrisk.ingest.models import Batch

AS_OF = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def synth_city(tmp_path_factory):
    from foodrisk.synth.world import generate_world
    from foodrisk.synth.writer import write_import_files

    out = tmp_path_factory.mktemp("synth-300")
    world = generate_world(300, 3, seed=7, as_of=AS_OF)
    manifest = write_import_files(world, out, dirty_rate=0.03, seed=7)
    return out, manifest


@pytest.mark.django_db
def test_import_small_city_detects_injected_errors(synth_city, capsys):
    out, manifest = synth_city
    call_command("import", manifest=str(out / "manifest.json"))
    batches = list(Batch.objects.order_by("pk"))
    assert len(batches) == len(manifest["files"])
    rows_in_files = {f["file"]: f["rows"] for f in manifest["files"]}
    for batch in batches:
        assert batch.status == "succeeded", batch.error
        assert batch.counts_add_up
        assert batch.rows_read == rows_in_files[batch.file_name]  # no row lost
    result = evaluate(out, batches)
    assert result["injected"] > 50
    assert result["recall"] >= 0.99, result
    assert result["precision"] >= 0.99, result
    linking = linking_accuracy(out, batches)
    assert linking["accuracy"] >= 0.99, linking
    assert "读取" in capsys.readouterr().out

    # the same delivery again is refused without --force, and with it changes nothing
    with pytest.raises(SystemExit):
        call_command("import", manifest=str(out / "manifest.json"))
    assert "再次导入" in capsys.readouterr().err and Batch.objects.count() == len(batches)
    call_command("import", manifest=str(out / "manifest.json"), force=True)
    again = list(Batch.objects.order_by("pk"))[len(batches):]
    for batch in again:
        assert batch.accepted_new == 0 and batch.accepted_updated == 0, (batch.file_name, batch.report)
        assert batch.counts_add_up


@pytest.mark.django_db
def test_a_delivery_belongs_to_its_city_and_its_users_see_the_batches(synth_city):
    """Imported from the command line, a manifest's batches take its city as region: the city's data admin
    sees them (list and report), another city's does not."""
    from foodrisk.core.models import Organisation, Region, User
    from foodrisk.core.testing import grant

    out, manifest = synth_city
    call_command("import", manifest=str(out / "manifest.json"))
    city = manifest["city"]["code"]
    assert set(Batch.objects.values_list("region_id", flat=True)) == {city}
    users = {}
    for code in (city, "330200"):
        org = Organisation.objects.create(code=f"DATA-{code}", name=f"数据科 {code}", region=Region.objects.get(pk=code))
        users[code] = grant(User.objects.create_user(f"data{code}", password="x-Long-Password-1",
                                                     organisation=org), "ingest.view_batch")
    assert Batch.objects.restrict(users[city], "view").count() == len(manifest["files"])
    assert not Batch.objects.restrict(users["330200"], "view").exists()


def _outcomes(batches):
    return {b.file_name: (b.status, b.rows_read, b.accepted_new, b.accepted_updated, b.unchanged,
                          b.merged_duplicates, b.quarantined, b.in_review) for b in batches}


def _archive():
    """What a delivery left in the archive: rows per table, natural keys and their enterprises."""
    from foodrisk.enterprises.models import Enterprise, Licence
    from foodrisk.ingest.models import QuarantinedRow
    from foodrisk.records.models import RECORD_KINDS

    state = {"enterprises": sorted(Enterprise.objects.values_list("uscc", "name", "region_id")),
             "licences": sorted(Licence.objects.values_list("licence_no", "enterprise__uscc", "status")),
             "quarantine": sorted(QuarantinedRow.objects.values_list("batch__file_name", "row_no", "reason_codes"))}
    for kind, model in RECORD_KINDS.items():
        key = model.natural_key_field
        state[kind] = sorted(model.objects.values_list(key, "enterprise__uscc"))
    return state


@pytest.mark.skipif(connection.vendor != "postgresql", reason="side-by-side import needs PostgreSQL (SQLite has one writer)")
@pytest.mark.django_db(transaction=True)
def test_a_delivery_imported_side_by_side_equals_one_imported_file_by_file(synth_city):
    """Two processes (the caller and a spawned helper, on the test database) import the files after the
    enterprises: every batch ends as in one process, the archive holds the same rows, and the audit chain holds."""
    from foodrisk.core.services import audit
    from foodrisk.enterprises.models import Enterprise

    out, manifest = synth_city
    side_by_side = import_manifest(out / "manifest.json", out=lambda line: None, workers=2)
    first = (_outcomes(side_by_side), _archive())
    assert all(b.status == "succeeded" for b in side_by_side), [(b.file_name, b.error) for b in side_by_side]
    result = evaluate(out, side_by_side)
    assert result["recall"] >= 0.99 and result["precision"] >= 0.99, result
    assert audit.verify().ok

    Batch.objects.all().delete()
    Enterprise.objects.all().delete()
    one_by_one = import_manifest(out / "manifest.json", out=lambda line: None, workers=1)
    assert (_outcomes(one_by_one), _archive()) == first


def test_lanes_keep_a_kind_together_and_balance_the_rest():
    from types import SimpleNamespace

    from foodrisk.ingest.delivery import plan_lanes

    def batch(pk, kind, name):
        return SimpleNamespace(pk=pk, kind=kind, file_name=name)

    files = [(batch(1, "licences", "licences.csv"), 10), (batch(2, "inspections", "inspections.csv"), 200),
             (batch(3, "sampling_tests", "sampling.csv"), 30), (batch(4, "sampling_tests", "announcements.xlsx"), 10),
             (batch(5, "complaints", "c12345.csv"), 20), (batch(6, "complaints", "c12315.csv"), 25)]
    lanes = plan_lanes(files, 2)
    assert [[b.pk for b in lane] for lane in lanes] == [[2], [1, 3, 4, 5, 6]]  # 200 against 10 + 60 (an XLSX counts 3×) + 45
    lanes = plan_lanes(files, 3)
    assert [[b.pk for b in lane] for lane in lanes] == [[2], [3, 4], [1, 5, 6]]  # a kind's files stay in order
    assert plan_lanes(files, 1) == [[b for b, _size in sorted(files, key=lambda f: (
        ["licences", "inspections", "sampling_tests", "complaints"].index(f[0].kind), f[0].pk))]]
    assert plan_lanes(files[:1], 4) == [[files[0][0]]]  # never more lanes than kinds
