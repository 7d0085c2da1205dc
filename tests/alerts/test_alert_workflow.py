"""The workflow through the services: transitions, permissions, audit, notifications, escalation, scope."""

import datetime as dt

from alerts_testkit import AlertsTestCase, today
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from foodrisk.alerts import services
from foodrisk.alerts.events import ALERT_TRANSITIONED
from foodrisk.alerts.models import Alert
from foodrisk.alerts.services import InvalidTransition
from foodrisk.core.models import AuditEntry, Notification
from foodrisk.core.sms import LoggingSMSBackend
from foodrisk.core.testing import capture_events


class Workflow(AlertsTestCase):
    def test_full_workflow(self):
        captured = self.enterContext(capture_events(ALERT_TRANSITIONED))
        alert = self.raise_penalty_alert()
        self.assertEqual(alert.status, "raised")
        # the reviewers of the responsible organisation are told
        self.assertTrue(Notification.objects.filter(recipient=self.supervisor, link=alert.get_absolute_url()).exists())

        with self.commit():
            services.review(alert, user=self.supervisor, confirm=True, note="属实")
        deadline = today() + dt.timedelta(days=5)
        with self.commit():
            services.dispatch(alert, user=self.supervisor, organisation=self.org_a, assignee=self.handler,
                              deadline=deadline, instructions="请三日内现场核查")
        alert.refresh_from_db()
        self.assertEqual((alert.status, alert.assignee, alert.deadline), ("dispatched", self.handler, deadline))
        note = Notification.objects.get(recipient=self.handler)
        self.assertIn("上城区放心餐饮店", note.title)  # core template alert_dispatched
        self.assertIn(("13800000001", f"{note.title} {note.body}"[:300]), LoggingSMSBackend.sent)

        photo = SimpleUploadedFile("现场.jpg", b"\xff\xd8photo", content_type="image/jpeg")
        with self.commit():
            services.handle(alert, user=self.handler, feedback="已责令下架过期食品", files=[photo])
        self.assertEqual(services.attachments(alert).count(), 1)
        with self.commit():
            services.close(alert, user=self.supervisor, outcome="rectified", note="整改到位")
        alert.refresh_from_db()
        self.assertEqual((alert.status, alert.outcome), ("closed", "rectified"))
        self.assertIn("已责令下架过期食品", alert.feedback)
        self.assertEqual(list(alert.events.values_list("action", flat=True)),
                         ["raise", "confirm", "dispatch", "handle", "close"])
        self.assertEqual([payload["action"] for _event, payload in captured], ["confirm", "dispatch", "handle", "close"])
        actions = self.audit_actions()
        for a in ("alerts.alert.raise", "alerts.alert.confirm", "alerts.alert.dispatch", "alerts.alert.handle",
                  "alerts.alert.close", "records.attachment.create"):
            self.assertIn(a, actions)
        self.assertTrue(Notification.objects.filter(recipient=self.handler, title__contains="办结").exists())

    def test_invalid_transitions_are_refused_clearly(self):
        alert = self.raise_penalty_alert()
        with self.assertRaises(InvalidTransition) as ctx:
            services.dispatch(alert, user=self.supervisor, organisation=self.org_a)
        self.assertIn("Raised, awaiting review", str(ctx.exception))
        self.assertIn("Confirmed, awaiting dispatch", str(ctx.exception))
        with self.assertRaises(InvalidTransition):
            services.close(alert, user=self.supervisor, outcome="resolved")
        services.review(alert, user=self.supervisor, confirm=True)
        with self.assertRaises(InvalidTransition):
            services.review(alert, user=self.supervisor, confirm=True)
        alert.refresh_from_db()
        self.assertEqual(alert.status, "confirmed")

    def test_dismissal_needs_a_reason(self):
        alert = self.raise_penalty_alert()
        with self.assertRaises(ValidationError) as ctx:
            services.review(alert, user=self.supervisor, confirm=False, note="  ")
        self.assertIn("note", ctx.exception.message_dict)
        services.review(alert, user=self.supervisor, confirm=False, note="处罚已撤销，误报")
        alert.refresh_from_db()
        self.assertEqual((alert.status, alert.review_note), ("dismissed", "处罚已撤销，误报"))
        self.assertIn("alerts.alert.dismiss", self.audit_actions())

    def test_permissions_per_action(self):
        alert = self.raise_penalty_alert()
        with self.assertRaises(PermissionDenied):
            services.review(alert, user=self.handler, confirm=True)
        services.review(alert, user=self.supervisor, confirm=True)
        services.dispatch(alert, user=self.supervisor, assignee=self.handler)
        alert.refresh_from_db()
        self.assertEqual(alert.assigned_organisation, self.org_a)  # the person's organisation
        with self.assertRaises(PermissionDenied):
            services.handle(alert, user=self.supervisor.__class__.objects.get(pk=self.leader.pk), feedback="x")
        with self.assertRaises(ValidationError):
            services.handle(alert, user=self.handler, feedback="")
        services.handle(alert, user=self.handler, feedback="done")
        with self.assertRaises(PermissionDenied):
            services.close(alert, user=self.handler, outcome="resolved")
        with self.assertRaises(ValidationError):
            services.close(alert, user=self.supervisor, outcome="whatever")

    def test_dispatch_outside_the_enterprise_region_is_refused(self):
        alert = self.raise_penalty_alert()
        services.review(alert, user=self.supervisor, confirm=True)
        with self.assertRaises(ValidationError) as ctx:
            services.dispatch(alert, user=self.supervisor, organisation=self.org_b)
        self.assertIn("organisation", ctx.exception.message_dict)
        with self.assertRaises(ValidationError) as ctx:
            services.dispatch(alert, user=self.supervisor, assignee=self.other)  # a 西湖区 person
        self.assertIn("assignee", ctx.exception.message_dict)
        with self.assertRaises(ValidationError) as ctx:
            services.dispatch(alert, user=self.supervisor)
        with self.assertRaises(ValidationError) as ctx:
            services.dispatch(alert, user=self.supervisor, organisation=self.org_a, deadline=today() - dt.timedelta(1))
        self.assertIn("deadline", ctx.exception.message_dict)
        services.dispatch(alert, user=self.supervisor, organisation=self.city)  # the city bureau covers it
        alert.refresh_from_db()
        self.assertEqual(alert.status, "dispatched")

    def test_other_region_cannot_act(self):
        alert = self.raise_penalty_alert()
        with self.assertRaises(PermissionDenied):
            services.review(alert, user=self.other, confirm=True)
        self.assertFalse(Alert.objects.restrict(self.other, "view").filter(pk=alert.pk).exists())
        self.assertTrue(Alert.objects.restrict(self.supervisor, "view").filter(pk=alert.pk).exists())


class Escalation(AlertsTestCase):
    def test_overdue_alert_is_escalated_to_the_parent_organisation(self):
        alert = self.raise_penalty_alert()
        services.review(alert, user=self.supervisor, confirm=True)
        with self.commit():
            services.dispatch(alert, user=self.supervisor, organisation=self.org_a, assignee=self.handler,
                              deadline=today() + dt.timedelta(days=2))
        LoggingSMSBackend.sent.clear()
        Notification.objects.all().delete()
        later = today() + dt.timedelta(days=3)
        with self.commit():
            escalated = services.escalate_overdue(later)
        self.assertEqual([a.pk for a in escalated], [alert.pk])
        alert.refresh_from_db()
        self.assertTrue(alert.overdue)
        self.assertEqual(alert.escalations, 1)
        event = alert.events.get(action="escalate")
        self.assertEqual(event.data["notified_organisation"], self.city.pk)
        leader_note = Notification.objects.get(recipient=self.leader)
        self.assertIn("督办", leader_note.title)  # core template alert_overdue
        self.assertTrue(Notification.objects.filter(recipient=self.handler, title__contains="督办").exists())
        phones = [phone for phone, _text in LoggingSMSBackend.sent]
        self.assertIn("13900000002", phones)
        self.assertIn("alerts.alert.escalate", AuditEntry.objects.values_list("action", flat=True))
        # once per deadline
        with self.commit():
            self.assertEqual(services.escalate_overdue(later), [])
        self.assertEqual(Notification.objects.filter(recipient=self.leader).count(), 1)

    def test_scan_escalates_and_a_new_deadline_clears_the_flag(self):
        alert = self.raise_penalty_alert()
        Alert.objects.filter(pk=alert.pk).update(deadline=today() - dt.timedelta(days=1))
        result = services.scan()
        self.assertEqual(result["escalated"], 1)
        alert.refresh_from_db()
        self.assertTrue(alert.overdue)
        services.review(alert, user=self.supervisor, confirm=True)
        services.dispatch(alert, user=self.supervisor, organisation=self.org_a, deadline=today() + dt.timedelta(5))
        alert.refresh_from_db()
        self.assertFalse(alert.overdue)

    def test_not_overdue_not_escalated(self):
        self.raise_penalty_alert()
        self.assertEqual(services.escalate_overdue(today()), [])


class Queues(AlertsTestCase):
    def test_my_and_organisation_queues(self):
        alert = self.raise_penalty_alert()
        self.assertIn(alert, services.queue(self.supervisor, "mine"))  # waits for review
        self.assertNotIn(alert, services.queue(self.handler, "mine"))
        services.review(alert, user=self.supervisor, confirm=True)
        services.dispatch(alert, user=self.supervisor, assignee=self.handler)
        self.assertIn(alert, services.queue(self.handler, "mine"))
        self.assertNotIn(alert, services.queue(self.supervisor, "mine"))
        self.assertIn(alert, services.queue(self.supervisor, "organisation"))
        self.assertNotIn(alert, services.queue(self.other, "all"))
