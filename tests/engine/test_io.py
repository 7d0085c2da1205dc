"""Snapshot I/O, input validation, CLI, determinism, sample generator."""

from __future__ import annotations

import json
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from engine_testkit import one_indicator_set, snapshot

from foodrisk.engine import (
    SnapshotError,
    empty_snapshot,
    empty_table,
    load_profile,
    read_snapshot,
    sample_snapshot,
    score,
    write_snapshot,
)
from foodrisk.engine.__main__ import main
from foodrisk.engine.schema import SCHEMAS

AS_OF = date(2026, 11, 1)


@pytest.fixture(scope="module")
def small():
    return sample_snapshot(300, 6000, as_of=AS_OF, seed=7)


def test_sample_snapshot_schemas_and_seed(small):
    for name, t in small.items():
        assert t.schema == SCHEMAS[name], name
    assert small["enterprises"].num_rows == 300
    n_rec = sum(t.num_rows for k, t in small.items() if k != "enterprises")
    assert 5500 <= n_rec <= 6000
    again = sample_snapshot(300, 6000, as_of=AS_OF, seed=7)
    assert all(again[k].equals(small[k]) for k in small)
    assert not sample_snapshot(300, 6000, as_of=AS_OF, seed=8)["penalties"].equals(small["penalties"])
    # some records lie after as-of so point-in-time filtering is exercised
    future = pc.sum(pc.greater(small["inspections"]["inspected_on"], pa.scalar(AS_OF, pa.date32()))).as_py()
    assert future > 0


def test_empty_snapshot_scores_nothing():
    res = score(empty_snapshot(), load_profile("food_2016"), AS_OF)
    assert res.scores.num_rows == 0 and res.grade_counts() == {}
    assert empty_table("penalties").schema == SCHEMAS["penalties"]


def test_missing_table_and_column_errors():
    spec = load_profile("food_2016")
    snap = dict(empty_snapshot())
    del snap["penalties"]
    with pytest.raises(SnapshotError, match="missing table 'penalties'.*d_pen_heavy_36m"):
        score(snap, spec, AS_OF)
    snap = dict(empty_snapshot())
    snap["inspections"] = snap["inspections"].drop_columns(["key_items_failed"])
    with pytest.raises(SnapshotError, match="'inspections' is missing column 'key_items_failed'"):
        score(snap, spec, AS_OF)
    snap = dict(empty_snapshot())
    snap["penalties"] = snap["penalties"].set_column(2, "severity", pa.array([], pa.int32()))
    with pytest.raises(SnapshotError, match="'severity' has type int32, expected string"):
        score(snap, spec, AS_OF)


def test_tables_not_needed_may_be_absent_and_extra_columns_are_ignored():
    snap = snapshot(penalties=[{}])
    snap = {
        "enterprises": snap["enterprises"].append_column("extra", pa.array(["x"])),
        "penalties": snap["penalties"],
    }
    res = score(snap, one_indicator_set({}), date(2026, 6, 30))
    assert res.scores.num_rows == 1


def test_duplicate_enterprise_ids_rejected():
    snap = snapshot(enterprises=[{"enterprise_id": 1}, {"enterprise_id": 1}])
    with pytest.raises(SnapshotError, match="duplicate enterprise_id"):
        score(snap, one_indicator_set({}), date(2026, 6, 30))


def test_spec_may_be_a_dict_and_as_of_must_be_a_date(small):
    res = score(small, one_indicator_set({}), AS_OF)
    assert res.spec_code == "test" and res.scores.num_rows > 0
    with pytest.raises(TypeError):
        score(small, one_indicator_set({}), "2026-11-01")


def test_determinism_same_inputs_identical_output(small):
    spec = load_profile("food_2016")
    a = score(small, spec, AS_OF, threads=2)
    b = score(small, spec, AS_OF, threads=1)
    assert a.scores.equals(b.scores)
    ids = a.scores["enterprise_id"].to_pylist()
    assert ids == sorted(ids)


def test_profiles_score_sample(small):
    for name in ("food_2016", "food_2022_draft", "anhui"):
        res = score(small, load_profile(name), AS_OF)
        counts = res.grade_counts()
        assert set(counts) <= {"A", "B", "C", "D"} and sum(counts.values()) == res.scores.num_rows
        assert counts.get("A", 0) > counts.get("D", 0)  # most firms are low risk
        row = res.scores.slice(0, 1).to_pylist()[0]
        assert isinstance(json.loads(row["reasons"]), list)
        assert set(json.loads(row["details"])) == {i.code for i in load_profile(name).active_indicators}


def test_write_read_snapshot_round_trip(tmp_path, small):
    write_snapshot(tmp_path / "s", small, AS_OF)
    meta = json.loads((tmp_path / "s" / "snapshot.json").read_text())
    assert meta == {"as_of": "2026-11-01", "tables": {k: t.num_rows for k, t in small.items()}}
    back = read_snapshot(tmp_path / "s")
    assert back.as_of == AS_OF and all(back[k].equals(small[k]) for k in small)
    lazy = read_snapshot(tmp_path / "s", lazy=True)
    assert lazy.counts() == back.counts()
    spec = load_profile("food_2016")
    assert score(lazy.tables, spec, AS_OF).scores.equals(score(small, spec, AS_OF).scores)
    with pytest.raises(ValueError, match="unknown snapshot tables"):
        write_snapshot(tmp_path / "t", {"bogus": small["penalties"]})


def test_cli_score_and_sample(tmp_path, capsys):
    assert main(["sample", "--out", str(tmp_path / "s"), "--enterprises", "200", "--records", "3000"]) == 0
    out_file = tmp_path / "scores.parquet"
    rc = main(
        ["score", "--snapshot", str(tmp_path / "s"), "--indicator-set", "food_2016", "--out", str(out_file)]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "scored:" in text and "timing" in text and "A:" in text
    assert pq.read_table(out_file).num_rows > 150
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(one_indicator_set({"window_months": 0})), encoding="utf-8")
    rc = main(
        [
            "score",
            "--snapshot",
            str(tmp_path / "s"),
            "--indicator-set",
            str(spec_file),
            "--as-of",
            "2026-01-01",
        ]
    )
    assert rc == 2
    assert "window_months" in capsys.readouterr().err
