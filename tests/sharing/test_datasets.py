"""The share catalogue's datasets beyond enterprise_grade (issue 15, item 1): enterprise_reasons, warnings and
measures through the one mechanism of the pull API — lookup by USCC, pages, the `since` cursor, the streamed
changes, exchange exports, webhook payloads — with per-dataset grants, masking and region scope."""

from datetime import timedelta

import pytest
from django.utils import timezone

from foodrisk.alerts import services as alerts
from foodrisk.alerts.models import AlertEvent, WarningRule
from foodrisk.core.models import Organisation, User
from foodrisk.core.testing import grant
from foodrisk.scoring.models import GradeChange
from foodrisk.sharing import exchange, services, streaming
from foodrisk.sharing.catalogue import DATASETS
from foodrisk.sharing.client import SharingClient, SharingRefused
from foodrisk.sharing.forms import FIELD_CHOICES
from foodrisk.sharing.models import ClientSystem
from foodrisk.supervision.models import TaskChange
from foodrisk.supervision.services import tasks

pytestmark = pytest.mark.django_db

GRANTS = {"enterprise_grade": ["uscc", "name"],
          "enterprise_reasons": ["uscc", "name", "grade", "reasons"],
          "warnings": ["id", "uscc", "name", "kind", "level", "status", "raised_at", "closed_at", "result"],
          "measures": ["id", "uscc", "name", "kind", "status", "due", "done", "result"]}


@pytest.fixture
def world(make_world):
    return make_world()


def active_client(world, grants=GRANTS, **overrides):
    regions, admin, approver, _hz, _nb = world
    client, secret = services.register(user=admin, name="杭州市信用平台", organisation="杭州市发展和改革委员会",
                                       grants=grants, region=regions["330100"], **overrides)
    services.approve(client, user=approver, note="同意接入")
    return ClientSystem.objects.get(pk=client.pk), secret


def settle():
    """Changes younger than the horizon wait for the next pull: the test's changes are made older."""
    old = timezone.now() - timedelta(minutes=5)
    for model in (AlertEvent, TaskChange, GradeChange):
        model.objects.update(at=old)


@pytest.fixture
def data(world):
    """A warning and a task on 杭州 (the client's region) and on 宁波 (not), the 杭州 task done with an
    outcome; the 杭州 enterprise's grade set with its reasons."""
    regions, _admin, _approver, hz, nb = world
    rule = alerts.save_rule(WarningRule(code="failed-inspection", name="检查不合格", kind="failed_inspection",
                                        level="orange", deadline_days=10))
    made = {}
    for ent in (hz, nb):
        made[ent.pk, "alert"], _created = alerts.raise_alert(rule, ent, fingerprint=f"jc-{ent.pk}",
                                                             summary="日常检查不合格", evidence={})
        org = Organisation.objects.create(code=f"O-{ent.region_id}", name=f"{ent.region.name}市场监管局",
                                          region=ent.region)
        inspector = grant(User.objects.create_user(f"inspector{ent.pk}", organisation=org,
                                                   scope_region=ent.region), "supervision.change_task")
        made[ent.pk, "task"] = tasks.create_task(ent, "interview", user=inspector, organisation=org,
                                                 assignee=inspector, notify=False)
        made[ent.pk, "inspector"] = inspector
    tasks.complete(made[hz.pk, "task"], user=made[hz.pk, "inspector"], outcome="约谈后已整改到位")
    GradeChange.objects.create(enterprise=hz, old_grade="B", new_grade="C", at=timezone.now(),
                               reasons=["近一年行政处罚 2 次", "抽检不合格 1 次"])
    settle()
    return made


def call(django_client, api, path, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    r = django_client.get(path + (f"?{query}" if query else ""), headers=api.signed_headers("GET", path, query))
    return r


def test_the_catalogue_declares_every_dataset_with_its_fields_and_the_form_offers_them():
    assert set(DATASETS) == {"enterprise_grade", "enterprise_reasons", "warnings", "measures"}
    for dataset in DATASETS.values():
        assert dataset.version >= 1 and all(f.sensitivity for f in dataset.fields)
        assert {"uscc", "name"} <= set(dataset.field_names)  # the enterprise's identity in every row
    offered = {value for _dataset, choices in FIELD_CHOICES for value, _label in choices}
    assert {"warnings.result_note", "measures.result", "enterprise_reasons.reasons"} <= offered


@pytest.mark.parametrize("code", ["warnings", "measures"])
def test_pages_lookup_and_since_cursor_stay_in_the_clients_region(world, data, client, code):
    _regions, _admin, _approver, hz, nb = world
    sc, secret = active_client(world)
    api = SharingClient("http://testserver/", sc.app_key, secret)
    path = f"/api/sharing/v1/datasets/{code}/"
    kind = "alert" if code == "warnings" else "task"
    page = call(client, api, path, limit=1).json()
    assert page["code"] == "OK" and page["version"] == DATASETS[code].version
    assert [r["id"] for r in page["data"]] == [data[hz.pk, kind].pk]  # 宁波's row is not the client's
    assert page["data"][0]["uscc"] == hz.uscc and page["data"][0]["name"] == "杭州老王面馆"
    rest = call(client, api, path, limit=1, after=page["next"]["after"]).json()
    assert rest["data"] == []
    changes = call(client, api, path, since=0).json()
    assert [r["id"] for r in changes["data"]] == [data[hz.pk, kind].pk]  # changed twice (measure): sent once
    again = call(client, api, path, since=changes["next"]["since"]).json()
    assert again["data"] == [] and again["next"] == changes["next"]
    mine = call(client, api, f"/api/sharing/v1/datasets/{code}/enterprises/{hz.uscc}/").json()
    assert [r["id"] for r in mine["data"]] == [data[hz.pk, kind].pk]
    theirs = call(client, api, f"/api/sharing/v1/datasets/{code}/enterprises/{nb.uscc}/")
    assert theirs.status_code == 403 and theirs.json()["code"] == "OUT_OF_SCOPE"


def test_rows_read_as_the_catalogue_says(world, data, client):
    _regions, _admin, _approver, hz, _nb = world
    sc, secret = active_client(world)
    api = SharingClient("http://testserver/", sc.app_key, secret)
    warning = call(client, api, "/api/sharing/v1/datasets/warnings/").json()["data"][0]
    assert warning["kind"] == "failed_inspection" and warning["level"] == "orange" and warning["status"] == "raised"
    assert warning["raised_at"].endswith("+08:00") and warning["closed_at"] is None and warning["result"] is None
    measure = call(client, api, "/api/sharing/v1/datasets/measures/").json()["data"][0]
    assert measure["kind"] == "interview" and measure["status"] == "done" and measure["done"].endswith("+08:00")
    assert measure["result"] == "约*******"  # sensitive: masked unless granted unmasked
    assert measure["due"] == data[hz.pk, "task"].due_on.isoformat()
    reasons = call(client, api, f"/api/sharing/v1/datasets/enterprise_reasons/enterprises/{hz.uscc}/").json()
    assert reasons["data"] == {"uscc": hz.uscc, "name": "杭州老王面馆", "grade": "C",
                               "reasons": ["近一年行政处罚 2 次", "抽检不合格 1 次"]}
    since = call(client, api, "/api/sharing/v1/datasets/enterprise_reasons/", since=0).json()
    assert [r["uscc"] for r in since["data"]] == [hz.uscc]


def test_model_reasons_come_from_the_latest_score(world, client):
    from foodrisk.indicators.models import IndicatorSet
    from foodrisk.scoring.models import Score, ScoringRun

    _regions, _admin, _approver, hz, _nb = world
    indicator_set = IndicatorSet.objects.create(code="t-set", version=1, name="测试指标", spec={})
    for n, reasons in enumerate((["模型：旧的原因（增加风险 +0.10）"], ["模型：近12个月监督检查不符合2次（增加风险 +0.35）",
                                                                        "模型：持有有效许可证（降低风险 −0.12）"])):
        run = ScoringRun.objects.create(kind="full", as_of=timezone.localdate(), status="succeeded")
        Score.objects.create(run=run, enterprise=hz, as_of=run.as_of, indicator_set=indicator_set,
                             indicator_set_version=1, rule_score=50 + n, total_score=50 + n, base_grade="C",
                             engine_grade="C", grade="C", model_reasons=reasons)
    sc, secret = active_client(world, grants={"enterprise_reasons": ["uscc", "model_reasons"]})
    api = SharingClient("http://testserver/", sc.app_key, secret)
    row = call(client, api, f"/api/sharing/v1/datasets/enterprise_reasons/enterprises/{hz.uscc}/").json()["data"]
    assert row["model_reasons"] == reasons  # the latest run's, each sentence with its sign


def test_unmasked_grant_is_per_dataset_field(world, data, client):
    sc, secret = active_client(world, unmasked=["measures.result"])
    api = SharingClient("http://testserver/", sc.app_key, secret)
    assert call(client, api, "/api/sharing/v1/datasets/measures/").json()["data"][0]["result"] == "约谈后已整改到位"


def test_a_field_or_dataset_not_granted_is_refused_with_its_code(world, data, client):
    sc, secret = active_client(world, grants={"enterprise_grade": ["uscc"], "warnings": ["id", "uscc"]})
    api = SharingClient("http://testserver/", sc.app_key, secret)
    r = call(client, api, "/api/sharing/v1/datasets/warnings/", fields="id,level")
    assert r.status_code == 403 and r.json()["code"] == "FIELD_NOT_GRANTED"
    r = call(client, api, "/api/sharing/v1/datasets/measures/")
    assert r.status_code == 403 and r.json()["code"] == "DATASET_NOT_GRANTED"
    assert call(client, api, "/api/sharing/v1/datasets/warnings/").json()["data"][0].keys() == {"id", "uscc"}


def test_streamed_changes_and_exports_follow_the_same_rows(world, data):
    _regions, _admin, _approver, hz, _nb = world
    sc, secret = active_client(world)
    for code, kind in (("warnings", "alert"), ("measures", "task")):
        fields, start = streaming.prepare(sc, code, "0")
        lines = b"".join(streaming.lines(sc, secret, code, fields, start)).decode().splitlines()
        assert len(lines) == 3 and f'"id":{data[hz.pk, kind].pk}' in lines[1] and '"end":true' in lines[2]
        fields, rows = exchange.export_rows(sc, code)
        rows = list(rows)
        assert [r["id"] for r in rows] == [data[hz.pk, kind].pk]
        for fmt in ("csv", "xlsx", "parquet"):
            assert exchange.file_content(fields, rows, fmt)


def test_wider_grant_of_a_new_dataset_needs_a_second_person(world):
    _regions, admin, _approver, _hz, _nb = world
    sc, _secret = active_client(world, grants={"enterprise_grade": ["uscc"]})
    changed = services.change(sc, user=admin, grants={"enterprise_grade": ["uscc"], "warnings": ["id"]},
                              region=sc.region)
    assert changed.status == "pending"


@pytest.mark.e2e  # a live server flushes the database: with the browser tests, not beside tests that need seeded rows
def test_the_new_datasets_through_the_reference_client_against_a_live_server(world, data, live_server):
    _regions, _admin, _approver, hz, nb = world
    sc, secret = active_client(world)
    api = SharingClient(live_server.url, sc.app_key, secret)
    for code, kind in (("warnings", "alert"), ("measures", "task")):
        assert [r["id"] for r in api.pull(code, limit=1)] == [data[hz.pk, kind].pk]
        assert [r["id"] for r in api.pull(code, since=0)] == [data[hz.pk, kind].pk]
        assert [r["id"] for r in api.stream_changes(code, since=0)] == [data[hz.pk, kind].pk]
        assert api.get(f"/api/sharing/v1/datasets/{code}/enterprises/{hz.uscc}/")["data"][0]["uscc"] == hz.uscc
        with pytest.raises(SharingRefused) as exc:
            api.get(f"/api/sharing/v1/datasets/{code}/enterprises/{nb.uscc}/")
        assert exc.value.code == "OUT_OF_SCOPE"
        with pytest.raises(SharingRefused) as exc:
            api.get(f"/api/sharing/v1/datasets/{code}/", {"fields": "id,secret"})
        assert exc.value.code == "FIELD_NOT_GRANTED"
    rows = list(api.pull("enterprise_reasons", since=0))
    assert [r["uscc"] for r in rows] == [hz.uscc] and rows[0]["reasons"]


def test_the_catalogue_page_lists_every_dataset_in_chinese(world, client):
    _regions, admin, _approver, _hz, _nb = world
    client.force_login(admin)
    page = client.get("/sharing/catalogue/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for text in ("企业信用风险等级", "当前等级原因", "风险预警", "监管措施", "预警等级 红/橙/黄/蓝", "处理结果／整改结果"):
        assert text in page
    form = client.get("/sharing/clients/add/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'value="warnings.result_note"' in form and 'value="measures.result"' in form and "风险预警" in form
