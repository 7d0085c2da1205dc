"""Bad input is a 4xx, never a 500 (regressions of what schemathesis found, issue 12): a non-integer id in a path,
the region filter of warnings / tasks / rectifications / repairs / scores (UI, API and ledger export job), a
generic create on a read-only endpoint, a missing optional flag, NUL in a path, a query, a form or a JSON body.
The full run against the OpenAPI schema is scripts/api-fuzz.sh (in .ci/run)."""

from datetime import date, timedelta

import pytest

from foodrisk.alerts.models import Alert, WarningRule
from foodrisk.core.models import AuditEntry, Organisation, User
from foodrisk.core.testing import PASSWORD, grant, make_regions
from foodrisk.enterprises.testing import make_enterprise
from foodrisk.indicators.models import IndicatorSet
from foodrisk.scoring.models import Score, ScoringRun
from foodrisk.supervision.models import RepairCase, Task

pytestmark = pytest.mark.django_db

NUL_TEXT = "请求中含有空字符"


@pytest.fixture
def world(client):
    regions = make_regions()
    root = User.objects.create_superuser("root", password=PASSWORD)  # nationwide
    client.force_login(root)
    hangzhou, ningbo = regions["330102"], regions["330203"]  # 杭州市上城区, 宁波市海曙区
    ents = {code: make_enterprise(region, name=f"{region.name}企业") for code, region in
            (("hz", hangzhou), ("nb", ningbo))}
    rule = WarningRule.objects.create(code="t-rule", name="测试规则", kind="new_penalty", level="red")
    indicator_set = IndicatorSet.objects.create(code="t-set", version=1, name="测试指标", spec={})
    run = ScoringRun.objects.create(kind="full", as_of=date(2026, 1, 1), indicator_set=indicator_set)
    for key, ent in ents.items():
        org = Organisation.objects.create(code=f"O-{key}", name=f"{key}局", region=ent.region)
        Alert.objects.create(rule=rule, enterprise=ent, region=ent.region, level="red", summary="测试预警")
        for kind in ("inspection", "rectification"):
            Task.objects.create(kind=kind, enterprise=ent, title="测试任务", organisation=org,
                                due_on=date.today() + timedelta(days=10))
        RepairCase.objects.create(enterprise=ent, commitment="承诺整改")
        Score.objects.create(run=run, enterprise=ent, as_of=run.as_of, indicator_set=indicator_set,
                             indicator_set_version=1, rule_score=10, total_score=10, base_grade="B",
                             engine_grade="B", grade="B")
    return root, ents


# --- a path id that cannot be a key ---------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/api/enterprises/enterprises/abc/", "/api/alerts/alerts/1.5/", "/api/supervision/tasks/null,null/",
    "/api/scoring/models/x/artifact/", "/api/core/organisations/-/", "/api/records/penalties/%E4%B8%AD/",
    # digits to str.isdigit() but not to int() (schemathesis sent '²' to the region lookup: a 500)
    "/api/core/regions/%C2%B2/", "/api/core/roles/%C2%B2/", "/roles/%C2%B2/", "/api/alerts/alerts/%E2%91%A0/",
])
def test_a_non_integer_id_is_not_found(world, client, path):
    assert client.get(path).status_code == 404
    assert not AuditEntry.objects.filter(action="access.out_of_scope").exists()


HUGE = str(2**107)  # schemathesis sent it: SQLite raised OverflowError (a 500) for a related-field or list lookup


@pytest.mark.parametrize("url,status", [
    (f"/api/core/roles/{HUGE}/", 404), (f"/roles/{HUGE}/", 404),
    (f"/api/enterprises/licences/?enterprise={HUGE}", 400), (f"/api/scoring/scores/?run={HUGE}", 400),
])
def test_an_id_beyond_any_column_is_not_found_or_refused(world, client, url, status):
    assert client.get(url).status_code == status


@pytest.mark.parametrize("url", [
    f"/supervision/tasks/add/?enterprise={HUGE}", f"/scoring/adjustments/add/?enterprise={HUGE}",
    f"/records/attachments/add/?enterprise={HUGE}", "/supervision/tasks/add/?enterprise=%C2%B2",
])
def test_a_huge_or_odd_id_in_a_page_parameter_is_ignored(world, client, url):
    """A query parameter naming a row that cannot exist preselects nothing (SQLite raised OverflowError: a 500)."""
    assert client.get(url).status_code == 200


def test_a_huge_run_on_the_why_page_shows_the_latest_score(world, client):
    root, ents = world
    assert client.get(f"/scoring/enterprises/{ents['hz'].pk}/?run={HUGE}").status_code == 200


def test_a_huge_id_in_a_list_of_ids_is_refused(world, client):
    r = client.post("/api/alerts/alerts/bulk-review/", {"ids": [int(HUGE)], "decision": "confirm"},
                    content_type="application/json")
    assert r.status_code == 400 and "ids" in r.json()


def test_a_non_integer_id_in_an_action_is_not_found(world, client):
    r = client.post("/api/alerts/alerts/abc/review/", {"decision": "confirm"}, content_type="application/json")
    assert r.status_code == 404


def test_an_existing_object_outside_the_scope_is_still_recorded(world, client):
    _root, ents = world
    district = User.objects.create_user("district", password=PASSWORD,
                                        organisation=Organisation.objects.get(code="O-hz"))
    client.force_login(grant(district, "enterprises.view_enterprise"))
    assert client.get(f"/api/enterprises/enterprises/{ents['nb'].pk}/").status_code == 404
    entry = AuditEntry.objects.get(action="access.out_of_scope")
    assert entry.object_id == str(ents["nb"].pk)


# --- the region filter: a region and everything below it -----------------------------------------------

def test_region_filter_on_the_warning_api(world, client):
    _root, ents = world
    rows = client.get("/api/alerts/alerts/?region=330100").json()["results"]  # 杭州市: its districts included
    assert [row["enterprise"] for row in rows] == [ents["hz"].pk]
    assert client.get("/api/alerts/alerts/?region=330000").json()["count"] == 2  # 浙江省
    assert client.get("/api/alerts/alerts/?region=999999").status_code == 400


@pytest.mark.parametrize("page", ["/alerts/all/", "/supervision/tasks/", "/supervision/rectifications/",
                                  "/supervision/repairs/", "/scoring/scores/"])
def test_region_filter_on_the_list_pages(world, client, page):
    r = client.get(page, {"region": "330100"})
    assert r.status_code == 200
    html = r.content.decode()
    assert "上城区企业" in html and "海曙区企业" not in html
    assert "海曙区企业" in client.get(page, {"region": "330200"}).content.decode()


# --- writes the endpoint does not offer ----------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/scoring/models/", "/api/alerts/alerts/"])
def test_no_generic_create_on_read_only_endpoints(world, client, path):
    before = Alert.objects.count()
    r = client.post(path, {}, content_type="application/json")
    assert r.status_code == 405
    assert Alert.objects.count() == before


def test_indicator_sets_have_no_generic_update_or_delete(world, client):
    pk = IndicatorSet.objects.get().pk
    assert client.put(f"/api/indicators/sets/{pk}/", {}, content_type="application/json").status_code == 405
    assert client.delete(f"/api/indicators/sets/{pk}/").status_code == 405
    assert IndicatorSet.objects.filter(pk=pk).exists()


# --- NUL: PostgreSQL can neither store nor compare it ----------------------------------------------------

@pytest.mark.parametrize("url", [
    "/api/core/regions/?parent=%00", "/api/alerts/alerts/?region=33%00", "/api/enterprises/enterprises/?q=%00",
    "/api/core/regions/33%00/", "/api/supervision/tasks/?status=%00&kind=inspection", "/api/core/audit/?%00=1",
])
def test_nul_in_an_api_path_or_query_is_a_400(world, client, url):
    r = client.get(url)
    assert r.status_code == 400
    assert NUL_TEXT in r.json()["detail"]


def test_nul_in_a_list_page_filter_is_a_400(world, client):
    r = client.get("/enterprises/", {"region": "33\x00"})
    assert r.status_code == 400 and NUL_TEXT in r.content.decode()


def test_nul_in_a_json_body_is_a_400_and_nothing_is_written(world, client):
    r = client.post("/api/core/organisations/", {"code": "x", "name": "局", "region": "33\x00"},
                    content_type="application/json")
    assert r.status_code == 400 and NUL_TEXT in r.json()["detail"]
    r = client.post("/api/core/parameters/", {"key": "k", "name": "n", "category": "c", "value_type": "str",
                                              "value": {"nested": ["\x00"]}}, content_type="application/json")
    assert r.status_code == 400 and NUL_TEXT in r.json()["detail"]
    assert not Organisation.objects.filter(code="x").exists()


def test_nul_in_a_form_post_is_a_400(world, client):
    r = client.post("/organisations/add/", {"code": "y", "name": "a\x00b", "region": "330102"})
    assert r.status_code == 400 and NUL_TEXT in r.content.decode()
    assert not Organisation.objects.filter(code="y").exists()


def test_nul_in_a_multipart_put_is_a_400(world, client):
    """Django parses no PUT body, so the middleware never saw it; the API's form parsers refuse it (schemathesis
    found a 500 from PUT /api/core/organisations/{id}/ with NUL in the region)."""
    from django.test.client import MULTIPART_CONTENT, encode_multipart

    org = Organisation.objects.first()
    body = encode_multipart("BoUnDaRy", {"code": org.code, "name": org.name, "region": "33\x00", "kind": org.kind})
    r = client.put(f"/api/core/organisations/{org.pk}/", body, content_type=MULTIPART_CONTENT % {"boundary": "BoUnDaRy"})
    assert r.status_code == 400 and NUL_TEXT in r.json()["detail"]


def test_an_escaped_backslash_before_u0000_is_text_not_nul(world, client):
    r = client.post("/api/core/organisations/", '{"code": "z", "name": "C:\\\\u0000", "region": "330102"}',
                    content_type="application/json")
    assert r.status_code == 201, r.content
    assert Organisation.objects.get(code="z").name == "C:\\u0000"


@pytest.mark.parametrize("body", ['"text"', "1", "null", "[1, 2]"])
def test_a_json_body_that_is_not_an_object_is_a_400(world, client, body):
    alert = Alert.objects.first()
    r = client.post(f"/api/alerts/alerts/{alert.pk}/handle/", body, content_type="application/json")
    assert r.status_code == 400


def test_a_multipart_body_without_a_boundary_is_a_400(world, client):
    r = client.post("/api/core/organisations/", b"--x\r\n", content_type="multipart/form-data")
    assert r.status_code == 400


def test_a_form_over_the_field_limit_is_a_400_without_a_logged_traceback(world, client, caplog):
    """schemathesis posted a bulk review with thousands of multipart fields: Django's TooManyFieldsSent was a 400
    but logged a traceback as a security error (and the fuzz run counts tracebacks as failures)."""
    body = {f"ids{i}": "1" for i in range(1100)}
    with caplog.at_level("ERROR", logger="django.security"):
        r = client.post("/api/alerts/alerts/bulk-review/", body)
    assert r.status_code == 400 and "detail" in r.json()
    assert not [rec for rec in caplog.records if rec.exc_info]
def test_the_schema_describes_what_read_only_fields_hold(world, client):
    schemas = client.get("/api/schema/?format=json").json()["components"]["schemas"]
    previous = schemas["Score"]["properties"]["previous_grade"]  # "" for a new enterprise
    assert {"$ref": "#/components/schemas/BlankEnum"} in previous["oneOf"]
    assert schemas["Event"]["properties"]["user"]["nullable"] is True  # an event the system made
    assert schemas["Role"]["properties"]["permissions"]["type"] == "array"
    assert schemas["Attachment"]["properties"]["record_type"]["nullable"] is True


# --- the Swagger UI page --------------------------------------------------------------------------------

def test_the_docs_page_answers_options_without_a_server_error(world, client):
    assert client.options("/api/docs/").status_code == 405  # was a 500: no template for DRF's metadata
    assert client.get("/api/docs/").status_code == 200


def test_the_docs_page_is_not_an_operation_of_the_schema(world, client):
    paths = client.get("/api/schema/?format=json").json()["paths"]
    assert "/api/docs/" not in paths
    assert "/api/enterprises/enterprises/" in paths


# --- JSON null for a JSON column that is NOT NULL ---------------------------------------------------------

def test_json_null_in_a_form_body_is_a_400_not_a_database_error(world, client):
    from foodrisk.records.testing import make_record

    ent = world[1]["hz"]
    test = make_record("sampling_tests", ent)
    body = {"enterprise": ent.pk, "report_no": test.report_no, "sampled_on": "2026-10-22", "level": "city",
            "product": "硬糖", "result": "pass", "failed_items": "null"}
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    r = client.put(f"/api/records/sampling-tests/{test.pk}/", encode_multipart(BOUNDARY, body),
                   content_type=MULTIPART_CONTENT)  # a form body, as schemathesis sent it
    assert r.status_code == 400, r.content
    assert "failed_items" in r.json()
    r = client.patch(f"/api/records/sampling-tests/{test.pk}/", {"failed_items": None},
                     content_type="application/json")
    assert r.status_code == 400
    test.refresh_from_db()
    assert test.failed_items == []


# --- mapping profiles over REST ---------------------------------------------------------------------------

def test_a_profile_without_a_configuration_is_a_400(world, client):
    r = client.post("/api/ingest/profiles/", {"code": "330102", "name": "0"}, content_type="application/json")
    assert r.status_code == 400 and "config" in r.json()  # was a KeyError: the model's default {} is no profile


def test_profile_answers_match_the_schema(world, client):
    schema = client.get("/api/schema/?format=json").json()
    props = schema["components"]["schemas"]["MappingProfile"]["properties"]
    assert props["source"].get("nullable") is True  # a built-in profile has no source
    ops = schema["paths"]
    assert "MappingProfile" not in str(ops["/api/ingest/profiles/{id}/export/"]["get"]["responses"])
    versions = str(ops["/api/ingest/profiles/{id}/versions/"]["get"]["responses"])
    assert "MappingProfileVersion" in versions and "Paginated" not in versions  # a plain list, as served
    assert "ValidationResult" in str(ops["/api/ingest/profiles/validate/"]["post"]["responses"])
    r = client.post("/api/ingest/profiles/validate/", {"config": None}, content_type="application/json")
    assert r.status_code in (200, 400)
