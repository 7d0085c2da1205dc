"""core.bulk.upsert stores exactly what bulk_create(update_conflicts=True) stores (PostgreSQL COPY path,
SQLite executemany path). audit.record_bulk digests are reproducible."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection, transaction

from foodrisk.core import bulk
from foodrisk.core.services import audit
from foodrisk.core.testing import make_regions
from foodrisk.enterprises.models import Enterprise, Licence
from foodrisk.records.models import Penalty, SamplingTest

pytestmark = pytest.mark.django_db

needs_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY path is PostgreSQL's")

IGNORED = {"id", "first_seen_at", "last_seen_at", "enterprise_id"}


def _orm_upsert(model, rows, key, update_fields, extra=None):
    objs = [model(**row, **(extra or {})) for row in rows]
    model.objects.bulk_create(objs, update_conflicts=True, unique_fields=[key], update_fields=update_fields)


def _state(model, key, keys):
    """Stored rows by key (ORM values: decrypted, JSON parsed), without ids/timestamps."""
    out = {}
    for row in model.objects.filter(**{f"{key}__in": keys}).values():
        out[row[key]] = {k: v for k, v in row.items() if k not in IGNORED}
    return out


def _enterprise_rows(prefix, n=3):
    return [dict(uscc=f"{prefix}{i:016d}", name=f"杭州老王面馆{i}号店", former_names=["老王面馆", f"王记{i}"],
                 name_initials="hzlwmg", legal_representative="张三丰" if i % 2 else "",
                 address="浙江省杭州市上城区解放路1号" if i else "", region_id="330102" if i % 2 else "330106",
                 business_form="catering", food_categories=["热食类食品制售", "冷食类"] if i else [], scale="small",
                 established_on=dt.date(2019, 5, i + 1) if i else None, status="active", static_tier=i % 4 + 1 if i
                 else None, key_supervision=bool(i % 2), source_row=i + 1)
            for i in range(n)]


def _both_paths(model, key, rows_for, update_fields, extra=None):
    """Insert then update through the ORM (keys "A…") and through bulk.upsert (keys "B…"); compare."""
    orm_rows, fast_rows = rows_for("A"), rows_for("B")
    _orm_upsert(model, orm_rows, key, update_fields, extra)
    bulk.upsert(model, fast_rows, key, update_fields, extra=extra)
    return [r[key] for r in orm_rows], [r[key] for r in fast_rows]


def _same(model, key, orm_keys, fast_keys):
    orm, fast = _state(model, key, orm_keys), _state(model, key, fast_keys)
    assert len(orm) == len(fast) == len(orm_keys)
    for a, b in zip(orm_keys, fast_keys, strict=True):
        left = {k: v for k, v in orm[a].items() if k != key}
        right = {k: v for k, v in fast[b].items() if k != key}
        assert left == right, (a, b)


def test_enterprises_store_the_same_values_as_the_orm():
    make_regions()
    extra = {"source": "测试来源", "source_batch": 7, "file_digest": "ab" * 32,
             "graded_at": dt.datetime(2026, 6, 30, 8, 0, tzinfo=dt.UTC)}
    fields = sorted({f.name for f in Enterprise._meta.concrete_fields} - {"id", "uscc", "first_seen_at"})
    orm_keys, fast_keys = _both_paths(Enterprise, "uscc", _enterprise_rows, fields, extra)
    _same(Enterprise, "uscc", orm_keys, fast_keys)
    stored = Enterprise.objects.get(uscc=fast_keys[1])
    assert stored.legal_representative == "张三丰" and stored.former_names == ["老王面馆", "王记1"]
    assert stored.source == "测试来源" and stored.source_row == 2 and stored.region_id == "330102"
    with connection.cursor() as cursor:
        cursor.execute("SELECT legal_representative, CAST(former_names AS text) FROM enterprises_enterprise "
                       "WHERE uscc = %s", [fast_keys[1]])
        cipher, former = cursor.fetchone()
    assert cipher.startswith("v1:") and "张三丰" not in cipher  # encrypted at rest
    assert "老王面馆" in former  # JSON keeps Chinese text as itself


def test_conflicts_update_the_listed_fields_and_keep_first_seen():
    make_regions()
    fields = ["name", "former_names", "legal_representative", "last_seen_at", "source_row"]
    rows = _enterprise_rows("B")
    bulk.upsert(Enterprise, rows, "uscc", fields)
    before = {e.uscc: e for e in Enterprise.objects.filter(uscc__in=[r["uscc"] for r in rows])}
    changed = [{**r, "name": r["name"] + "（新）", "address": "不会更新", "legal_representative": "李四",
                "former_names": [], "source_row": 99} for r in rows]
    assert bulk.upsert(Enterprise, changed, "uscc", fields) == len(rows)
    for e in Enterprise.objects.filter(uscc__in=list(before)):
        old = before[e.uscc]
        assert e.pk == old.pk and e.name.endswith("（新）") and e.legal_representative == "李四"
        assert e.former_names == [] and e.source_row == 99 and e.address == old.address  # not in update_fields
        assert e.first_seen_at == old.first_seen_at and e.last_seen_at > old.last_seen_at


def test_records_with_decimals_json_dates_and_nulls_match_the_orm():
    make_regions()
    ent = Enterprise.objects.create(uscc="91330102000000001X", name="企业", region_id="330102",
                                    business_form="catering")

    def penalties(prefix):
        return [dict(enterprise_id=ent.pk, decision_no=f"{prefix}杭上市监罚〔2025〕{i}号", decided_on=dt.date(2025, 3, i + 1),
                     violation_type="超范围经营", severity="general", fine=Decimal("12345.60") if i else Decimal("0.00"),
                     confiscation=Decimal("0.5"), licence_revoked=bool(i), publicity_until=None if i else
                     dt.date(2027, 1, 1), source_row=i) for i in range(3)]

    fields = [f.name for f in Penalty._meta.concrete_fields if f.name not in {"id", "first_seen_at", "decision_no"}]
    orm_keys, fast_keys = _both_paths(Penalty, "decision_no", penalties, fields)
    _same(Penalty, "decision_no", orm_keys, fast_keys)
    assert Penalty.objects.get(decision_no=fast_keys[1]).fine == Decimal("12345.60")
    assert Penalty.objects.get(decision_no=fast_keys[0]).confiscation == Decimal("0.50")

    def tests(prefix):
        return [dict(enterprise_id=ent.pk, report_no=f"{prefix}-{i}", sampled_on=dt.date(2025, 1, 2), level="city",
                     product="月饼", category="", result="fail" if i else "pass",
                     failed_items=[{"item": "菌落总数", "result": "5.2×10⁴", "standard": "≤10⁴"}] if i else [],
                     announcement_no="", producer_name="杭州\"好\"食品厂\\分厂", producer_address="")
                for i in range(2)]

    fields = [f.name for f in SamplingTest._meta.concrete_fields if f.name not in {"id", "first_seen_at", "report_no"}]
    orm_keys, fast_keys = _both_paths(SamplingTest, "report_no", tests, fields)
    _same(SamplingTest, "report_no", orm_keys, fast_keys)
    assert SamplingTest.objects.get(report_no=fast_keys[1]).failed_items[0]["standard"] == "≤10⁴"


def test_upsert_falls_back_or_copies_and_the_last_duplicate_wins():
    make_regions()
    ent = Enterprise.objects.create(uscc="91330102000000001X", name="企业", region_id="330102",
                                    business_form="catering")
    rows = [dict(enterprise_id=ent.pk, licence_no="JY13301020000001", kind="JY", issued_on=dt.date(2024, 1, 1),
                 expires_on=dt.date(2029, 1, 1), category="第一次")]
    fields = [f.name for f in Licence._meta.concrete_fields if f.name not in {"id", "first_seen_at", "licence_no"}]
    with transaction.atomic():  # more than one upsert in one transaction (temporary tables do not collide)
        assert bulk.upsert(Licence, rows, "licence_no", fields, extra={"source": "s"}) == 1
        bulk.upsert(Licence, [{**rows[0], "category": "第二次"}], "licence_no", fields, extra={"source": "s"})
    lic = Licence.objects.get()
    assert (lic.category, lic.status, lic.source) == ("第二次", "valid", "s")  # default status filled in
    if connection.vendor == "postgresql":  # one statement cannot update a row twice: the last copy wins
        bulk.upsert(Licence, [{**rows[0], "category": "甲"}, {**rows[0], "category": "乙"}], "licence_no", fields)
        assert Licence.objects.get().category == "乙"
    with pytest.raises(TypeError):
        bulk.upsert(Licence, [{**rows[0], "no_such_field": 1}], "licence_no", fields)
    assert bulk.upsert(Licence, [], "licence_no", fields) == 0


def test_bulk_digest_is_reproducible_and_covers_every_value():
    rows = [{"a": 1, "名称": "食品", "on": dt.date(2025, 1, 2), "fine": Decimal("1.50"), "x": None,
             "items": [{"b": 2, "a": 1}], "source_row": i} for i in range(7)]
    first = audit.record_bulk("test.bulk", "records.penalty", rows, exclude={"source_row"})
    again = audit.record_bulk("test.bulk", "records.penalty", iter([dict(r) for r in rows]), exclude={"source_row"})
    assert first.details["count"] == again.details["count"] == 7
    assert first.details["digest"] == again.details["digest"] and len(first.details["digest"]) == 64
    # the source_row values are excluded; any other value counts
    moved = audit.record_bulk("test.bulk", "records.penalty", [{**r, "source_row": 0} for r in rows],
                              exclude={"source_row"})
    assert moved.details["digest"] == first.details["digest"]
    changed = audit.record_bulk("test.bulk", "records.penalty", [*rows[:-1], {**rows[-1], "fine": Decimal("1.51")}],
                                exclude={"source_row"})
    assert changed.details["digest"] != first.details["digest"]
    # slicing does not matter, mixed key sets are told apart
    old = audit._BULK_SLICE
    try:
        audit._BULK_SLICE = 2
        sliced = audit.record_bulk("test.bulk", "records.penalty", rows, exclude={"source_row"})
    finally:
        audit._BULK_SLICE = old
    assert sliced.details["digest"] == first.details["digest"]
    a = audit.record_bulk("t", "t", [{"a": 1}, {"b": 1}])
    b = audit.record_bulk("t", "t", [{"b": 1}, {"a": 1}])
    assert a.details["digest"] != b.details["digest"] and a.details["count"] == 2
    assert audit.record_bulk("t", "t", []).details["count"] == 0
    assert audit.verify().ok


def test_insert_stores_what_bulk_create_stores():
    """bulk.insert (COPY on PostgreSQL) and bulk_create give the same rows: JSON, defaults, auto_now_add."""
    from foodrisk.ingest.models import Batch, QuarantinedRow, Source

    make_regions()
    source = Source.objects.create(name="测试来源")
    batch = Batch.objects.create(source=source, kind="penalties", file_name="x.csv")
    rows = [{"batch_id": batch.pk, "row_no": i, "raw_data": {"企业名称": f"老王面馆{i}", "罚款": ""},
             "reasons": ["uscc_checksum:uscc", "date_future:decided_on"], "reason_codes": "uscc_checksum:uscc"}
            for i in range(1, 4)]
    QuarantinedRow.objects.bulk_create([QuarantinedRow(**{**row, "row_no": row["row_no"] + 100}) for row in rows])
    assert bulk.insert(QuarantinedRow, rows) == 3
    assert bulk.insert(QuarantinedRow, []) == 0
    ignored = {"id", "row_no", "created_at", "updated_at"}
    stored = {q["row_no"]: {k: v for k, v in q.items() if k not in ignored}
              for q in QuarantinedRow.objects.values()}
    for i in range(1, 4):
        assert stored[i] == stored[i + 100]
        assert stored[i]["status"] == "open" and stored[i]["raw_data"]["企业名称"] == f"老王面馆{i}"
    assert QuarantinedRow.objects.filter(row_no__lt=100, created_at__isnull=False).count() == 3
    with pytest.raises(TypeError):
        bulk.insert(QuarantinedRow, [{"batch_id": batch.pk, "row_no": 1, "no_such_field": 1}])


@needs_postgresql
def test_array_param_round_trips_any_values():
    for values, pg_type in ((["a", "老王,面馆", "x'y", "b\\c", '"q"', "{}"], "text"), ([], "text"), ([""], "text"),
                            (["a\x1fb", "c"], "text"), ([3, 1, 2], "bigint"), ([""] * 2, "text")):
        expr, param = bulk.array_param(values, pg_type)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {expr}", [param])
            got = cursor.fetchone()[0]
        assert got == [v if pg_type == "text" else int(v) for v in values], (values, expr)


def _licence_rows():
    """(a licence row maker, the licence fields an upsert updates) for one enterprise."""
    make_regions()
    ent = Enterprise.objects.create(uscc="91330102000000001X", name="企业", region_id="330102",
                                    business_form="catering")
    fields = [f.name for f in Licence._meta.concrete_fields if f.name not in {"id", "first_seen_at", "licence_no"}]

    def row(no, category):
        return dict(enterprise_id=ent.pk, licence_no=f"JY1330102000000{no}", kind="JY", category=category,
                    issued_on=dt.date(2024, 1, 1), expires_on=dt.date(2029, 1, 1))

    return row, fields


def test_rows_said_new_are_copied_and_a_wrong_guess_falls_back_to_the_upsert():
    row, fields = _licence_rows()

    keys = [row(n, "")["licence_no"] for n in (1, 2, 3)]
    with transaction.atomic():
        assert bulk.upsert(Licence, [row(1, "甲"), row(2, "甲")], "licence_no", fields, new_keys=keys[:2]) == 2
        # key 1 is stored now: said new by mistake (another import got there first), the upsert takes over
        assert bulk.upsert(Licence, [row(1, "乙"), row(3, "乙")], "licence_no", fields, extra={"source": "s"},
                           new_keys={keys[0], keys[2]}) == 2
    stored = dict(Licence.objects.values_list("licence_no", "category"))
    assert stored == {keys[0]: "乙", keys[1]: "甲", keys[2]: "乙"}
    assert Licence.objects.get(licence_no=keys[2]).source == "s" and Licence.objects.get(licence_no=keys[1]).status == "valid"


def test_upsert_counts_copied_and_upserted_rows():
    """Some rows said new (COPYed on PostgreSQL), the others upserted: every row is counted."""
    row, fields = _licence_rows()

    assert bulk.upsert(Licence, [row(1, "甲")], "licence_no", fields) == 1
    rows = [row(1, "乙"), row(2, "乙"), row(3, "乙")]
    assert bulk.upsert(Licence, rows, "licence_no", fields, new_keys={rows[1]["licence_no"], rows[2]["licence_no"]}) == 3
    assert set(Licence.objects.values_list("category", flat=True)) == {"乙"} and Licence.objects.count() == 3
