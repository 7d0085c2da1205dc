"""Browser tests: a person logs in, sees the Chinese UI, manages an organisation, reads the audit log."""

import pytest

from foodrisk.core.models import AuditEntry, Organisation
from foodrisk.core.seeds import seed_all
from foodrisk.core.services import accounts
from foodrisk.core.testing import PASSWORD, make_regions

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin_user():
    regions = make_regions()
    seed_all()
    from foodrisk.core.models import Role

    org = Organisation.objects.create(code="HZ", name="杭州市市场监督管理局", region=regions["330100"])
    return accounts.create_user(username="admin", password=PASSWORD, full_name="系统管理员", organisation=org,
                                roles=[Role.objects.get(code="system_admin")])


def login(page, live_server, username="admin"):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_login_create_organisation_and_audit(page, live_server, admin_user, shot):
    login(page, live_server)
    assert "系统管理" in page.content()
    shot(page, "home")
    page.click(".app-sidebar a[href='/organisations/']")
    page.click("a[href='/organisations/add/']")
    page.fill("#id_code", "XH")
    page.fill("#id_name", "西湖区市场监督管理局")
    page.select_option("#id_region", "330106")
    page.click("button[type=submit]")
    page.wait_for_selector("text=西湖区市场监督管理局")
    assert Organisation.objects.filter(code="XH").exists()
    page.goto(f"{live_server.url}/audit/")
    assert "机构·新增" in page.content()  # the action by its label (core.organisation.create)
    shot(page, "audit")
    page.click("form[action='/audit/verify/'] button")
    page.wait_for_selector(".alert-success")
    assert AuditEntry.objects.filter(action="core.audit.verify").exists()


def test_csp_allows_the_page_scripts(page, live_server, admin_user):
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, live_server)
    page.goto(f"{live_server.url}/organisations/")
    assert page.evaluate("typeof htmx") == "object"
    assert page.evaluate("typeof bootstrap") == "object"
    assert not [e for e in errors if "Content Security Policy" in e], errors
