"""A small graded world for the analytics tests: 杭州市 with 上城区 (6 enterprises) and 西湖区 (3), scored by a
published run (its grade_changed reaction refreshes the snapshot), and people with and without the dashboard
permission."""

import datetime as dt

from django.utils import timezone
from scoring_testkit import make_population, make_user, people

from foodrisk.core.testing import grant
from foodrisk.enterprises.models import Enterprise
from foodrisk.scoring import services as scoring

DISTRICT, NEIGHBOUR, CITY = "330102", "330106", "330100"
DASHBOARD = "analytics.view_dashboard"


def publish_run(capture, author, as_of=None):
    """A full run, its reactions run as after a commit (the snapshot refresh among them)."""
    with capture(execute=True):
        run = scoring.run_scoring("full", as_of or timezone.localdate(), author)
    return run


def graded_world(capture):
    from scoring_testkit import activate_profile, penalty

    author, approver = people()
    ents = make_population()
    for n, (ent, severity) in enumerate([(ents[0], "serious"), (ents[1], "heavy"), (ents[2], "heavy"),
                                         (ents[6], "serious"), (ents[7], "general")]):
        penalty(ent, f"罚-{n}", severity=severity).save()
    activate_profile(author, approver)
    run = publish_run(capture, author)
    return author, ents, run


def live_counts(region_prefix="", business_form=""):
    """{grade: n} straight from the enterprises (what the database says)."""
    qs = Enterprise.objects.exclude(current_grade="").filter(region__code__startswith=region_prefix)
    if business_form:
        qs = qs.filter(business_form=business_form)
    out = {g: 0 for g in "ABCD"}
    for grade in qs.values_list("current_grade", flat=True):
        out[grade] += 1
    return out


def city_leader(*perms):
    return make_user("leader", _region(CITY), DASHBOARD, "enterprises.view_enterprise", *perms)


def district_leader(*perms):
    return make_user("districtleader", _region(DISTRICT), DASHBOARD, "enterprises.view_enterprise", *perms)


def _region(code):
    from foodrisk.core.models import Region
    from foodrisk.core.testing import make_regions

    make_regions()
    return Region.objects.get(pk=code)


def months_ago(n):
    from foodrisk.analytics.services import add_months, current_month

    return add_months(current_month(), -n)


def moment(month, day=15):
    return timezone.make_aware(dt.datetime(month.year, month.month, day, 10, 0))


__all__ = ["grant"]
