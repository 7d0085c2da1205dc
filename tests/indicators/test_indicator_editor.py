"""The indicator / rule editor and the matching API: one write path (the services), unknown or invalid
codes are validation errors (nothing saved, no audit entry), drafts only, permissions."""

import json
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext
from scoring_testkit import make_user, people

from foodrisk.core.models import AuditEntry
from foodrisk.core.testing import form_as_posted
from foodrisk.indicators import services as isvc
from foodrisk.indicators.models import IndicatorSet
from foodrisk.indicators.services import SpecValidationError

pytestmark = pytest.mark.django_db

RULE = "veto_serious_list"  # food_2016: when x_serious_listed = true → D
INDICATOR = "d_insp_fail_12m"
UPDATE = "indicators.indicatorset.update"


@pytest.fixture
def draft():
    author, approver = people()
    return isvc.create_from_profile("food_2016", user=author), author, approver


def rule_url(s, code=RULE):
    return reverse("indicators:rule_edit", args=[s.pk, code])


def indicator_url(s, code=INDICATOR):
    return reverse("indicators:indicator_edit", args=[s.pk, code])



def unchanged(s, before):
    """Nothing saved: same spec and timestamp, no update audit entry."""
    fresh = IndicatorSet.objects.get(pk=s.pk)
    return fresh.spec == before.spec and fresh.updated_at == before.updated_at and not (
        AuditEntry.objects.filter(action=UPDATE).exists())


def errors(response):
    return [str(m) for msgs in response.context["form"].errors.values() for m in msgs]


def test_rule_naming_an_unknown_indicator_is_a_form_error_and_nothing_is_saved(client, draft):
    s, author, _ = draft
    client.force_login(author)
    data = form_as_posted(client, rule_url(s))
    data["when"] = '[{"indicator": "x_nope", "op": "=", "value": true}]'
    r = client.post(rule_url(s), data)
    assert r.status_code == 200
    expected = gettext("unknown indicator code %(c)s") % {"c": "'x_nope'"}  # Chinese once compiled
    assert any(expected in m for m in r.context["form"].errors["when"])
    assert escape(expected) in r.content.decode()
    assert unchanged(s, s)


@pytest.mark.parametrize("field, value, error_on", [
    ("when", '[{"indicator": "x_serious_listed", "op": "~", "value": true}]', "when"),  # unknown operator
    ("when", '[{"indicator": "x_serious_listed", "operator": "=", "value": true}]', "when"),  # unknown key
    ("type", "ban", "type"),  # unknown rule type
])
def test_unknown_rule_codes_are_form_errors(client, draft, field, value, error_on):
    s, author, _ = draft
    client.force_login(author)
    data = form_as_posted(client, rule_url(s))
    data[field] = value
    r = client.post(rule_url(s), data)
    assert r.status_code == 200 and r.context["form"].errors[error_on]
    assert unchanged(s, s)


@pytest.mark.parametrize("field, value", [
    ("source", "no_such_table"),  # unknown source table (a choice the form does not offer)
    ("aggregation", "median"),
    ("filter", '[{"field": "no_such_column", "op": "=", "value": "fail"}]'),
    ("filter", '[{"field": "result", "op": "like", "value": "fail"}]'),
    ("bands", '[{"equal": 1, "points": 9}]'),  # a typo the engine alone would read as "any value"
    ("bands", '[{"equals": 1, "min": 0, "points": 9}]'),
])
def test_unknown_indicator_codes_are_form_errors(client, draft, field, value):
    s, author, _ = draft
    client.force_login(author)
    data = form_as_posted(client, indicator_url(s))
    data[field] = value
    r = client.post(indicator_url(s), data)
    assert r.status_code == 200 and r.context["form"].errors[field]
    assert unchanged(s, s)


def test_renaming_an_indicator_a_rule_uses_is_refused(client, draft):
    s, author, _ = draft
    client.force_login(author)
    url = indicator_url(s, "x_serious_listed")
    data = form_as_posted(client, url)
    data["code"] = "x_renamed"
    r = client.post(url, data)
    assert r.status_code == 200
    assert any(RULE in m and "x_serious_listed" in m for m in r.context["form"].non_field_errors())
    assert unchanged(s, s)


def test_unknown_code_in_the_url(client, draft):
    s, author, _ = draft
    client.force_login(author)
    assert client.get(rule_url(s, "no_such_rule")).status_code == 404
    assert client.get(indicator_url(s, "no_such_indicator")).status_code == 404
    # a post (e.g. the rule was removed meanwhile) was silently dropped with "Saved": now an error
    data = form_as_posted(client, rule_url(s))
    data["code"] = "brand_new"
    r = client.post(rule_url(s, "no_such_rule"), data)
    assert r.status_code == 200
    assert gettext("No rule %(c)s in this set") % {"c": "no_such_rule"} in r.context["form"].non_field_errors()
    assert unchanged(s, s)
    # removing an unknown entry from the set page: an error message, no audit entry
    r = client.post(reverse("indicators:indicatorset_action", args=[s.pk, "remove_rule"]), {"code": "nope"},
                    follow=True)
    assert gettext("No rule %(c)s in this set") % {"c": "nope"} in [str(m) for m in r.context["messages"]]
    assert unchanged(s, s)


def test_valid_edit_goes_through_the_service(client, draft):
    s, author, _ = draft
    client.force_login(author)
    data = form_as_posted(client, rule_url(s))
    data["grade"] = "C"
    with mock.patch.object(isvc, "replace_rule", wraps=isvc.replace_rule) as spy:
        r = client.post(rule_url(s), data)
    assert r.status_code == 302, errors(r)
    assert spy.call_count == 1 and spy.call_args.args[1] == RULE
    fresh = IndicatorSet.objects.get(pk=s.pk)
    assert next(x for x in fresh.rules if x["code"] == RULE)["grade"] == "C"
    assert (fresh.status, fresh.version, fresh.code) == ("draft", s.version, s.code)  # edited in place
    entry = AuditEntry.objects.get(action=UPDATE)
    assert entry.user == author and entry.object_id == str(s.pk)
    assert next(x for x in entry.before["spec"]["rules"] if x["code"] == RULE)["grade"] == "D"
    assert next(x for x in entry.after["spec"]["rules"] if x["code"] == RULE)["grade"] == "C"
    # adding a rule appends it
    data.update(code="veto_new", name="新规则")
    r = client.post(reverse("indicators:rule_add", args=[s.pk]), data)
    assert r.status_code == 302, errors(r)
    assert [x["code"] for x in IndicatorSet.objects.get(pk=s.pk).rules][-1] == "veto_new"
    # removing one from the set page
    client.post(reverse("indicators:indicatorset_action", args=[s.pk, "remove_rule"]), {"code": "veto_new"})
    assert "veto_new" not in [x["code"] for x in IndicatorSet.objects.get(pk=s.pk).rules]
    assert AuditEntry.objects.filter(action=UPDATE).count() == 3


def test_a_submitted_set_is_not_edited(client, draft):
    s, author, _ = draft
    client.force_login(author)
    data = form_as_posted(client, rule_url(s))
    data["grade"] = "C"
    isvc.submit(s, user=author)
    s.refresh_from_db()
    page = client.get(rule_url(s))
    assert gettext("Only drafts can be edited. Copy this version to change it.") in page.content.decode()
    r = client.post(rule_url(s), data)
    assert r.status_code == 200
    assert r.context["form"].non_field_errors() == [
        gettext("Only drafts can be edited; copy this version to change it.")]
    r = client.post(reverse("indicators:indicatorset_action", args=[s.pk, "remove_indicator"]),
                    {"code": INDICATOR}, follow=True)
    assert gettext("Only drafts can be edited; copy this version to change it.") in [
        str(m) for m in r.context["messages"]]
    assert unchanged(s, s)
    r = client.put(f"/api/indicators/sets/{s.pk}/rules/{RULE}/", json.dumps(dict(s.rules[0], grade="C")),
                   content_type="application/json")
    assert r.status_code == 400
    assert r.json() == [gettext("Only drafts can be edited; copy this version to change it.")]
    assert unchanged(s, s)


def test_editing_needs_the_change_permission(client, draft):
    s, author, _ = draft
    client.force_login(author)
    data = form_as_posted(client, rule_url(s))
    viewer = make_user("viewer", None, "indicators.view_indicatorset", national=True)
    client.force_login(viewer)
    assert client.get(s.get_absolute_url()).status_code == 200
    assert client.get(rule_url(s)).status_code == 403
    assert client.post(rule_url(s), data).status_code == 403
    assert client.get(reverse("indicators:rule_edit", args=[999999, RULE])).status_code == 403  # not 404
    assert client.post(reverse("indicators:indicatorset_action", args=[s.pk, "remove_rule"]),
                       {"code": RULE}).status_code == 403
    api = f"/api/indicators/sets/{s.pk}/rules/{RULE}/"
    assert client.put(api, json.dumps(s.rules[0]), content_type="application/json").status_code == 403
    assert client.delete(api).status_code == 403
    assert client.post(f"/api/indicators/sets/{s.pk}/rules/", json.dumps(s.rules[0]),
                       content_type="application/json").status_code == 403
    assert unchanged(s, s)


def test_api_reports_the_same_errors_as_400(client, draft):
    s, author, _ = draft
    client.force_login(author)
    base = f"/api/indicators/sets/{s.pk}"
    rule = next(x for x in s.rules if x["code"] == RULE)
    bad = dict(rule, when=[{"indicator": "x_nope", "op": "=", "value": True}])
    r = client.put(f"{base}/rules/{RULE}/", json.dumps(bad), content_type="application/json")
    assert r.status_code == 400
    assert r.json()["spec"] == [{"where": f"rule '{RULE}'", "field": "when.x_nope",
                                 "message": gettext("unknown indicator code %(c)s") % {"c": "'x_nope'"}}]
    r = client.put(f"{base}/rules/no_such_rule/", json.dumps(rule), content_type="application/json")
    assert r.status_code == 400 and r.json() == [gettext("No rule %(c)s in this set") % {"c": "no_such_rule"}]
    r = client.delete(f"{base}/indicators/no_such_indicator/")
    assert r.status_code == 400
    assert r.json() == [gettext("No indicator %(c)s in this set") % {"c": "no_such_indicator"}]
    ind = next(x for x in s.indicators if x["code"] == INDICATOR)
    r = client.put(f"{base}/indicators/{INDICATOR}/", json.dumps(dict(ind, source="no_such_table")),
                   content_type="application/json")
    assert r.status_code == 400 and r.json()["spec"][0]["field"] == "source"
    r = client.post(f"{base}/rules/", json.dumps([rule]), content_type="application/json")
    assert r.status_code == 400
    assert unchanged(s, s)
    # the generic model writes would bypass the services: refused
    assert client.put(f"{base}/", {}, content_type="application/json").status_code == 405
    assert client.delete(f"{base}/").status_code == 405
    assert IndicatorSet.objects.filter(pk=s.pk).exists()
    assert unchanged(s, s)


def test_api_edits_go_through_the_services(client, draft):
    s, author, _ = draft
    client.force_login(author)
    base = f"/api/indicators/sets/{s.pk}"
    ind = next(x for x in s.indicators if x["code"] == INDICATOR)
    r = client.put(f"{base}/indicators/{INDICATOR}/", json.dumps(dict(ind, weight=2.5)),
                   content_type="application/json")
    assert r.status_code == 200, r.content
    assert next(x for x in r.json()["spec"]["indicators"] if x["code"] == INDICATOR)["weight"] == 2.5
    r = client.post(f"{base}/indicators/", json.dumps(dict(ind, code="d_copy")), content_type="application/json")
    assert r.status_code == 200, r.content
    rule = next(x for x in s.rules if x["code"] == RULE)
    r = client.put(f"{base}/rules/{RULE}/", json.dumps(dict(rule, grade="C")), content_type="application/json")
    assert r.status_code == 200, r.content
    assert client.delete(f"{base}/indicators/d_copy/").status_code == 200
    fresh = IndicatorSet.objects.get(pk=s.pk)
    assert "d_copy" not in [x["code"] for x in fresh.indicators]
    assert (fresh.status, fresh.version) == ("draft", s.version)
    assert AuditEntry.objects.filter(action=UPDATE, user=author).count() == 4


def test_service_refuses_unknown_codes_and_edits_the_current_spec(draft):
    s, author, _ = draft
    with pytest.raises(ValidationError):
        isvc.remove_indicator(s, "nope", user=author)
    with pytest.raises(ValidationError):
        isvc.replace_rule(s, "nope", s.rules[0], user=author)
    ind = next(x for x in s.indicators if x["code"] == INDICATOR)
    with pytest.raises(SpecValidationError) as err:
        isvc.replace_indicator(s, INDICATOR, dict(ind, bands=[{"equal": 1, "points": 3}]), user=author)
    assert (f"indicator '{INDICATOR}'", "bands[1].equal") in [(w, f) for w, f, _m in err.value.issues]
    assert not AuditEntry.objects.filter(action=UPDATE).exists()
    # an edit through a stale copy keeps what another edit saved meanwhile
    stale = IndicatorSet.objects.get(pk=s.pk)
    isvc.replace_indicator(s, INDICATOR, dict(ind, weight=3.0), user=author)
    isvc.replace_rule(stale, RULE, dict(stale.rules[0], grade="C"), user=author)
    fresh = IndicatorSet.objects.get(pk=s.pk)
    assert next(x for x in fresh.indicators if x["code"] == INDICATOR)["weight"] == 3.0
    assert fresh.rules[0]["grade"] == "C"


def test_settings_editor_keeps_an_indicator_saved_meanwhile(client, draft):
    s, author, _ = draft
    client.force_login(author)
    url = reverse("indicators:indicatorset_settings", args=[s.pk])
    data = dict(form_as_posted(client, url), name="renamed")
    ind = next(x for x in s.indicators if x["code"] == INDICATOR)
    real, done = isvc.change_spec, []

    def edited_meanwhile(*args, **kwargs):  # another editor saves an indicator after this page read the set
        if not done:
            done.append(True)
            isvc.replace_indicator(s, INDICATOR, dict(ind, weight=3.0), user=author)
        return real(*args, **kwargs)

    with mock.patch.object(isvc, "change_spec", side_effect=edited_meanwhile):
        r = client.post(url, data)
    assert r.status_code == 302, errors(r)
    fresh = IndicatorSet.objects.get(pk=s.pk)
    assert fresh.name == "renamed"
    assert next(x for x in fresh.indicators if x["code"] == INDICATOR)["weight"] == 3.0
