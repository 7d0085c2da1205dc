"""A small synthetic city imported through its files: injected errors found code by code, no row lost."""

import datetime as dt

import pytest
from django.core.management import call_command

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
    assert "rows read" in capsys.readouterr().out

    # importing the same delivery again changes nothing
    call_command("import", manifest=str(out / "manifest.json"))
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
