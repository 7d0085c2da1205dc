"""Browser test of the home page per role (issue 14): a leader logs in and lands on his desk with the city's
figures, a click on a grade opens exactly those enterprises; a district inspector lands on his work with his
tasks, a click on his overdue tasks lists exactly them."""

import datetime as dt
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
for folder in (TESTS / "analytics", TESTS / "scoring", TESTS / "supervision"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from django.utils import timezone  # noqa: E402

from foodrisk.core.models import Role  # noqa: E402
from foodrisk.core.seeds import seed_roles  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_leader_and_the_inspector_land_on_their_homes(page, live_server, log_in, shot):
    from analytics_testkit import CITY, DISTRICT, NEIGHBOUR
    from scoring_testkit import make_enterprise, make_user
    from supervision_testkit import org

    from foodrisk.analytics.services import refresh_month
    from foodrisk.supervision.models import Task

    seed_roles()
    ents = [make_enterprise(n, DISTRICT if n < 4 else NEIGHBOUR, current_grade=g, current_score=s)
            for n, (g, s) in enumerate([("A", 10), ("C", 70), ("D", 90), ("D", 95), ("B", 40)])]
    refresh_month()
    leader = make_user("leader")
    leader.organisation = org(CITY)
    leader.save()
    leader.groups.add(Role.objects.get(code="leader"))
    inspector = make_user("inspector")
    inspector.groups.add(Role.objects.get(code="supervisor"))
    today = timezone.localdate()
    late = Task.objects.create(kind="inspection", enterprise=ents[1], title="逾期的检查", organisation=org(DISTRICT),
                               due_on=today - dt.timedelta(days=2), status="assigned", assignee=inspector)
    Task.objects.create(kind="inspection", enterprise=ents[2], title="下周的检查", organisation=org(DISTRICT),
                        due_on=today + dt.timedelta(days=5), status="assigned", assignee=inspector)

    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in(page, "leader")
    assert page.locator("#home-tabs .active").inner_text() == "领导工作台"
    assert page.locator("#home-grades").inner_text().count("\n") >= 10
    shot(page, "home-leader")
    page.locator("#home-grades a").nth(3).click()  # grade D
    page.wait_for_url(f"{live_server.url}/enterprises/?region={CITY}&current_grade=D")
    assert "共 2 条记录" in page.content()

    page.context.clear_cookies()  # the next person logs in
    log_in(page, "inspector")
    assert page.locator("#home-tabs .active").inner_text() == "我的工作"
    next_tasks = page.locator("#home-next-tasks").inner_text()
    assert "逾期的检查" in next_tasks and "下周的检查" in next_tasks
    shot(page, "home-inspector")
    page.locator("#home-tasks a").nth(1).click()  # my overdue tasks
    page.wait_for_url(lambda url: url.endswith("/supervision/tasks/?mine=true&overdue=true"))
    assert "共 1 条记录" in page.content() and late.title in page.content()
    assert not errors, errors
