"""Shared fixtures of the indicators and scoring tests: regions, users, enterprises, an active set."""

from datetime import date, timedelta

from foodrisk.core.models import Organisation, User
from foodrisk.core.testing import PASSWORD, grant, make_regions
from foodrisk.enterprises.models import Enterprise
from foodrisk.indicators import services as isvc

AS_OF = date(2026, 3, 31)

ALL_INDICATOR_PERMS = ("indicators.view_indicatorset", "indicators.add_indicatorset",
                       "indicators.change_indicatorset", "indicators.delete_indicatorset",
                       "indicators.approve_indicatorset", "indicators.activate_indicatorset",
                       "indicators.preview_indicatorset")
ALL_SCORING_PERMS = ("scoring.view_score", "scoring.view_scoringrun", "scoring.add_scoringrun",
                     "scoring.view_gradeadjustment", "scoring.add_gradeadjustment",
                     "scoring.approve_gradeadjustment", "scoring.view_gradechange")


def make_user(username, region=None, *perms, national=False):
    regions = make_regions()
    region = region or regions["330102"]
    org, _ = Organisation.objects.get_or_create(code=f"O-{region.code}", defaults={"name": region.name,
                                                                                  "region": region})
    user = User.objects.create_user(username, password=PASSWORD, organisation=org)
    if national:
        user.national_scope = True
        user.save()
    return grant(user, *perms) if perms else user


def make_enterprise(n, region_code="330102", tier=1, **kw):
    make_regions()
    defaults = dict(uscc=f"91330100MA{n:08d}", name=f"测试企业{n}", region_id=region_code, business_form="sales",
                    scale="micro", static_tier=tier, established_on=AS_OF - timedelta(days=700), status="active")
    defaults.update(kw)
    return Enterprise.objects.create(**defaults)


def make_population(count=6, region_b_count=3):
    """count enterprises in 上城区 (tiers cycle 1..4) and region_b_count in 西湖区."""
    ents = [make_enterprise(i, "330102", tier=1 + i % 4) for i in range(count)]
    ents += [make_enterprise(100 + i, "330106", tier=1 + i % 4) for i in range(region_b_count)]
    return ents


def people():
    author = make_user("author", None, *ALL_INDICATOR_PERMS, *ALL_SCORING_PERMS, national=True)
    approver = make_user("approver", None, *ALL_INDICATOR_PERMS, *ALL_SCORING_PERMS, national=True)
    return author, approver


def activate_profile(author, approver, profile="food_2016", **kw):
    s = isvc.create_from_profile(profile, user=author, **kw)
    isvc.submit(s, user=author)
    isvc.approve(s, user=approver)
    return isvc.activate(s, user=approver)


def penalty(enterprise, no, severity="heavy", on=AS_OF - timedelta(days=30), **kw):
    from foodrisk.records.models import Penalty

    return Penalty(enterprise=enterprise, decision_no=no, decided_on=on, violation_type="生产经营超过保质期食品",
                   severity=severity, fine=20000, **kw)


def scoring_world():
    """(author, approver, enterprises, the active indicator set): a population scored under the default profile."""
    author, approver = people()
    ents = make_population()
    active = activate_profile(author, approver)
    return author, approver, ents, active
