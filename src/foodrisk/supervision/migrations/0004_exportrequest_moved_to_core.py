"""Ledger export requests move to core.ExportRequest (the one export path of every list and ledger).

Rows are copied with their ids; a ledger becomes the URL name of its list. Whoever held the supervision
export permissions (roles, users) holds the core ones: add → core.export_data, approve → core.approve_exportrequest,
view → core.view_exportrequest.
"""

from django.db import migrations

LEDGER_SOURCES = {"tasks": "supervision:task_list", "rectifications": "supervision:rectification_list",
                  "repairs": "supervision:repaircase_list", "alerts": "alerts:alert_list"}
LEDGER_TITLES = {"tasks": "监管任务台账", "rectifications": "整改台账", "repairs": "信用修复台账", "alerts": "风险预警台账"}
PERMISSIONS = {"add_exportrequest": "export_data", "approve_exportrequest": "approve_exportrequest",
               "view_exportrequest": "view_exportrequest"}


def copy_requests(apps, schema_editor):
    Old = apps.get_model("supervision", "ExportRequest")
    New = apps.get_model("core", "ExportRequest")
    New.objects.bulk_create([New(
        pk=r.pk, source=LEDGER_SOURCES.get(r.ledger, r.ledger), title=LEDGER_TITLES.get(r.ledger, r.ledger),
        format="xlsx", filters=r.filters, include_sensitive=r.include_sensitive, reason=r.reason, status=r.status,
        requested_by_id=r.requested_by_id, requested_at=r.requested_at, region_id=r.region_id,
        approved_by_id=r.approved_by_id, decided_at=r.decided_at, decision_note=r.decision_note, job_id=r.job_id,
    ) for r in Old.objects.all()], batch_size=1000)
    # requested_at is auto_now_add: bulk_create set it to now; put the original times back
    for r in Old.objects.all().only("pk", "requested_at"):
        New.objects.filter(pk=r.pk).update(requested_at=r.requested_at)
    if New.objects.exists():
        from django.core.management.color import no_style

        sql = schema_editor.connection.ops.sequence_reset_sql(no_style(), [New])
        with schema_editor.connection.cursor() as cursor:
            for statement in sql:
                cursor.execute(statement)
    _move_permissions(apps)


def _move_permissions(apps):
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    User = apps.get_model("core", "User")
    old_ct = ContentType.objects.filter(app_label="supervision", model="exportrequest").first()
    if old_ct is None:
        return
    new_ct, _ = ContentType.objects.get_or_create(app_label="core", model="exportrequest")
    names = {"export_data": "Can export lists and ledgers",
             "approve_exportrequest": "Can approve exports with sensitive fields",
             "view_exportrequest": "Can view export request"}
    for old_code, new_code in PERMISSIONS.items():
        old = Permission.objects.filter(content_type=old_ct, codename=old_code).first()
        if old is None:
            continue
        new, _ = Permission.objects.get_or_create(content_type=new_ct, codename=new_code,
                                                  defaults={"name": names[new_code]})
        for group in Group.objects.filter(permissions=old):
            group.permissions.add(new)
        for user in User.objects.filter(user_permissions=old):
            user.user_permissions.add(new)


class Migration(migrations.Migration):
    dependencies = [
        ("supervision", "0003_measures_permission"),
        ("core", "0002_exportrequest"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(copy_requests, migrations.RunPython.noop),
        migrations.DeleteModel(name="ExportRequest"),
    ]
