"""Policy-rule conditions and a set's categories are rows (no JSON to type): posting the rows saves what
the JSON saved, bad values are Chinese errors next to the cell with nothing saved (and the typed rows shown
again), the JSON stays the collapsed advanced field, and only a person who may change the set gets the page."""

import re

import pytest
from django.urls import reverse
from django.utils import translation
from scoring_testkit import people

from foodrisk.core.models import AuditEntry, User
from foodrisk.core.testing import english_words, form_as_posted
from foodrisk.indicators import services as isvc
from foodrisk.indicators.models import IndicatorSet

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _chinese(settings):
    settings.LANGUAGE_CODE = "zh-hans"
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def draft():
    author, _approver = people()
    return isvc.create_from_profile("food_2016", user=author), author


def rule_url(s, code):
    return reverse("indicators:rule_edit", args=[s.pk, code])


def settings_url(s):
    return reverse("indicators:indicatorset_settings", args=[s.pk])



def fresh(s):
    return IndicatorSet.objects.get(pk=s.pk).spec


def rule(s, code):
    return next(r for r in fresh(s)["rules"] if r["code"] == code)


def unchanged(s):
    return fresh(s) == s.spec and not AuditEntry.objects.filter(action="indicators.indicatorset.update").exists()


def test_posting_the_condition_rows_saves_what_the_json_saved(client, draft):
    s, author = draft
    client.force_login(author)
    for original in s.spec["rules"]:
        code = original["code"]
        r = client.post(rule_url(s, code), form_as_posted(client, rule_url(s, code), rows=False))
        assert r.status_code == 302, (code, r.context and r.context["form"].errors)
        from_json = rule(s, code)
        assert client.post(rule_url(s, code), form_as_posted(client, rule_url(s, code))).status_code == 302, code
        assert rule(s, code) == from_json, code
        assert from_json.get("when") == original.get("when"), code


def test_condition_rows_show_indicators_by_name_and_edit_the_rule(client, draft):
    s, author = draft
    client.force_login(author)
    url = rule_url(s, "lower_clean_3y")
    data = form_as_posted(client, url)
    assert data["when-0-field"] == "x_age_months" and data["when-0-op"] == ">=" and data["when-0-value"] == "36"
    assert data["when-4-value"] == "否"  # x_serious_listed = false
    page = client.get(url).content.decode()
    assert re.search(r'<option value="x_serious_listed"[^>]*>[^<]*（x_serious_listed）</option>', page)
    data.update({"when-0-value": "48", "when-4-field": "", "when-5-field": "x_serious_listed", "when-5-op": "=",
                 "when-5-value": "否", "match": "any"})
    r = client.post(url, data)
    assert r.status_code == 302, r.context and r.context["form"].errors
    saved = rule(s, "lower_clean_3y")
    assert saved["match"] == "any"
    assert saved["when"] == [{"indicator": "x_age_months", "op": ">=", "value": 48},
                             {"indicator": "x_insp_fail_36m", "op": "=", "value": 0},
                             {"indicator": "x_sampling_fail_np_36m", "op": "=", "value": 0},
                             {"indicator": "x_pen_any_36m", "op": "=", "value": 0},
                             {"indicator": "x_serious_listed", "op": "=", "value": False}]
    assert AuditEntry.objects.filter(action="indicators.indicatorset.update").count() == 1


def test_a_new_rule_from_rows(client, draft):
    s, author = draft
    client.force_login(author)
    url = reverse("indicators:rule_add", args=[s.pk])
    data = {**form_as_posted(client, url), "code": "raise_listed", "name": "列入经营异常名录上调", "type": "raise",
            "match": "all", "steps": "1", "when-0-field": "x_serious_listed", "when-0-op": "=", "when-0-value": "是"}
    r = client.post(url, data)
    assert r.status_code == 302, r.context and r.context["form"].errors
    assert rule(s, "raise_listed")["when"] == [{"indicator": "x_serious_listed", "op": "=", "value": True}]


def test_a_value_without_an_indicator_is_not_dropped_silently(client, draft):
    """A row whose indicator is left empty is an empty row; a bad JSON value is a Chinese error in its cell,
    nothing saved, and the typed rows come back as typed."""
    s, author = draft
    client.force_login(author)
    url = rule_url(s, "raise_sampling_np")
    data = {**form_as_posted(client, url), "when-0-value": "[1, 2", "name": "已改名称"}
    r = client.post(url, data)
    assert r.status_code == 200
    assert "JSON" in str(r.context["form"].errors["when-0-value"])
    assert unchanged(s)
    page = r.content.decode()
    assert 'name="when-0-value" value="[1, 2"' in page and 'value="已改名称"' in page


def test_engine_issue_about_a_condition_is_shown_and_nothing_saved(client, draft):
    s, author = draft
    client.force_login(author)
    url = rule_url(s, "raise_sampling_np")
    r = client.post(url, {**form_as_posted(client, url), "when-0-value": "很多"})  # a count compared with a text
    assert r.status_code == 200 and r.context["form"].errors
    assert unchanged(s)


def test_the_conditions_json_stays_for_experts_and_wins_when_edited(client, draft):
    s, author = draft
    client.force_login(author)
    url = rule_url(s, "raise_sampling_np")
    page = client.get(url).content.decode()
    form = page[page.index("app-form"):]
    before, advanced = form.split("<details", 1)
    assert not re.search(r'<textarea[^>]*name="when"', before)
    assert re.search(r'<textarea[^>]*name="when"', advanced)
    data = {**form_as_posted(client, url),
            "when": '[{"indicator": "d_sampling_fail_np_12m", "op": ">=", "value": 2}]'}
    assert client.post(url, data).status_code == 302
    assert rule(s, "raise_sampling_np")["when"] == [{"indicator": "d_sampling_fail_np_12m", "op": ">=", "value": 2}]


def test_category_rows_save_what_the_json_saved_and_edit(client, draft):
    s, author = draft
    client.force_login(author)
    url = settings_url(s)
    assert client.post(url, form_as_posted(client, url, rows=False)).status_code == 302
    from_json = fresh(s)["categories"]
    assert client.post(url, form_as_posted(client, url)).status_code == 302
    assert fresh(s)["categories"] == from_json == s.spec["categories"]
    data = form_as_posted(client, url)
    assert (data["categories-0-code"], data["categories-0-name"], data["categories-0-cap"]) == ("static",
                                                                                             "静态风险因素", 40)
    data.update({"categories-0-cap": "45", "categories-1-cap": "55"})
    r = client.post(url, data)
    assert r.status_code == 302, r.context and r.context["form"].errors
    assert fresh(s)["categories"] == {"static": {"name": "静态风险因素", "cap": 45},
                                      "dynamic": {"name": "动态风险因素", "cap": 55}}


@pytest.mark.parametrize("changes, cell, message", [
    ({"categories-2-name": "信用", "categories-2-cap": "10"}, "categories-2-code", "请填写该类别的代码"),
    ({"categories-0-cap": "四十"}, "categories-0-cap", "输入一个数字"),
    ({"categories-0-cap": "-1"}, "categories-0-cap", "0"),
])
def test_bad_category_rows_are_chinese_errors(client, draft, changes, cell, message):
    s, author = draft
    client.force_login(author)
    url = settings_url(s)
    r = client.post(url, {**form_as_posted(client, url), **changes})
    assert r.status_code == 200
    assert message in str(r.context["form"].errors[cell])
    assert unchanged(s)


def test_a_category_code_twice_is_refused(client, draft):
    s, author = draft
    client.force_login(author)
    url = settings_url(s)
    r = client.post(url, {**form_as_posted(client, url), "categories-1-code": "static"})
    assert r.status_code == 200 and "static" in str(r.context["form"].non_field_errors())
    assert unchanged(s)


def test_add_rows_on_the_rule_page_saves_nothing(client, draft):
    s, author = draft
    client.force_login(author)
    url = rule_url(s, "lower_clean_3y")
    data = form_as_posted(client, url)
    r = client.post(url, {**data, "_more": "when"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and len(r.context["form"].rows("when")) == int(data["when-rows"]) + 2
    assert unchanged(s)


def test_who_may_not_change_the_set_gets_no_editor(client, draft):
    s, _author = draft
    nobody = User.objects.create_user("no_rights_rows", password="x-Pass-12345")
    client.force_login(nobody)
    assert client.get(rule_url(s, "lower_clean_3y")).status_code == 403
    assert client.get(settings_url(s)).status_code == 403
    data = {"code": "lower_clean_3y", "name": "x", "type": "lower", "when-rows": "1", "when-0-field": "x_age_months",
            "when-0-op": ">=", "when-0-value": "1"}
    assert client.post(rule_url(s, "lower_clean_3y"), data).status_code == 403
    assert unchanged(s)


def test_new_enterprise_categories_are_checkboxes_by_name(client, draft):
    s, author = draft
    client.force_login(author)
    url = rule_url(s, "new_enterprise")
    html = client.get(url).content.decode()
    assert re.search(r'type="checkbox" name="categories" value="static"[^>]*checked', html)
    assert "静态风险因素" in html
    data = form_as_posted(client, url)
    data["categories"] = ["static", "dynamic"]
    assert client.post(url, data).status_code == 302
    assert rule(s, "new_enterprise")["categories"] == ["static", "dynamic"]
    data["categories"] = ["nonsense"]
    r = client.post(url, data)
    assert r.status_code == 200 and "选择一个有效的选项" in str(r.context["form"].errors["categories"])


def test_no_english_on_the_rule_and_settings_editors(client, draft):
    s, author = draft
    client.force_login(author)
    urls = [rule_url(s, r["code"]) for r in s.spec["rules"]] + [settings_url(s), reverse("indicators:rule_add",
                                                                                          args=[s.pk])]
    for url in urls:
        html = client.get(url).content.decode()
        form = html[html.index(">", html.index("app-form")) + 1:]
        text = re.sub(r"\{\w+\}", " ", form[:form.index("</form>")])  # the explanation's placeholders
        assert english_words(text) - {"JSON", "YYYY"} == set(), url
