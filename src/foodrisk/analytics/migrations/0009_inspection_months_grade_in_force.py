"""The monthly inspection counts are kept per grade in force on the inspections' days (services.grade_in_force),
no longer under the enterprises' grade now: the rows written before carry the wrong grade, so they go, with the
mark that the table is built (Precomputed "inspection_months"). Until `foodrisk analytics_backfill` or the next
published grade builds it again, the supervision page counts from the inspection records (the same figures)."""

from django.db import migrations, models

INSPECTION_MONTHS = "inspection_months"  # services.INSPECTION_MONTHS at the time of this migration


def forwards(apps, schema_editor):
    apps.get_model("analytics", "Precomputed").objects.filter(name=INSPECTION_MONTHS).delete()
    apps.get_model("analytics", "InspectionMonth").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("analytics", "0008_old_snapshot_rows_count_everyone"),
        ("core", "0008_column_choices"),
        ("enterprises", "0005_recordversion"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="inspectionmonth",
            name="analytics_inspectionmonth_unique",
        ),
        migrations.AlterField(
            model_name="inspectionmonth",
            name="grade",
            field=models.CharField(blank=True, max_length=1, verbose_name="grade when inspected"),
        ),
        migrations.AddConstraint(
            model_name="inspectionmonth",
            constraint=models.UniqueConstraint(fields=("enterprise", "month", "grade"),
                                               name="analytics_inspectionmonth_unique"),
        ),
    ]
