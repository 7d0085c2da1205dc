"""Browser tests: a parameter's value in a field of its type, a schedule's parameters as rows ("add rows" by
htmx), and the warning queue's column menu (untick a column, apply: the table follows, kept after a reload) —
with no console error."""

import pytest
from test_core_ui import admin_user, login  # noqa: F401 (a fixture)

from foodrisk.core.models import ColumnChoice, Parameter, Schedule

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def console_errors(page):
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


def test_parameter_and_schedule_editors(page, live_server, admin_user, shot):  # noqa: F811
    errors = console_errors(page)
    login(page, live_server)
    param = Parameter.objects.get(key="penalty_repair_months_food")
    page.goto(f"{live_server.url}/parameters/{param.pk}/edit/")
    assert page.locator("input[name=typed_value][type=number]").input_value() == "12"
    assert not page.locator("textarea[name=value]").is_visible()  # the JSON is in the collapsed section
    page.fill("input[name=typed_value]", "18")
    shot(page, "parameter-edit")
    page.click("form.app-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/parameters/{param.pk}/")
    assert Parameter.objects.get(pk=param.pk).value == 18
    schedule = Schedule.objects.create(name="月度训练", job_kind="scoring.train", frequency="monthly",
                                       params={"months": 24})
    page.goto(f"{live_server.url}/schedules/{schedule.pk}/edit/")
    rows = page.locator("select[name$='-name']")
    shown = rows.count()
    page.click("button[hx-vals*='params']")
    page.locator(f"select[name='params-{shown}-name']").wait_for()  # (no wait_for_function: the CSP forbids eval)
    page.select_option(f"select[name='params-{shown}-name']", "horizon_months")
    page.fill(f"input[name='params-{shown}-value']", "6")
    shot(page, "schedule-edit")
    page.click("form.app-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/schedules/{schedule.pk}/")
    assert Schedule.objects.get(pk=schedule.pk).params == {"months": 24, "horizon_months": 6}
    assert not errors, errors


def test_the_warning_queue_column_menu(page, live_server, admin_user, shot):  # noqa: F811
    errors = console_errors(page)
    login(page, live_server)
    page.goto(f"{live_server.url}/alerts/all/")
    headers = page.locator("table thead th").all_inner_texts()
    page.click("button:has-text('显示列')")
    page.locator("#column-summary").check()
    page.locator("#column-raised_at").uncheck()
    shot(page, "alert-columns-menu")
    with page.expect_navigation():
        page.click(".app-column-menu button[type=submit]:not([name])")
    page.reload()
    after = page.locator("table thead th").all_inner_texts()
    assert after != headers
    assert ColumnChoice.objects.get(user__username="admin").columns[-1] == "summary"
    assert "raised_at" not in ColumnChoice.objects.get(user__username="admin").columns
    assert not errors, errors
