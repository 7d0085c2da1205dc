"""The demo city of the closed-loop tests: 杭州市 with 上城区 (the district where the loop runs, 30
enterprises) and 西湖区 (a neighbour, 5 enterprises, whose supervisor must not see the loop), loaded
through the archive services (upserts), graded by a full run with the food_2016 profile activated by
two people, and the people of the loop with their roles.

The target enterprise and why its numbers are what they are
-----------------------------------------------------------
The issue wants: A → (failed national sampling) drop → (failed inspection) not better → (rectification
closed, then the old penalty repaired) better than right after the drop. With food_2016 (≤30 A, ≤45 B,
≤60 C; a national/provincial sampling failure raises the grade one step for 12 months):

* a repaired penalty can take away at most 15 points — heavy (d_pen_heavy_36m 8) + fines ≥ 100 000 yuan
  (d_pen_fine_36m 5) + a confiscation (d_pen_confiscation_36m 2); a "serious" one or one with the
  licence revoked is never repairable early;
* the failed inspection of the loop (one key item, rectification ordered) adds 14 points (d_insp_fail_12m 8
  + d_insp_key_items_12m 4 + d_insp_rectification_12m 2), and closing the rectification takes nothing off;
* the sampling raise stays on for 12 months, so every grade after the sampling failure is base + 1.

So the grade after the repair beats the grade right after the drop only if the score right after the drop
is exactly 31 (base B → C) and after the repair exactly 30 (base A → B). Starting from an A (≤ 30), the
failed sampling (10 for the national failure + 4 for a 100 % failure rate, as it is the first sampling of
the enterprise) must land on 31, i.e. the enterprise starts at 17 = 15 (the old penalty) + 2 static points:
a micro food-sales shop (1 + 1) whose static risk tier has not been assessed yet (tier empty → 0 points),
with a valid licence and a compliant inspection four months ago (no "no licence" / "no recent
inspection" points). Any point more or less anywhere breaks the loop — the tests assert the exact scores.

    start        17  A   (static 2 + penalty 15)
    sampling     31  C   (B + raise)     GradeChange A→C, alerts: sampling-failed, grade-into-c, grade-drop-2
    inspection   45  C   (B + raise)     no GradeChange; alert inspection-failed
    repair       30  B   (A + raise)     GradeChange C→B
"""

import datetime as dt
import itertools

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from scoring_testkit import activate_profile, people
from supervision_testkit import org

from foodrisk.core.models import AuditEntry, Organisation, Role, User
from foodrisk.core.testing import PASSWORD, grant, make_regions
from foodrisk.enterprises import services as archive
from foodrisk.enterprises.models import Enterprise
from foodrisk.enterprises.testing import make_uscc
from foodrisk.records import services as records
from foodrisk.records.models import Penalty
from foodrisk.records.timeline import timeline
from foodrisk.scoring import services as scoring

DISTRICT, NEIGHBOUR, CITY = "330102", "330106", "330100"
TARGET_NAME = "上城区放心粮油便利店"
START_SCORE, DROP_SCORE, INSPECTED_SCORE, REPAIRED_SCORE = 17, 31, 45, 30
GRADE_ORDER = {"A": 0, "B": 1, "C": 2, "D": 3}

_seq = itertools.count(1)


def today():
    return timezone.localdate()


def ago(days):
    return today() - dt.timedelta(days=days)


def upload(name="evidence.jpg"):
    return SimpleUploadedFile(name, b"\xff\xd8\xff loop evidence " + name.encode(), content_type="image/jpeg")


# ---------------------------------------------------------------------------------------------------------
# people
# ---------------------------------------------------------------------------------------------------------
def city_bureaus():
    make_regions()
    city = Organisation.objects.get_or_create(code=f"O-{CITY}", defaults={"name": "杭州市市场监管局",
                                                                          "region_id": CITY})[0]
    district, neighbour = org(DISTRICT), org(NEIGHBOUR)
    Organisation.objects.filter(pk__in=[district.pk, neighbour.pk]).update(parent=city)
    return city, Organisation.objects.get(pk=district.pk), Organisation.objects.get(pk=neighbour.pk)


def member(username, organisation, role, *perms, full_name=""):
    user = User.objects.create_user(username, password=PASSWORD, organisation=organisation,
                                    full_name=full_name or username)
    user.groups.add(Role.objects.get(code=role))
    return grant(user, *perms) if perms else User.objects.get(pk=user.pk)


class Cast:
    """The people of the loop."""

    def __init__(self):
        self.city, self.district, self.neighbour = city_bureaus()
        self.author, self.approver = people()  # indicator library: proposer and second approver
        self.clerk = member("clerk", self.district, "data_admin", full_name="录入员小陈")
        self.supervisor = member("supervisor", self.district, "supervisor", full_name="科长王敏")
        self.inspector = member("inspector", self.district, "handler", "supervision.inspect_task",
                                full_name="执法员李强")
        self.chief = member("chief", self.city, "supervisor", full_name="市局复核人赵刚")  # the second person
        self.outsider = member("outsider", self.neighbour, "supervisor", full_name="西湖区监管员")


# ---------------------------------------------------------------------------------------------------------
# the city's archive, through the archive services
# ---------------------------------------------------------------------------------------------------------
FORMS = ["sales", "catering", "production", "canteen", "sales", "catering"]
SCALES = ["micro", "small", "medium", "large"]


def _enterprise_row(n, region, name, **kw):
    row = {"uscc": make_uscc(region, 7000 + n), "name": name, "region_id": region,
           "business_form": FORMS[n % len(FORMS)], "scale": SCALES[n % len(SCALES)], "static_tier": 1 + n % 4,
           "established_on": dt.date(2012, 1, 1) + dt.timedelta(days=97 * n), "status": "active",
           "address": f"杭州市{n}号"}
    row.update(kw)
    return row


def build_city():
    """35 enterprises with licences and a few years of records; returns the target enterprise."""
    rows = [_enterprise_row(0, DISTRICT, TARGET_NAME, business_form="sales", scale="micro", static_tier=None,
                            established_on=dt.date(2015, 6, 1))]
    rows += [_enterprise_row(n, DISTRICT, f"上城区样本食品企业{n:02d}") for n in range(1, 30)]
    rows += [_enterprise_row(n, NEIGHBOUR, f"西湖区样本食品企业{n:02d}") for n in range(30, 35)]
    archive.upsert_enterprises(rows, source="loop-demo")
    ents = {e.uscc: e for e in Enterprise.objects.filter(uscc__in=[r["uscc"] for r in rows])}
    ordered = [ents[r["uscc"]] for r in rows]
    target, others = ordered[0], ordered[1:]

    archive.upsert_licences([
        {"enterprise_id": e.pk, "licence_no": f"JY1{3301020000 + i:010d}", "kind": "JY",
         "issued_on": ago(900), "expires_on": ago(20) if i % 11 == 5 else ago(900) + dt.timedelta(days=5 * 365),
         "status": "valid"}
        for i, e in enumerate(ordered)], source="loop-demo")

    inspections, samplings, penalties, complaints = [], [], [], []
    for i, e in enumerate(others, start=1):
        for k in range(i % 3):
            fail = (i + k) % 5 == 0
            inspections.append({"enterprise_id": e.pk, "inspection_no": f"JC-LOOP-{i:02d}-{k}",
                                "inspected_on": ago(40 + 150 * k + i), "kind": "routine",
                                "result": "fail" if fail else ("basic" if (i + k) % 3 == 0 else "pass"),
                                "key_items_failed": 1 if fail else 0, "general_items_failed": (i + k) % 4,
                                "rectification_ordered": fail})
        for k in range(i % 4):
            samplings.append({"enterprise_id": e.pk, "report_no": f"CJ-LOOP-{i:02d}-{k}", "sampled_on": ago(30 + 200 * k),
                              "level": ["county", "city", "provincial", "national"][(i + k) % 4],
                              "product": "食用植物油", "result": "fail" if (i * 7 + k) % 9 == 0 else "pass"})
        if i % 4 == 0:
            penalties.append({"enterprise_id": e.pk, "decision_no": f"杭上市监罚〔LOOP〕{i}号",
                              "decided_on": ago(60 + 20 * i), "violation_type": "未按规定履行进货查验义务",
                              "severity": ["minor", "general", "heavy"][i % 3], "fine": 3000 * i})
        if i % 3 == 0:
            complaints.append({"enterprise_id": e.pk, "complaint_no": f"TS-LOOP-{i:02d}", "received_on": ago(10 + i),
                               "channel": "12315", "verified": i % 2 == 0, "status": "closed"})
    # the target: clean but for one old heavy penalty (decided ~14 months ago, so repairable after 12 months)
    inspections.append({"enterprise_id": target.pk, "inspection_no": "JC-LOOP-TARGET-1", "inspected_on": ago(120),
                        "kind": "routine", "result": "pass", "key_items_failed": 0, "general_items_failed": 0,
                        "rectification_ordered": False})
    penalties.append({"enterprise_id": target.pk, "decision_no": "杭上市监罚〔2024〕88号", "decided_on": ago(430),
                      "violation_type": "经营超过保质期的食品", "severity": "heavy", "fine": 120000,
                      "confiscation": 3000, "licence_revoked": False})
    for kind, batch in (("inspections", inspections), ("sampling_tests", samplings), ("penalties", penalties),
                        ("complaints", complaints)):
        records.upsert_records(kind, batch, source="loop-demo")
    target.refresh_from_db()
    return target


def old_penalty(target):
    return Penalty.objects.get(enterprise=target, decision_no="杭上市监罚〔2024〕88号")


def grade_the_city(cast):
    """food_2016 proposed by one person and approved/activated by another, then one full run."""
    activate_profile(cast.author, cast.approver)
    return scoring.run_scoring("full", today(), cast.author)


# ---------------------------------------------------------------------------------------------------------
# what the profile and the audit log show
# ---------------------------------------------------------------------------------------------------------
def timeline_urls(enterprise, user):
    entries, _total, _counts = timeline(enterprise, user, limit=None)
    return {e.url: e for e in entries}


def audit_mark():
    return AuditEntry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def actions_since(mark):
    return list(AuditEntry.objects.filter(seq__gt=mark).order_by("seq").values_list("action", "object_type",
                                                                                      "object_id", "username"))


def action_names(mark):
    return {a for a, *_rest in actions_since(mark)}


def better(a, b):
    """Grade a is a lower risk than grade b."""
    return GRADE_ORDER[a] < GRADE_ORDER[b]
