"""Warnings never miss a change: what no reaction evaluated (suppressed during a bulk load, or a reaction that
gave up) is evaluated by the catch-up from the watermark; evaluating again raises nothing twice."""

import datetime as dt

from alerts_testkit import AlertsTestCase, make_rule, penalty

from foodrisk.alerts import handlers, services
from foodrisk.alerts.models import Alert
from foodrisk.core import outbox
from foodrisk.core.models import Parameter
from foodrisk.core.services import jobs
from foodrisk.scoring.models import GradeChange


class CatchUp(AlertsTestCase):
    def setUp(self):
        super().setUp()
        make_rule("new_penalty", lookback_days=30)
        make_rule("grade_drop", min_steps=1)

    def test_the_first_catch_up_only_sets_the_watermark(self):
        with handlers.paused(), self.commit():
            penalty(self.ent)
        self.assertEqual(services.catch_up(), {"enterprises": 0, "grade_changes": 0, "alerts": 0})
        self.assertTrue(Parameter.objects.get(key=services.CATCH_UP_KEY).value)

    def test_changes_no_reaction_evaluated_raise_their_alerts(self):
        services.catch_up(now=self._now() - dt.timedelta(hours=1))  # the watermark, an hour ago
        with handlers.paused(), self.commit():  # a bulk load: no reaction queued
            penalty(self.ent)
            GradeChange.objects.create(enterprise=self.ent_b, old_grade="A", new_grade="C", score=55.0, at=self._now())
        self.assertFalse(Alert.objects.exists())
        self.assertFalse(outbox.pending("records_changed").exists())
        result = services.catch_up()
        self.assertEqual((result["enterprises"], result["grade_changes"]), (1, 1))
        self.assertEqual(set(Alert.objects.values_list("enterprise_id", "rule__kind")),
                         {(self.ent.pk, "new_penalty"), (self.ent_b.pk, "grade_drop")})
        # the next window overlaps (slow commits): evaluating the same changes again raises nothing new
        again = services.catch_up()
        self.assertEqual(Alert.objects.count(), 2)
        self.assertEqual(sum(a.occurrences for a in Alert.objects.all()), 2)
        self.assertEqual(again["alerts"], 0)

    def test_the_catch_up_is_an_hourly_job_safe_to_repeat(self):
        from foodrisk.alerts.seeds import seed_default_rules
        from foodrisk.core.models import Schedule

        seed_default_rules()
        self.assertTrue(Schedule.objects.filter(job_kind="alerts.catch_up", frequency="hourly").exists())
        self.assertTrue(jobs.jobs.get("alerts.catch_up").retry)

    @staticmethod
    def _now():
        from django.utils import timezone

        return timezone.now()
