"""The sharing pages: an administrator registers a client system (its secret shown once, never stored in
clear), an approver approves it on its page, the catalogue shows the field dictionary and the result codes in
Chinese; people without the permissions are refused; a district administrator manages only his region's."""

import pytest
from django.utils import translation

from foodrisk.core.models import AuditEntry, User
from foodrisk.core.testing import grant, make_regions
from foodrisk.sharing.models import ClientSystem

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    regions = make_regions()
    admin = grant(User.objects.create_user("admin1", national_scope=True), "sharing.add_clientsystem",
                  "sharing.change_clientsystem", "sharing.view_clientsystem", "sharing.view_sharingcall")
    approver = grant(User.objects.create_user("approver1", national_scope=True), "sharing.approve_clientsystem",
                     "sharing.view_clientsystem")
    district = grant(User.objects.create_user("district1", scope_region=regions["330102"]),
                     "sharing.add_clientsystem", "sharing.view_clientsystem")
    nobody = User.objects.create_user("nobody1", national_scope=True)
    return regions, admin, approver, district, nobody


def test_register_approve_and_the_secret_shown_once(client, people):
    regions, admin, approver, _district, _nobody = people
    client.force_login(admin)
    r = client.post("/sharing/clients/add/", {
        "name": "杭州市信用平台", "organisation": "杭州市发改委", "algorithm": "hmac-sha256", "region": "330100",
        "rate_per_minute": "60", "fields_granted": ["enterprise_grade.uscc", "enterprise_grade.grade"],
        "ip_lines": "10.1.0.0/16\n"})
    assert r.status_code == 200, r.content
    sc = ClientSystem.objects.get()
    page = r.content.decode()
    assert sc.secret in page and sc.app_key in page and sc.status == "pending"
    assert sc.grants == {"enterprise_grade": ["uscc", "grade"]} and sc.ip_allow == ["10.1.0.0/16"]
    assert sc.secret not in client.get(sc.get_absolute_url()).content.decode()  # never again
    assert sc.secret not in str(AuditEntry.objects.get(action="sharing.clientsystem.register").after)
    assert "approve" not in client.get(sc.get_absolute_url()).context["actions"]  # not by the one who registered
    client.force_login(approver)
    assert "approve" in client.get(sc.get_absolute_url()).context["actions"]
    r = client.post(f"/sharing/clients/{sc.pk}/approve/", {"note": "同意"})
    assert r.status_code == 302
    sc.refresh_from_db()
    assert sc.status == "active" and sc.approved_by == approver


def test_bad_registration_input_is_a_chinese_error_and_nothing_is_saved(client, people):
    _regions, admin, _approver, _district, _nobody = people
    client.force_login(admin)
    with translation.override("zh-hans"):
        r = client.post("/sharing/clients/add/", {"name": "系统", "organisation": "单位", "algorithm": "hmac-sha256",
                                                  "rate_per_minute": "60", "fields_granted": ["enterprise_grade.uscc"],
                                                  "ip_lines": "not-an-address"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert r.status_code == 200 and "不是有效的 IP 地址或网段" in r.content.decode()
    assert not ClientSystem.objects.exists()


def test_permissions_and_region(client, people):
    regions, admin, _approver, district, nobody = people
    client.force_login(nobody)
    for url in ("/sharing/clients/", "/sharing/clients/add/", "/sharing/catalogue/", "/sharing/calls/"):
        assert client.get(url).status_code == 403, url
    client.force_login(district)
    r = client.post("/sharing/clients/add/", {"name": "全国系统", "organisation": "某部", "algorithm": "hmac-sha256",
                                              "rate_per_minute": "60", "fields_granted": ["enterprise_grade.uscc"]})
    assert r.status_code == 200 and not ClientSystem.objects.exists()  # nationwide is not his to grant
    from foodrisk.sharing import services

    other, _secret = services.register(user=admin, name="宁波平台", organisation="宁波", region=regions["330200"],
                                       grants={"enterprise_grade": ["uscc"]})
    assert client.get(other.get_absolute_url()).status_code == 404  # another region's client


def test_the_catalogue_and_client_pages_read_in_chinese(client, people):
    from foodrisk.core.testing import english_words  # the page crawl's checker

    _regions, admin, _approver, _district, _nobody = people
    client.force_login(admin)
    from foodrisk.sharing import services

    sc, _secret = services.register(user=admin, name="杭州市信用平台", organisation="杭州市发改委",
                                    grants={"enterprise_grade": ["uscc", "legal_representative"]},
                                    unmasked=["enterprise_grade.legal_representative"])
    for url in ("/sharing/catalogue/", "/sharing/clients/", sc.get_absolute_url(), "/sharing/clients/add/",
                f"/sharing/clients/{sc.pk}/edit/", "/sharing/calls/"):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        assert not english_words(page), (url, english_words(page))
