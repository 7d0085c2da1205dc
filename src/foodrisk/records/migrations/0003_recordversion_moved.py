"""RecordVersion now belongs to enterprises (its migration 0005 takes over the table): drop it from records' state
only."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("enterprises", "0005_recordversion"),
        ("records", "0002_recordversion"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="RecordVersion")],
                                            database_operations=[]),
    ]
