"""Each rule kind fires on its event and on no other; de-duplication; parameter validation; seeds."""

import datetime as dt

import pytest
from alerts_testkit import (
    AlertsTestCase,
    ago,
    complaint,
    inspection,
    listing,
    make_rule,
    penalty,
    repair,
    sampling,
    today,
)
from django.core.exceptions import ValidationError

from foodrisk.alerts import services
from foodrisk.alerts.models import Alert, AlertOccurrence, WarningRule
from foodrisk.alerts.params import validate_params
from foodrisk.alerts.seeds import DEFAULT_RULES, seed_default_rules
from foodrisk.core import outbox
from foodrisk.core.models import MessageTemplate, Schedule
from foodrisk.enterprises.testing import make_licence
from foodrisk.scoring.events import GRADE_CHANGED


class RuleKindMatrix(AlertsTestCase):
    """One enabled rule of every kind; each event must raise exactly the expected kind."""

    def setUp(self):
        super().setUp()
        make_rule("grade_drop", min_steps=1)
        make_rule("indicator_jump", record_kind="complaints", period_days=90, factor=3, min_count=3)
        make_rule("complaint_cluster", count=3, days=30, verified_only=True)
        make_rule("new_penalty", lookback_days=30)
        make_rule("failed_inspection", results=["fail"], lookback_days=30)
        make_rule("failed_sampling", lookback_days=30)
        make_rule("licence_expiring", days=30)
        make_rule("licence_expired", grace_days=0)
        make_rule("repair_rejected", lookback_days=30)
        make_rule("repair_lapsed", pending_days=30)
        make_rule("listed", lists=["abnormal", "serious"], lookback_days=30)

    def kinds_raised(self):
        return set(Alert.objects.values_list("rule__kind", flat=True))

    def check(self, expected, event):
        with self.commit():
            event()
        self.assertEqual(self.kinds_raised(), expected)
        alerts = list(Alert.objects.all())
        for alert in alerts:
            self.assertEqual(alert.region_id, self.ent.region_id)
            self.assertEqual(alert.organisation, self.org_a)  # most specific organisation of the region
            self.assertTrue(alert.evidence)
            self.assertEqual(alert.deadline, today() + dt.timedelta(days=10))

    def test_new_penalty(self):
        self.check({"new_penalty"}, lambda: penalty(self.ent))
        self.assertEqual(Alert.objects.get().evidence["records"][0]["model"], "penalty")

    def test_old_penalty_loaded_late_raises_nothing(self):
        self.check(set(), lambda: penalty(self.ent, on=ago(400)))

    def test_failed_inspection(self):
        self.check({"failed_inspection"}, lambda: inspection(self.ent, "fail"))

    def test_passed_inspection_raises_nothing(self):
        self.check(set(), lambda: inspection(self.ent, "pass"))

    def test_failed_sampling(self):
        self.check({"failed_sampling"}, lambda: sampling(self.ent, "fail"))

    def test_passed_sampling_raises_nothing(self):
        self.check(set(), lambda: sampling(self.ent, "pass"))

    def test_repair_rejected(self):
        self.check({"repair_rejected"}, lambda: repair(self.ent, "rejected"))

    def test_repair_approved_raises_nothing(self):
        self.check(set(), lambda: repair(self.ent, "approved"))

    def test_listed(self):
        self.check({"listed"}, lambda: listing(self.ent, "serious"))

    def test_complaint_cluster(self):
        def event():
            for days in (100, 120):  # the previous period has 2, so 3 now is no 3× jump
                complaint(self.ent, on=ago(days))
            for days in (1, 5, 9):
                complaint(self.ent, on=ago(days), verified=True)
        self.check({"complaint_cluster"}, event)
        values = Alert.objects.get().evidence["values"]
        self.assertEqual(values["count"], 3)

    def test_indicator_jump(self):
        def event():
            complaint(self.ent, on=ago(120), verified=False)
            for days in (1, 5, 9):
                complaint(self.ent, on=ago(days), verified=False)  # unverified: no cluster
        self.check({"indicator_jump"}, event)
        values = Alert.objects.get().evidence["values"]
        self.assertEqual((values["current"], values["previous"]), (3, 1))

    def test_grade_drop_on_grade_changed(self):
        self.check({"grade_drop"}, lambda: outbox.emit(
            GRADE_CHANGED,
            changes=[{"enterprise_id": self.ent.pk, "old_grade": "B", "new_grade": "C", "score": 61.5}]))
        self.assertEqual(Alert.objects.get().evidence["grades"], {"old": "B", "new": "C", "score": 61.5})

    def test_grade_improvement_raises_nothing(self):
        self.check(set(), lambda: outbox.emit(
            GRADE_CHANGED,
            changes=[{"enterprise_id": self.ent.pk, "old_grade": "C", "new_grade": "B", "score": 20.0}]))

    def test_licence_expiring_on_scan(self):
        make_licence(self.ent, expires_on=today() + dt.timedelta(days=12))
        self.check({"licence_expiring"}, services.scan)

    def test_licence_expired_on_scan(self):
        make_licence(self.ent, expires_on=ago(5))
        self.check({"licence_expired"}, services.scan)

    def test_renewed_licence_raises_nothing(self):
        make_licence(self.ent, expires_on=ago(5))
        make_licence(self.ent, expires_on=today() + dt.timedelta(days=1000))
        self.check(set(), services.scan)

    def test_repair_lapsed_on_scan(self):
        from foodrisk.records.testing import make_record

        make_record("credit_repairs", self.ent, applied_on=ago(45), decision="pending")
        self.check({"repair_lapsed"}, services.scan)

    def test_record_events_do_not_run_time_rules(self):
        make_licence(self.ent, expires_on=ago(5))
        self.check({"new_penalty"}, lambda: penalty(self.ent))

    def test_disabled_rule_does_not_fire(self):
        WarningRule.objects.filter(kind="new_penalty").update(enabled=False)
        self.check(set(), lambda: penalty(self.ent))


class Deduplication(AlertsTestCase):
    def test_second_event_adds_an_occurrence_to_the_open_alert(self):
        make_rule("new_penalty", lookback_days=30)
        with self.commit():
            first = penalty(self.ent)
        with self.commit():
            second = penalty(self.ent)
        alert = Alert.objects.get()
        self.assertEqual(alert.occurrences, 2)
        self.assertEqual(alert.evidence["records"][0]["id"], second.pk)  # the latest evidence
        self.assertEqual(alert.occurrence_set.count(), 2)
        with self.commit():  # re-saving the same record is the same evidence: no new occurrence
            first.fine = 30000
            from foodrisk.records.services import save_record

            save_record(first)
        alert.refresh_from_db()
        self.assertEqual(alert.occurrences, 2)
        self.assertEqual(list(alert.events.values_list("action", flat=True)), ["raise", "repeat"])

    def test_scan_twice_keeps_one_occurrence(self):
        make_rule("licence_expiring", days=30)
        make_licence(self.ent, expires_on=today() + dt.timedelta(days=3))
        services.scan()
        services.scan()
        self.assertEqual(Alert.objects.get().occurrences, 1)

    def test_closed_alert_is_not_reraised_for_the_same_evidence_but_new_evidence_opens_a_new_one(self):
        rule = make_rule("new_penalty", lookback_days=30)
        with self.commit():
            p = penalty(self.ent)
        Alert.objects.update(status="closed")
        services.evaluate_records({self.ent.pk})
        self.assertEqual(Alert.objects.count(), 1)
        with self.commit():
            penalty(self.ent)
        self.assertEqual(Alert.objects.filter(rule=rule).count(), 2)
        self.assertEqual(Alert.objects.filter(status="raised").count(), 1)
        self.assertTrue(AlertOccurrence.objects.filter(fingerprint=f"penalty:{p.pk}").exists())

    def test_one_open_alert_per_rule_is_enforced_by_the_database(self):
        from django.db import IntegrityError, transaction

        alert = self.raise_penalty_alert()
        with self.assertRaises(IntegrityError), transaction.atomic():
            Alert.objects.create(rule=alert.rule, enterprise=self.ent, region=self.region_a, level="red", summary="x")


class ParameterValidation(AlertsTestCase):
    def test_defaults_fill_missing_keys(self):
        self.assertEqual(validate_params("licence_expiring", {}), {"days": 30})

    def test_errors_name_the_parameter(self):
        cases = [
            ("licence_expiring", {"days": "thirty"}, "“days” must be a whole number"),
            ("licence_expiring", {"days": 0}, "“days” must be at least 1"),
            ("licence_expiring", {"dayz": 3}, "Unknown parameter(s) dayz"),
            ("grade_drop", {"to_grades": ["E"]}, "“to_grades” contains E; allowed: A, B, C, D"),
            ("indicator_jump", {"record_kind": "tweets"}, "“record_kind” must be one of"),
            ("complaint_cluster", {"verified_only": "yes"}, "“verified_only” must be true or false"),
        ]
        for kind, params, message in cases:
            with self.subTest(kind=kind, params=params), self.assertRaises(ValidationError) as ctx:
                validate_params(kind, params)
            self.assertIn(message, " ".join(ctx.exception.message_dict["params"]))

    def test_not_an_object(self):
        with self.assertRaises(ValidationError) as ctx:
            validate_params("listed", [1, 2])
        self.assertIn("JSON object", str(ctx.exception))

    def test_save_rule_validates(self):
        with self.assertRaises(ValidationError) as ctx:
            make_rule("new_penalty", severities=["catastrophic"])
        self.assertIn("params", ctx.exception.message_dict)
        self.assertFalse(WarningRule.objects.exists())

    def test_fixed_target_needs_an_organisation(self):
        rule = WarningRule(code="x", name="x", kind="listed", target="fixed")
        with self.assertRaises(ValidationError) as ctx:
            services.save_rule(rule)
        self.assertIn("target_organisation", ctx.exception.message_dict)


class Targets(AlertsTestCase):
    def test_fixed_and_county_targets(self):
        rule = WarningRule(code="fixed", name="fixed", kind="new_penalty", target="fixed",
                           target_organisation=self.city)
        services.save_rule(rule)
        with self.commit():
            penalty(self.ent)
        self.assertEqual(Alert.objects.get(rule=rule).organisation, self.city)
        self.assertEqual(services.target_organisation(WarningRule(target="county"), "330102"), self.org_a)
        self.assertEqual(services.target_organisation(WarningRule(target="local"), "330203"), None)


class Seeds(AlertsTestCase):
    def test_default_rules_are_valid_and_idempotent(self):
        WarningRule.objects.all().delete()
        self.assertEqual(seed_default_rules(), len(DEFAULT_RULES))
        self.assertEqual(seed_default_rules(), 0)
        for rule in WarningRule.objects.all():
            rule.full_clean()
        self.assertEqual(set(WarningRule.objects.values_list("kind", flat=True)),
                         {k for _c, _n, k, *_rest in DEFAULT_RULES})
        self.assertTrue(MessageTemplate.objects.filter(code="alert_raised").exists())
        self.assertTrue(Schedule.objects.filter(job_kind="alerts.scan").exists())

    def test_default_rules_raise_on_a_serious_listing(self):
        seed_default_rules()
        with self.commit():
            listing(self.ent, "serious")
        alert = Alert.objects.get()
        self.assertEqual((alert.rule.code, alert.level), ("listed", "red"))


class GradeDropFromScoring(AlertsTestCase):
    def test_approved_grade_adjustment_raises_a_grade_drop_alert(self):
        from foodrisk.core.testing import grant
        from foodrisk.scoring import services as scoring

        make_rule("grade_drop", to_grades=["C", "D"])
        self.ent.current_grade = "B"
        self.ent.save()
        proposer = grant(self.person("proposer", self.org_a), "scoring.add_gradeadjustment")
        approver = grant(self.person("approver", self.org_a), "scoring.approve_gradeadjustment")
        adj = scoring.propose_adjustment(self.ent, "D", "现场发现使用非食品原料", user=proposer)
        with self.commit():
            scoring.approve_adjustment(adj, user=approver)
        alert = Alert.objects.get()
        self.assertEqual(alert.evidence["grades"]["new"], "D")
        self.assertEqual(alert.evidence["adjustment"], adj.pk)
        self.assertIn("非食品原料", alert.evidence["reasons"][0])
        self.assertEqual(alert.grade_at_raise, "D")


@pytest.mark.django_db
def test_a_runs_large_grade_change_batch_goes_to_a_job(monkeypatch):
    from django.utils import timezone

    from foodrisk.alerts import handlers
    from foodrisk.core.testing import make_regions
    from foodrisk.enterprises.models import Enterprise
    from foodrisk.scoring.models import GradeChange, ScoringRun

    make_regions()
    ent = Enterprise.objects.create(uscc="913301020000000099", name="企业", region_id="330102",
                                    business_form="catering")
    run = ScoringRun.objects.create(kind="full", as_of=timezone.localdate())
    GradeChange.objects.create(enterprise=ent, run=run, old_grade="A", new_grade="D", score=70.0, at=timezone.now())
    started = []
    monkeypatch.setattr(handlers, "_defer", lambda **params: started.append(params))
    monkeypatch.setattr(handlers, "INLINE_LIMIT", 0)
    handlers.on_grade_changed(run_id=run.pk)  # the job reads the run's changes: only the run id travels
    assert started == [{"run_id": run.pk}]


@pytest.mark.django_db
def test_the_deferred_job_reads_a_runs_grade_changes(monkeypatch):
    from django.utils import timezone

    from foodrisk.alerts import tasks
    from foodrisk.core.testing import make_regions
    from foodrisk.enterprises.models import Enterprise
    from foodrisk.scoring.models import GradeChange, ScoringRun

    make_regions()
    ents = [Enterprise.objects.create(uscc=f"9133010200000000{i:02d}", name=f"企业{i}", region_id="330102",
                                      business_form="catering") for i in range(3)]
    run = ScoringRun.objects.create(kind="full", as_of=timezone.localdate())
    for ent, (old, new) in zip(ents, [("", "A"), ("A", "D"), ("B", "C")], strict=True):
        GradeChange.objects.create(enterprise=ent, run=run, old_grade=old, new_grade=new, score=50.0,
                                   at=timezone.now())
    seen = []
    monkeypatch.setattr(services, "evaluate_grade_changes", lambda changes, run=None: seen.append((changes, run)))

    class Job:
        def log(self, text):
            pass

    result = tasks.evaluate(Job(), run_id=run.pk)
    assert result["grade_changes"] == 3 and seen[0][1] == run
    assert [(c["enterprise_id"], c["old_grade"], c["new_grade"]) for c in seen[0][0]] == [
        (ents[0].pk, "", "A"), (ents[1].pk, "A", "D"), (ents[2].pk, "B", "C")]


@pytest.mark.django_db
def test_grade_drop_uses_the_reasons_read_with_the_changes(django_assert_num_queries):
    from types import SimpleNamespace

    from foodrisk.alerts import rules

    rule = SimpleNamespace(params={"to_grades": [], "min_steps": 1, "include_first_grading": False})
    changes = [{"enterprise_id": 1, "old_grade": "A", "new_grade": "C", "score": 50.0, "reasons": ["r1", "r2"]}]
    with django_assert_num_queries(0):  # the deferred job loaded them: no second read of the run's rows
        hits = rules.grade_drop(rule, changes, run=SimpleNamespace(pk=7))
    assert [h.evidence["reasons"] for h in hits] == [["r1", "r2"]]


@pytest.mark.django_db
def test_a_first_grading_is_not_a_drop():
    """The shipped 'into C/D' rules do not fire on an enterprise's first grading (a bureau's first run made one
    warning per C/D enterprise); a rule that opts in says 首次评级, never "由 未评级 降为"."""
    from types import SimpleNamespace

    from foodrisk.alerts import rules
    from foodrisk.alerts.models import WarningRule

    changes = [{"enterprise_id": 1, "old_grade": "", "new_grade": "D", "score": 80.0, "reasons": []},
               {"enterprise_id": 2, "old_grade": "A", "new_grade": "D", "score": 81.0, "reasons": []}]
    for code in ("grade-into-d", "grade-into-c", "grade-drop-2", "grade-drop"):
        shipped = WarningRule.objects.get(code=code)
        assert shipped.params["include_first_grading"] is False, code
        hits = rules.grade_drop(shipped, changes, run=SimpleNamespace(pk=7))
        assert all(h.enterprise_id == 2 for h in hits), code
    into_d = rules.grade_drop(WarningRule.objects.get(code="grade-into-d"), changes, run=SimpleNamespace(pk=7))
    assert [h.summary for h in into_d] == ["风险等级由 A 降为 D（得分 81.0）"]
    opted_in = SimpleNamespace(params={"to_grades": ["D"], "min_steps": 1, "include_first_grading": True})
    assert [h.summary for h in rules.grade_drop(opted_in, changes, run=SimpleNamespace(pk=7))] == [
        "首次评级即为 D（得分 80.0）", "风险等级由 A 降为 D（得分 81.0）"]
