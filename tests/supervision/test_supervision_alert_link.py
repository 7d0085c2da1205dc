"""The optional link to the alerts app: a supervision task from a dispatched alert."""

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone
from supervision_testkit import MANAGER_PERMS, enterprise, inspectors, org, person

from foodrisk.supervision.models import Task

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(not apps.is_installed("foodrisk.alerts"), reason="alerts app not installed")]


def dispatched_alert(e, organisation, assignee, status="dispatched"):
    from foodrisk.alerts.models import Alert, WarningRule

    if not WarningRule.objects.exists():  # a transactional test's flush on this worker removed the seeded rules
        from foodrisk.alerts.seeds import seed_default_rules

        seed_default_rules()
    rule = WarningRule.objects.first()
    return Alert.objects.create(rule=rule, enterprise=e, region_id=e.region_id, level="red", summary="抽检不合格",
                                status=status, assigned_organisation=organisation, assignee=assignee,
                                deadline=timezone.localdate() + timezone.timedelta(days=7))


def test_task_from_dispatched_alert(client):
    people = inspectors(1)
    manager = person("manager", "330102", *MANAGER_PERMS, "alerts.view_alert")
    e = enterprise(1)
    alert = dispatched_alert(e, org("330102"), people[0])
    client.force_login(manager)
    response = client.post(reverse("supervision:alert_task", args=[alert.pk]), {"kind": "interview"})
    assert response.status_code == 302
    task = Task.objects.get(source="alert", source_ref=str(alert.pk))
    assert task.kind == "interview" and task.assignee == people[0] and task.due_on == alert.deadline
    # once only
    client.post(reverse("supervision:alert_task", args=[alert.pk]), {"kind": "interview"})
    assert Task.objects.filter(source="alert").count() == 1
    r = client.post("/api/supervision/tasks/from-alert/", {"alert": alert.pk, "kind": "inspection"},
                    content_type="application/json")
    assert r.status_code == 201 and r.json()["kind"] == "inspection"


def test_raised_or_foreign_alert_gives_no_task(client):
    manager = person("manager", "330102", *MANAGER_PERMS, "alerts.view_alert")
    raised = dispatched_alert(enterprise(1), org("330102"), None, status="raised")
    foreign = dispatched_alert(enterprise(2, region_code="330106"), org("330106"), None)
    client.force_login(manager)
    client.post(reverse("supervision:alert_task", args=[raised.pk]))
    assert client.post(reverse("supervision:alert_task", args=[foreign.pk])).status_code == 404
    assert not Task.objects.exists()


def test_one_open_follow_up_per_alert_holds_in_the_database():
    """Two follow-ups of one warning at once (a double click, a retried reaction): the constraint lets one
    through and the service answers the other with the winner's task."""
    from django.db import IntegrityError, transaction

    from foodrisk.supervision.services.tasks import create_task_from_alert

    people = inspectors(1)
    manager = person("manager", "330102", *MANAGER_PERMS, "alerts.view_alert")
    e = enterprise(2)
    alert = dispatched_alert(e, org("330102"), people[0])
    first = create_task_from_alert(alert, user=manager)
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(kind=first.kind, enterprise=e, organisation=first.organisation, due_on=first.due_on,
                            source="alert", source_ref=str(alert.pk), title="重复")
    assert create_task_from_alert(alert, user=manager).pk == first.pk
    Task.objects.filter(pk=first.pk).update(status="cancelled")  # a cancelled follow-up does not count
    assert create_task_from_alert(alert, user=manager).pk != first.pk
