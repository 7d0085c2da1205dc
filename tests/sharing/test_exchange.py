"""Batch exchange, inbound pushes and the streamed change pull (issue 15, item 5): export files and their signed
manifest verify with the reference client, a tampered file fails its digest, the files hold only the grant,
region and masking of the client; pushed records land in the ingest pipeline, bad rows quarantined with
Chinese reasons; each tampering of a push is refused with its code; the stream's trailer verifies."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from foodrisk.core.models import AuditEntry, User
from foodrisk.core.testing import grant, make_regions
from foodrisk.enterprises.testing import make_enterprise
from foodrisk.ingest.models import Batch, MappingProfile, QuarantinedRow
from foodrisk.ingest.services.profiles import ensure_builtin_profiles
from foodrisk.records.models import Penalty
from foodrisk.scoring.models import GradeChange
from foodrisk.sharing import exchange, services, signing
from foodrisk.sharing.client import BadManifest, SharingClient, verify_manifest
from foodrisk.sharing.models import ClientSystem, ExchangeExport, SharingCall

pytestmark = pytest.mark.django_db

FIELDS = {"enterprise_grade": ["uscc", "name", "grade", "risk_labels", "key_supervision", "legal_representative"]}
PEN = ["处罚决定书文号", "统一社会信用代码", "处罚决定日期", "违法行为类型", "情节严重程度", "罚款金额(元)"]


def valid_uscc(region_code, n):
    """A USCC whose organisation code (GB 11714) checks too: the ingest pipeline validates both parts."""
    from stdnum.cn import uscc as uscc_check

    from foodrisk.ingest.validators import org_code_check_char

    org = f"{n:08d}"
    body = f"91{region_code}{org}{org_code_check_char(org)}"
    return body + uscc_check.calc_check_digit(body)


@pytest.fixture
def world():
    regions = make_regions()
    admin = grant(User.objects.create_user("admin", national_scope=True), "sharing.add_clientsystem",
                  "sharing.change_clientsystem", "sharing.view_clientsystem", "sharing.view_exchangeexport")
    approver = grant(User.objects.create_user("approver", national_scope=True), "sharing.approve_clientsystem",
                     "sharing.view_clientsystem")
    hz = make_enterprise(regions["330102"], name="杭州老王面馆", current_grade="C", risk_labels=["冷链"],
                         uscc=valid_uscc("330102", 7001))
    hz2 = make_enterprise(regions["330106"], name="=HYPERLINK(\"x\")西湖小吃", current_grade="A")
    nb = make_enterprise(regions["330203"], name="宁波海鲜排档", current_grade="B")
    return regions, admin, approver, (hz, hz2, nb)


def active_client(world, **overrides):
    regions, admin, approver, _e = world
    client, secret = services.register(user=admin, **{"name": "杭州市信用平台", "organisation": "杭州市发改委",
                                                      "grants": FIELDS, "region": regions["330100"], **overrides})
    services.approve(client, user=approver, note="同意")
    return ClientSystem.objects.get(pk=client.pk), secret


def run_export(world, sc, fmt):
    _regions, admin, _approver, _e = world
    export = exchange.request_export(user=admin, client=sc, dataset="enterprise_grade", fmt=fmt)
    from foodrisk.core.services import jobs

    assert jobs.execute(export.job_id) == "succeeded", export.job.error if export.job else ""
    export.refresh_from_db()
    return export


def stored_files(export):
    from django.core.files.storage import default_storage

    return {f["name"]: default_storage.open(f["path"], "rb").read() for f in export.files}


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_an_export_holds_the_grant_region_and_masking_and_its_manifest_verifies(world, fmt):
    _regions, _admin, _approver, (hz, hz2, nb) = world
    sc, secret = active_client(world)
    export = run_export(world, sc, fmt)
    assert export.status == "ready" and export.rows == 2  # Ningbo lies outside the client's region
    files = stored_files(export)
    manifest = verify_manifest(files.pop("manifest.json"), secret, files)
    assert manifest["rows"] == 2 and manifest["dataset"] == "enterprise_grade" and manifest["format"] == fmt
    assert [f["name"] for f in manifest["fields"]] == FIELDS["enterprise_grade"]
    assert next(f for f in manifest["fields"] if f["name"] == "legal_representative")["masked"] is True
    (content,) = files.values()
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        assert rows[0] == FIELDS["enterprise_grade"]
        by_uscc = {r[0]: r for r in rows[1:]}
        assert set(by_uscc) == {hz.uscc, hz2.uscc}
        assert by_uscc[hz.uscc][5] == "张**" and by_uscc[hz.uscc][3] == "冷链" and by_uscc[hz.uscc][4] == "否"
        assert by_uscc[hz2.uscc][1].startswith("'=")  # a formula-looking name is inert in a spreadsheet
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(content)).to_pylist()
        assert {r["uscc"] for r in table} == {hz.uscc, hz2.uscc}
        assert all(r["legal_representative"] == "张**" for r in table)
    else:
        import openpyxl

        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        assert [c.value for c in sheet[1]] == FIELDS["enterprise_grade"] and sheet.max_row == 3
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"sharing.export.request", "sharing.export.generate"} <= actions


def test_a_tampered_file_or_manifest_fails_verification(world):
    sc, secret = active_client(world)
    files = stored_files(run_export(world, sc, "csv"))
    manifest = files.pop("manifest.json")
    (name,) = files
    with pytest.raises(BadManifest, match="digest"):
        verify_manifest(manifest, secret, {name: files[name].replace(b"C", b"A")})
    forged = json.loads(manifest)
    forged["rows"] = 3
    with pytest.raises(BadManifest, match="signature"):
        verify_manifest(json.dumps(forged).encode(), secret, files)
    with pytest.raises(BadManifest, match="signature"):
        verify_manifest(manifest, "another-secret", files)
    with pytest.raises(BadManifest, match="missing"):
        verify_manifest(manifest, secret, {})


def test_unmasked_grant_and_permissions_of_exports(world, client):
    regions, admin, _approver, (hz, _hz2, _nb) = world
    sc, secret = active_client(world, unmasked=["enterprise_grade.legal_representative"])
    files = stored_files(run_export(world, sc, "csv"))
    assert "张三丰" in files[next(n for n in files if n.endswith(".csv"))].decode("utf-8-sig")
    nobody = User.objects.create_user("nobody", national_scope=True)
    with pytest.raises(PermissionDenied):
        exchange.request_export(user=nobody, client=sc, dataset="enterprise_grade", fmt="csv")
    other = grant(User.objects.create_user("nb-admin", scope_region=regions["330203"]),
                  "sharing.change_clientsystem", "sharing.view_clientsystem", "sharing.view_exchangeexport")
    with pytest.raises(PermissionDenied):  # the client lies outside his jurisdiction
        exchange.request_export(user=other, client=sc, dataset="enterprise_grade", fmt="csv")
    with pytest.raises(ValidationError):
        exchange.request_export(user=admin, client=sc, dataset="penalties", fmt="csv")
    export = ExchangeExport.objects.get()
    client.force_login(other)
    assert client.get(f"/sharing/exports/{export.pk}/download/manifest.json").status_code == 404
    client.force_login(admin)
    r = client.get(f"/sharing/exports/{export.pk}/download/manifest.json")
    assert r.status_code == 200 and json.loads(b"".join(r.streaming_content))["rows"] == 2
    assert AuditEntry.objects.filter(action="download", object_id=str(export.pk)).exists()


def test_a_scheduled_export_runs_as_a_job(world):
    from foodrisk.core.models import Schedule
    from foodrisk.core.services import jobs, schedules

    sc, _secret = active_client(world)
    Schedule.objects.create(name="每日交换", job_kind="sharing.export", frequency="daily", at_time="01:00",
                            params={"client": sc.pk, "dataset": "enterprise_grade", "fmt": "parquet"},
                            next_run_at=timezone.now() - timedelta(minutes=1))
    (job,) = schedules.run_due()
    assert jobs.execute(job.pk) == "succeeded"
    export = ExchangeExport.objects.get()
    assert export.status == "ready" and export.format == "parquet" and export.schedule_id is not None


def signed_post(django_client, api, path, body, content_type="application/json", **sign):
    headers = api.signed_headers("POST", path, "", body, **sign)
    return django_client.post(path, data=body, content_type=content_type, headers=headers)


def penalty(decision, uscc, day="2026-03-01", severity="一般"):
    return dict(zip(PEN, [decision, uscc, day, "未按规定进货查验", severity, "5000"], strict=True))


def test_pushed_records_land_in_ingest_and_bad_rows_are_quarantined_with_reasons(world, client):
    _regions, admin, _approver, (hz, _hz2, _nb) = world
    sc, secret = active_client(world)
    ensure_builtin_profiles()
    exchange.set_inbound(sc, user=admin, kind="penalties", profile=MappingProfile.objects.get(code="template_penalties"))
    api = SharingClient("http://testserver/", sc.app_key, secret)
    records = [penalty("杭上市监罚〔2026〕1号", hz.uscc), penalty("杭上市监罚〔2026〕2号", hz.uscc, day="2026-13-45"),
               penalty("杭上市监罚〔2026〕3号", hz.uscc, severity="很严重")]
    body = json.dumps({"records": records}, ensure_ascii=False).encode()
    r = signed_post(client, api, "/api/sharing/v1/inbound/penalties/", body)
    assert r.status_code == 200, r.content
    data = r.json()["data"]
    assert data["rows_read"] == 3 and data["accepted_new"] == 1 and data["quarantined"] == 2
    batch = Batch.objects.get(pk=data["batch"])
    assert batch.source.name == "接入系统：杭州市信用平台" and batch.profile.code == "template_penalties"
    assert list(Penalty.objects.values_list("decision_no", "enterprise_id")) == [("杭上市监罚(2026)1号", hz.pk)]  # normalised by the pipeline
    assert QuarantinedRow.objects.filter(batch=batch).count() == 2
    messages = " ".join(m for row in data["rejected"] for m in row["messages"])
    assert "处罚决定日期" in messages and "情节严重程度" in messages
    assert SharingCall.objects.get().rows == 3
    again = signed_post(client, api, "/api/sharing/v1/inbound/penalties/", body)
    assert again.status_code == 409 and again.json()["code"] == "DUPLICATE_BATCH"
    assert AuditEntry.objects.filter(action="sharing.inbound.push").count() == 1


@pytest.mark.parametrize("tamper,code,status", [
    ("body", "SIGNATURE_INVALID", 401), ("kind", "INBOUND_NOT_GRANTED", 403), ("media", "UNSUPPORTED_MEDIA_TYPE", 415),
    ("json", "BAD_REQUEST", 400), ("empty", "BAD_REQUEST", 400), ("replay", "NONCE_REPLAYED", 401),
])
def test_each_tampered_push_is_refused_with_its_code(world, client, tamper, code, status):
    _regions, admin, _approver, (hz, _hz2, _nb) = world
    sc, secret = active_client(world)
    ensure_builtin_profiles()
    exchange.set_inbound(sc, user=admin, kind="penalties", profile=MappingProfile.objects.get(code="template_penalties"))
    api = SharingClient("http://testserver/", sc.app_key, secret)
    path, body, ctype = "/api/sharing/v1/inbound/penalties/", json.dumps(
        {"records": [penalty("杭上市监罚〔2026〕9号", hz.uscc)]}).encode(), "application/json"
    if tamper == "body":  # signed over one body, sent with another
        headers = api.signed_headers("POST", path, "", body)
        r = client.post(path, data=body.replace(b"9", b"8"), content_type=ctype, headers=headers)
    elif tamper == "replay":
        headers = api.signed_headers("POST", path, "", body)
        first = client.post(path, data=body, content_type=ctype, headers=headers)
        assert first.status_code == 200 and first.json()["data"]["accepted_new"] == 1, first.content.decode()
        r = client.post(path, data=body, content_type=ctype, headers=headers)
    else:
        if tamper == "kind":
            path = "/api/sharing/v1/inbound/complaints/"
        elif tamper == "media":
            ctype = "text/plain"
        elif tamper == "json":
            body = b"{not json"
        elif tamper == "empty":
            body = b'{"records": []}'
        r = signed_post(client, api, path, body, ctype)
    assert r.status_code == status and r.json()["code"] == code, r.content
    assert Penalty.objects.count() == (1 if tamper == "replay" else 0)


def test_a_csv_file_can_be_pushed_too(world, client):
    _regions, admin, _approver, (hz, _hz2, _nb) = world
    sc, secret = active_client(world)
    ensure_builtin_profiles()
    exchange.set_inbound(sc, user=admin, kind="penalties", profile=MappingProfile.objects.get(code="template_penalties"))
    buffer = io.StringIO()
    csv.writer(buffer).writerows([PEN, list(penalty("杭上市监罚〔2026〕5号", hz.uscc).values())])
    r = signed_post(client, SharingClient("http://testserver/", sc.app_key, secret),
                    "/api/sharing/v1/inbound/penalties/", buffer.getvalue().encode(), "text/csv")
    assert r.status_code == 200 and r.json()["data"]["accepted_new"] == 1, r.content


def test_the_change_stream_holds_every_change_and_its_trailer_verifies(world, client):
    _regions, _admin, _approver, (hz, hz2, nb) = world
    sc, secret = active_client(world)
    old = timezone.now() - timedelta(minutes=1)
    changes = [GradeChange.objects.create(enterprise=e, old_grade="", new_grade="B", at=old) for e in (hz, nb, hz2)]
    api = SharingClient("http://testserver/", sc.app_key, secret)
    path = "/api/sharing/v1/datasets/enterprise_grade/changes/"
    r = client.get(path + "?since=0", headers=api.signed_headers("GET", path, "since=0"))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/x-ndjson")
    assert signing.SIGNATURE_HEADER not in r  # signed by the trailer
    body = b"".join(r.streaming_content)
    lines = body.splitlines(keepends=True)
    rows = [json.loads(line) for line in lines[1:-1]]
    trailer = json.loads(lines[-1])
    assert [row["uscc"] for row in rows] == [hz.uscc, hz2.uscc]  # Ningbo's change is outside the region
    import hashlib

    digest = hashlib.sha256(b"".join(lines[:-1])).hexdigest()
    assert trailer["sha256"] == digest and trailer["count"] == 2 and trailer["next"] == {"since": changes[-1].pk}
    assert signing.matches("hmac-sha256", secret, signing.stream_message(trailer["timestamp"], digest),
                           trailer["signature"])
    assert SharingCall.objects.get(path=path).rows == 2  # the log gets the rows once the stream ended
    refused = client.get(path + "?since=x", headers=api.signed_headers("GET", path, "since=x"))
    assert refused.status_code == 400 and refused.json()["code"] == "BAD_REQUEST"


@pytest.mark.e2e  # a live server flushes the database: with the browser tests
def test_the_reference_client_streams_pushes_and_fetches_exports_against_a_live_server(world, live_server):
    _regions, admin, _approver, (hz, hz2, _nb) = world
    sc, secret = active_client(world)
    old = timezone.now() - timedelta(minutes=1)
    for e in (hz, hz2):
        GradeChange.objects.create(enterprise=e, old_grade="", new_grade="B", at=old)
    api = SharingClient(live_server.url, sc.app_key, secret)
    assert [r["uscc"] for r in api.stream_changes("enterprise_grade", since=0)] == [hz.uscc, hz2.uscc]
    assert api.cursor["since"] > 0
    export = run_export(world, sc, "csv")
    manifest, files = api.fetch_export(export.pk)
    assert manifest["rows"] == 2 and len(files) == 1
    ensure_builtin_profiles()
    exchange.set_inbound(sc, user=admin, kind="penalties", profile=MappingProfile.objects.get(code="template_penalties"))
    data = api.push("penalties", [penalty("杭上市监罚〔2026〕7号", hz.uscc)])
    assert data["accepted_new"] == 1


def test_exports_over_the_rest_api_for_people(world, client):
    regions, admin, _approver, _e = world
    sc, _secret = active_client(world)
    client.force_login(admin)
    r = client.post("/api/sharing/admin/exports/", {"client": sc.pk, "dataset": "enterprise_grade",
                                                   "format": "xlsx"}, content_type="application/json")
    assert r.status_code == 201, r.content
    export = ExchangeExport.objects.get(pk=r.json()["id"])
    assert export.format == "xlsx" and export.job_id == r.json()["job"]
    assert [e["id"] for e in client.get("/api/sharing/admin/exports/").json()["results"]] == [export.pk]
    bad = client.post("/api/sharing/admin/exports/", {"client": sc.pk, "dataset": "enterprise_grade",
                                                     "format": "pdf"}, content_type="application/json")
    assert bad.status_code == 400
    other = grant(User.objects.create_user("nb-viewer", scope_region=regions["330203"]),
                  "sharing.view_exchangeexport", "sharing.change_clientsystem", "sharing.view_clientsystem")
    client.force_login(other)  # Ningbo's administrator neither sees nor starts Hangzhou's exports
    assert client.get("/api/sharing/admin/exports/").json()["results"] == []
    assert client.post("/api/sharing/admin/exports/", {"client": sc.pk, "dataset": "enterprise_grade",
                                                       "format": "csv"}, content_type="application/json"
                       ).status_code == 400  # the client is not among his choices
    client.force_login(User.objects.create_user("nobody2", national_scope=True))
    assert client.get("/api/sharing/admin/exports/").status_code == 403


def test_exchange_files_are_deleted_after_the_retention_period(world, client):
    """sharing_exchange_file_days after it was written an export's files leave storage (its row and signed
    manifest stay, the deletion is audited, a download is not found); a younger export keeps its files; the
    daily purge is a seeded schedule."""
    from django.core.files.storage import default_storage

    from foodrisk.core.models import Schedule

    _regions, admin, _approver, _e = world
    sc, _secret = active_client(world)
    old, young = run_export(world, sc, "csv"), run_export(world, sc, "csv")
    ExchangeExport.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=31))
    assert exchange.purge_expired() == 1
    old.refresh_from_db()
    assert old.status == "expired" and old.manifest["rows"] == 2
    assert not any(default_storage.exists(f["path"]) for f in old.files)
    assert all(default_storage.exists(f["path"]) for f in young.files)
    assert ExchangeExport.objects.get(pk=young.pk).status == "ready"
    assert AuditEntry.objects.filter(action="sharing.export.purge_files").count() == 1
    client.force_login(admin)
    assert client.get(f"/sharing/exports/{old.pk}/download/manifest.json").status_code == 404
    assert exchange.purge_expired() == 0  # nothing twice
    assert Schedule.objects.filter(job_kind="sharing.purge_exports", enabled=True).exists()
