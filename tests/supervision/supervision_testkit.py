"""Fixtures of the supervision tests: a district with inspectors, a manager, graded enterprises."""

from datetime import date, timedelta

from foodrisk.core.models import Organisation, User
from foodrisk.core.testing import PASSWORD, grant, make_regions
from foodrisk.enterprises.models import Enterprise

INSPECTOR_PERMS = ("supervision.inspect_task", "supervision.view_task", "supervision.change_task",
                   "enterprises.view_enterprise")
MANAGER_PERMS = ("supervision.view_task", "supervision.add_task", "supervision.change_task",
                 "supervision.assign_task", "supervision.verify_task", "supervision.view_inspectionplan",
                 "supervision.add_inspectionplan", "supervision.view_randomdraw", "supervision.add_randomdraw",
                 "supervision.view_repaircase", "supervision.add_repaircase", "supervision.change_repaircase",
                 "supervision.decide_repaircase", "core.view_exportrequest",
                 "core.export_data", "core.approve_exportrequest", "supervision.view_planitem",
                 "supervision.view_supervisionprofile", "supervision.view_conflictofinterest",
                 "supervision.view_checklisttemplate",
                 "supervision.add_conflictofinterest", "enterprises.view_enterprise",
                 "enterprises.unmask_enterprise", "records.view_inspection", "records.view_penalty",
                 "records.view_creditrepair", "records.view_attachment", "core.view_organisation")


def org(code):
    regions = make_regions()
    o, _ = Organisation.objects.get_or_create(code=f"O-{code}", defaults={"name": f"{regions[code].name}市场监管局",
                                                                         "region": regions[code]})
    return o


def person(username, region_code="330102", *perms):
    user = User.objects.create_user(username, password=PASSWORD, organisation=org(region_code),
                                    full_name=username)
    return grant(user, *perms) if perms else user


def inspectors(n, region_code="330102", prefix="insp"):
    return [person(f"{prefix}{region_code}-{i}", region_code, *INSPECTOR_PERMS) for i in range(n)]


def enterprise(n, region_code="330102", grade="B", **kw):
    make_regions()
    defaults = dict(uscc=f"91330100MB{n:08d}", name=f"监管测试企业{n}", region_id=region_code, business_form="sales",
                    scale="micro", static_tier=1, established_on=date(2020, 1, 1), status="active",
                    current_grade=grade, legal_representative=f"法人{n}")
    defaults.update(kw)
    return Enterprise.objects.create(**defaults)


def population(spec, region_code="330102", start=0):
    """spec: {"D": 4, "C": 3, …} → list of enterprises with those grades."""
    out, n = [], start
    for grade, count in spec.items():
        for _ in range(count):
            out.append(enterprise(n, region_code, grade))
            n += 1
    return out


def days_ago(n):
    from django.utils import timezone

    return timezone.localdate() - timedelta(days=n)
