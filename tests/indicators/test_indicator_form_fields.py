"""The indicator editor shows filter, bands and denominator filter as rows (no JSON to type): posting the
rows saves what the JSON saved, bad values are Chinese errors next to the cell and nothing is saved, the
JSON stays as the collapsed advanced fields."""

import re

import pytest
from django.urls import reverse
from django.utils import translation
from scoring_testkit import people

from foodrisk.core.models import AuditEntry
from foodrisk.core.testing import english_words, form_as_posted
from foodrisk.indicators import services as isvc
from foodrisk.indicators.forms import ROW_LISTS
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


def url(s, code):
    return reverse("indicators:indicator_edit", args=[s.pk, code])


def is_row_field(name):
    return any(name.startswith(f"{lst}-") for lst in ROW_LISTS)



def item(s, code):
    return next(i for i in IndicatorSet.objects.get(pk=s.pk).spec["indicators"] if i["code"] == code)


def unchanged(s):
    fresh = IndicatorSet.objects.get(pk=s.pk)
    return fresh.spec == s.spec and not AuditEntry.objects.filter(action="indicators.indicatorset.update").exists()


@pytest.mark.parametrize("profile", ["food_2016", "anhui", "food_2022_draft"])
def test_posting_the_rows_saves_what_the_json_saved(client, profile):
    """Every indicator of every profile: its rows show its filters and bands exactly (codes, yes/no, numbers,
    dates, lists) and read back to the same spec."""
    author, _approver = people()
    s = isvc.create_from_profile(profile, user=author)
    client.force_login(author)
    codes = [i["code"] for i in s.spec["indicators"]]
    for code in codes:
        data = form_as_posted(client, url(s, code))
        as_json = {k: v for k, v in data.items() if not is_row_field(k)}  # a post with the JSON alone
        assert client.post(url(s, code), as_json).status_code == 302, code
        from_json = item(s, code)
        assert client.post(url(s, code), data).status_code == 302, code
        assert item(s, code) == from_json, code
        original = next(i for i in s.spec["indicators"] if i["code"] == code)
        for name in ROW_LISTS:
            assert from_json.get(name) == (original.get(name) or []), (code, name)


def test_rows_edit_the_filter_and_the_bands(client, draft):
    s, author = draft
    client.force_login(author)
    data = form_as_posted(client, url(s, "d_pen_heavy_36m"))
    assert data["filter-0-field"] == "severity" and data["filter-0-value"] == "较重、严重"
    data.update({"filter-0-op": "=", "filter-0-value": "严重",
                 "filter-1-field": "fine", "filter-1-op": ">=", "filter-1-value": "10000",
                 "filter-2-field": "repaired", "filter-2-op": "=", "filter-2-value": "否",
                 "bands-0-min": "1", "bands-0-max": "3", "bands-0-points": "9",
                 "bands-2-kind": "missing", "bands-2-points": "0.5"})
    r = client.post(url(s, "d_pen_heavy_36m"), data)
    assert r.status_code == 302, r.context and r.context["form"].errors
    saved = item(s, "d_pen_heavy_36m")
    assert saved["filter"] == [{"field": "severity", "op": "=", "value": "serious"},
                               {"field": "fine", "op": ">=", "value": 10000},
                               {"field": "repaired", "op": "=", "value": False}]
    assert saved["bands"] == [{"min": 1, "max": 3, "points": 9}, {"min": 2, "max": None, "points": 15},
                              {"equals": None, "points": 0.5}]


@pytest.mark.parametrize("changes, cell, message", [
    ({"bands-0-points": ""}, "bands-0-points", "请填写该档的得分"),
    ({"filter-1-field": "fine", "filter-1-op": ">", "filter-1-value": "一万"}, "filter-1-value", "输入一个数字"),
    ({"filter-1-field": "repaired", "filter-1-value": "也许"}, "filter-1-value", "请填写“是”或“否”"),
    ({"bands-0-min": "abc"}, "bands-0-min", "输入一个数字"),
])
def test_bad_values_are_chinese_errors_next_to_the_cell(client, draft, changes, cell, message):
    s, author = draft
    client.force_login(author)
    data = {**form_as_posted(client, url(s, "d_pen_heavy_36m")), **changes}
    r = client.post(url(s, "d_pen_heavy_36m"), data)
    assert r.status_code == 200
    assert message in str(r.context["form"].errors[cell])
    assert unchanged(s)


def test_engine_issues_about_a_row_are_shown_and_nothing_is_saved(client, draft):
    s, author = draft
    client.force_login(author)
    data = {**form_as_posted(client, url(s, "d_pen_heavy_36m")), "filter-0-op": "=", "filter-0-value": "极重"}
    r = client.post(url(s, "d_pen_heavy_36m"), data)
    assert r.status_code == 200 and r.context["form"].errors["filter"]
    assert unchanged(s)


def test_the_form_shows_rows_not_json_and_no_english(client, draft):
    s, author = draft
    client.force_login(author)
    page = client.get(url(s, "d_days_since_ok_inspection")).content.decode()
    form = page[page.rindex("<form", 0, page.index("app-form")):]
    form = form[:form.index("</form>")]
    before, advanced = form.split("<details", 1)
    assert re.findall(r'<textarea[^>]*name="(\w+)"', before) == ["description"]  # no JSON box but in <details>
    assert re.findall(r'<textarea[^>]*name="(\w+)"', advanced) == ["filter", "bands", "denominator_filter"]
    assert 'name="filter-0-value" value="符合、基本符合"' in before
    assert re.search(r'<option value="result" selected>结果</option>', before)
    assert re.search(r'<option value="missing" selected>无值</option>', before)
    text = re.sub(r"<textarea.*?</textarea>", " ", form, flags=re.S)
    text = re.sub(r"<[^>]+>|\{\w+\}", " ", text)  # tags and the explanation's placeholders
    words = {w for w in re.findall(r"(?<![\w./])[A-Za-z]{3,}(?![\w.])", text)} - {"JSON", "YYYY"}
    assert not words, text
    assert "<code>{weight}</code>" in form  # the explanation's placeholders read as code, not as English words
    assert not english_words(page, {author.username})  # the page crawl's checker, placeholders left in


def test_add_rows_shows_more_empty_rows_and_saves_nothing(client, draft):
    s, author = draft
    client.force_login(author)
    data = form_as_posted(client, url(s, "d_pen_heavy_36m"))
    shown = int(data["bands-rows"])
    r = client.post(url(s, "d_pen_heavy_36m"), {**data, "_more": "bands"}, headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert len(r.context["form"].rows("bands")) == shown + 2
    assert f'name="bands-{shown + 1}-points"' in r.content.decode()
    assert 'hx-vals=\'{"_more": "bands"}\'' in r.content.decode() and "添加行" in r.content.decode()
    assert unchanged(s)
