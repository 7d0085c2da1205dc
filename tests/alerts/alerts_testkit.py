"""Shared set-up of the alerts tests: a city bureau above two district bureaus, people with roles,
enterprises, and helpers that write records through the records services (so records_changed fires)."""

import datetime as dt

from django.conf import settings
from django.utils import timezone, translation

from foodrisk.alerts import services
from foodrisk.alerts.models import Alert, WarningRule
from foodrisk.core.models import Organisation, User
from foodrisk.core.sms import LoggingSMSBackend
from foodrisk.core.testing import PASSWORD, ScopedTestCase, grant
from foodrisk.enterprises.testing import make_enterprise
from foodrisk.records import services as record_services
from foodrisk.records.models import Complaint, CreditRepair, Inspection, ListEntry, Penalty, SamplingTest

SUPERVISOR_PERMS = ("alerts.view_alert", "alerts.review_alert", "alerts.dispatch_alert", "alerts.close_alert",
                    "enterprises.view_enterprise")
HANDLER_PERMS = ("alerts.view_alert", "alerts.handle_alert")
RULE_PERMS = ("alerts.view_warningrule", "alerts.add_warningrule", "alerts.change_warningrule",
              "alerts.delete_warningrule")


def today():
    return timezone.localdate()


def ago(days):
    return today() - dt.timedelta(days=days)


def make_rule(kind, code=None, level="orange", **params):
    rule = WarningRule(code=code or kind.replace("_", "-"), name=code or kind, kind=kind, params=params, level=level,
                       deadline_days=10)
    return services.save_rule(rule)


_n = [0]


def _no(prefix):
    _n[0] += 1
    return f"{prefix}-{_n[0]:05d}"


def save(record):
    return record_services.save_record(record)


def penalty(ent, on=None, severity="heavy", fine=20000):
    return save(Penalty(enterprise=ent, decision_no=_no("罚"), decided_on=on or ago(1), violation_type="超过保质期",
                        severity=severity, fine=fine))


def inspection(ent, result="fail", on=None):
    return save(Inspection(enterprise=ent, inspection_no=_no("JC"), inspected_on=on or ago(1), kind="routine",
                           result=result, key_items_failed=1 if result == "fail" else 0))


def sampling(ent, result="fail"):
    return save(SamplingTest(enterprise=ent, report_no=_no("CJ"), sampled_on=ago(2), level="county", product="酱油",
                             result=result))


def complaint(ent, on=None, verified=True):
    return save(Complaint(enterprise=ent, complaint_no=_no("TS"), received_on=on or ago(1), channel="12315",
                          verified=verified))


def repair(ent, decision="rejected", applied=None, decided=None):
    applied = applied or ago(10)
    return save(CreditRepair(enterprise=ent, repair_no=_no("XF"), target_kind="penalties", target_no="罚-1",
                             applied_on=applied, decision=decision,
                             decided_on=decided if decided is not None else (ago(1) if decision != "pending" else None)))


def listing(ent, kind="abnormal"):
    on = ago(3)
    return save(ListEntry(enterprise=ent, entry_key=ListEntry.make_key(ent.uscc, kind, on), list_kind=kind,
                          listed_on=on, reason="通过登记的住所无法联系"))


class AlertsTestCase(ScopedTestCase):
    """ScopedTestCase + a city bureau (parent of both district bureaus), a supervisor and a handler in
    district A, a leader at the city bureau with a phone, and no seeded rules (each test makes its own)."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        WarningRule.objects.all().delete()
        cls.city = Organisation.objects.create(code="T-C", name="杭州市局", region=cls.regions["330100"])
        Organisation.objects.filter(pk__in=[cls.org_a.pk, cls.org_b.pk]).update(parent=cls.city)
        cls.org_a.refresh_from_db()
        cls.org_b.refresh_from_db()
        cls.supervisor = cls.person("supervisor", cls.org_a, *SUPERVISOR_PERMS)
        cls.handler = cls.person("handler", cls.org_a, *HANDLER_PERMS, phone="13800000001")
        cls.leader = cls.person("leader", cls.city, "alerts.view_alert", phone="13900000002",
                                email="leader@example.org")
        cls.other = cls.person("other", cls.org_b, *SUPERVISOR_PERMS, "alerts.handle_alert")
        cls.ent = make_enterprise(cls.region_a, name="上城区放心餐饮店")
        cls.ent_b = make_enterprise(cls.region_b, name="西湖区样本食品店")

    @classmethod
    def person(cls, username, org, *perms, **fields):
        user = User.objects.create_user(username, password=PASSWORD, organisation=org, **fields)
        return grant(user, *perms) if perms else user

    def setUp(self):
        super().setUp()
        LoggingSMSBackend.sent.clear()
        # assertions read the English msgids; the UI default (zh-hans) is covered by AlertPagesInChinese
        self.enterContext(translation.override("en"))
        self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    def commit(self):
        """Run on_commit callbacks (signals, notifications) of the writes in the block."""
        return self.captureOnCommitCallbacks(execute=True)

    def raise_penalty_alert(self, ent=None):
        ent = ent or self.ent
        if not WarningRule.objects.filter(code="new-penalty").exists():
            make_rule("new_penalty", lookback_days=30)
        with self.commit():
            penalty(ent)
        return Alert.objects.get(enterprise=ent, rule__code="new-penalty", status__in=["raised", "confirmed",
                                                                                        "dispatched", "in_hand"])
