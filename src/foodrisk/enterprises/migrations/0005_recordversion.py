"""RecordVersion moves from records to enterprises (below records, so enterprises no longer imports records). Its
table stays `records_recordversion`: only Django's state moves, and the content type with its permission (so the
roles' grants follow)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import foodrisk.enterprises.models


def move_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="enterprises", model="recordversion").exists():
        ContentType.objects.filter(app_label="records", model="recordversion").update(app_label="enterprises")


def move_content_type_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="enterprises", model="recordversion").update(app_label="records")


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("enterprises", "0004_crosswalkentry"),
        ("records", "0002_recordversion"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name="RecordVersion",
                fields=[
                    ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                    ("kind", models.CharField(max_length=20, verbose_name="kind")),
                    ("natural_key", models.CharField(max_length=100, verbose_name="natural key")),
                    ("changes", models.JSONField(encoder=foodrisk.enterprises.models.UnicodeJSONEncoder,
                                                 verbose_name="changes")),
                    ("source", models.CharField(blank=True, max_length=64, verbose_name="source system")),
                    ("source_batch", models.BigIntegerField(blank=True, null=True, verbose_name="import batch")),
                    ("source_row", models.PositiveIntegerField(blank=True, null=True, verbose_name="source row")),
                    ("changed_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="changed at")),
                    ("changed_by", models.ForeignKey(blank=True, null=True,
                                                     on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                                                     to=settings.AUTH_USER_MODEL, verbose_name="changed by")),
                    ("enterprise", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                     related_name="record_versions", to="enterprises.enterprise",
                                                     verbose_name="enterprise")),
                ],
                options={
                    "verbose_name": "record version",
                    "verbose_name_plural": "record versions",
                    "db_table": "records_recordversion",
                    "ordering": ["-changed_at", "-pk"],
                    "default_permissions": ("view",),
                    "indexes": [models.Index(fields=["kind", "natural_key", "-changed_at"],
                                             name="records_version_key_idx")],
                },
            ),
        ], database_operations=[]),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
