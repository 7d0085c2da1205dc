"""The monthly grade snapshot: written when a run is published (grade_changed), rebuilt point in time from the
grade history by the backfill (idempotent); the leader role gets the dashboard permission."""

import pytest
from analytics_testkit import DISTRICT, graded_world, live_counts, moment, months_ago
from django.utils import timezone

from foodrisk.analytics import services
from foodrisk.analytics.models import GradeSnapshot
from foodrisk.scoring.models import GradeChange

pytestmark = pytest.mark.django_db


def snapshot_counts(month, prefix=""):
    out = {g: 0 for g in "ABCD"}
    for grade, n in (GradeSnapshot.objects.filter(month=month, region__code__startswith=prefix,
                                                  food_category=services.ALL_CATEGORIES)
                     .values_list("grade", "count")):
        out[grade] += n
    return out


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    return graded_world(django_capture_on_commit_callbacks)


def test_a_published_run_writes_this_months_snapshot(world):
    assert sum(live_counts().values()) == 9
    assert len({g for g, n in live_counts().items() if n}) >= 2  # a world with more than one grade
    month = services.current_month()
    assert snapshot_counts(month) == live_counts()
    assert snapshot_counts(month, DISTRICT) == live_counts(DISTRICT)
    per_form = {}
    for form, n in (GradeSnapshot.objects.filter(month=month, food_category=services.ALL_CATEGORIES)
                    .values_list("business_form", "count")):
        per_form[form] = per_form.get(form, 0) + n
    assert per_form == {"sales": 9}


def test_backfill_is_point_in_time_and_idempotent(world):
    author, ents, run = world
    GradeChange.objects.all().delete()
    GradeSnapshot.objects.all().delete()
    a, b, c = ents[0], ents[1], ents[6]
    m3, m1 = months_ago(3), months_ago(1)
    GradeChange.objects.create(enterprise=a, new_grade="A", at=moment(m3))
    GradeChange.objects.create(enterprise=b, new_grade="B", at=moment(m3, 20))
    GradeChange.objects.create(enterprise=a, old_grade="A", new_grade="C", at=moment(m1))
    # a run scoring a past date counts from that date (its as-of), not from when it was published
    run.as_of = months_ago(2).replace(day=28)
    run.save()
    GradeChange.objects.create(enterprise=c, run=run, new_grade="D", at=timezone.now())

    result = services.backfill()
    assert result["months"] == 4
    assert snapshot_counts(m3) == {"A": 1, "B": 1, "C": 0, "D": 0}
    assert snapshot_counts(months_ago(2)) == {"A": 1, "B": 1, "C": 0, "D": 1}
    assert snapshot_counts(m1) == {"A": 0, "B": 1, "C": 1, "D": 1}
    assert snapshot_counts(m1, DISTRICT) == {"A": 0, "B": 1, "C": 1, "D": 0}
    assert snapshot_counts(services.current_month()) == live_counts()  # this month: the published grades
    rows = list(GradeSnapshot.objects.order_by("month", "region", "business_form", "grade")
                .values_list("month", "region", "business_form", "grade", "count"))
    assert services.backfill() == result
    assert list(GradeSnapshot.objects.order_by("month", "region", "business_form", "grade")
                .values_list("month", "region", "business_form", "grade", "count")) == rows


def test_the_leader_role_may_open_the_dashboard():
    from foodrisk.core.models import Role
    from foodrisk.core.seeds import seed_roles

    seed_roles()
    perms = set(Role.objects.get(code="leader").permissions.values_list("codename", flat=True))
    assert {"view_dashboard", "view_gradesnapshot"} <= perms
    supervisor = set(Role.objects.get(code="supervisor").permissions.values_list("codename", flat=True))
    assert "view_dashboard" not in supervisor
