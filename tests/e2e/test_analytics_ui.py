"""Browser test of the statistics dashboard (issue 14): a leader logs in, opens 统计分析看板 from the menu, the
charts draw under the CSP, and a click on a heat-map cell lists exactly those enterprises."""

import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
for folder in (TESTS / "analytics", TESTS / "scoring"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from foodrisk.core.models import Role, User  # noqa: E402
from foodrisk.core.seeds import seed_roles  # noqa: E402
from foodrisk.enterprises.models import Enterprise  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@contextmanager
def committed(execute=True):
    yield  # a transactional test commits: the run's reactions (the snapshot among them) run after it


def city_leader_logged_in(page, log_in):
    """The graded world, a city leader (the 领导 role) logged in; returns the list that collects console errors."""
    from analytics_testkit import CITY, graded_world, make_user

    graded_world(committed)
    seed_roles()
    leader = make_user("leader", None)
    leader.groups.add(Role.objects.get(code="leader"))
    User.objects.filter(pk=leader.pk).update(scope_region_id=CITY)
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in(page, "leader")
    return errors


def test_leader_sees_the_dashboard_and_drills_down(page, live_server, log_in, shot):
    from analytics_testkit import DISTRICT

    errors = city_leader_logged_in(page, log_in)
    page.click(".app-sidebar a[href='/analytics/']")
    page.wait_for_selector("#analytics-matrix canvas")
    assert page.locator("canvas").count() == 3
    shot(page, "analytics-dashboard")
    assert not errors, errors
    # the first heat-map cell: 上城区 (the first row) × A (the first column), drawn in the grid's top-left cell
    expected = Enterprise.objects.filter(region_id=DISTRICT, current_grade="A").count()
    assert expected
    box = page.locator("#analytics-matrix canvas").bounding_box()
    rows = page.locator("#analytics-matrix-table tbody tr").count()
    cell_w, cell_h = (box["width"] - 130) / 4, (box["height"] - 70) / rows
    page.locator("#analytics-matrix canvas").click(position={"x": 110 + cell_w / 2, "y": 10 + cell_h / 2})
    page.wait_for_url(f"{live_server.url}/enterprises/?region={DISTRICT}&current_grade=A")
    assert f"共 {expected} 条记录" in page.content()


def test_leader_opens_the_migration_matrix_and_drills_down(page, live_server, log_in, shot):
    """The migration page's heat map draws under the CSP; a click on a cell lists exactly the enterprises that
    made that move (here: not graded on the first date → A on the second)."""
    errors = city_leader_logged_in(page, log_in)
    page.click(".app-sidebar a[href='/analytics/migration/']")
    page.wait_for_selector("#analytics-migration canvas")
    shot(page, "analytics-migration")
    assert not errors, errors
    expected = Enterprise.objects.filter(current_grade="A").count()
    assert expected
    # the grid's top-left cell: 未定级 (the first row) × A (the first column); grid top 50, left 90, right 20,
    # bottom 70, five rows
    box = page.locator("#analytics-migration canvas").bounding_box()
    cell_w, cell_h = (box["width"] - 110) / 4, (box["height"] - 120) / 5
    page.locator("#analytics-migration canvas").click(position={"x": 90 + cell_w / 2, "y": 50 + cell_h / 2})
    page.wait_for_url("**/enterprises/?*first_grade=none*second_grade=A*")
    assert f"共 {expected} 条记录" in page.content()
