"""The snapshot rows written before food categories counted every enterprise: they become the "all categories"
rows (services.ALL_CATEGORIES), so the dashboard keeps its figures until the next refresh or backfill (the
per-enterprise months and the inspection counts appear with `foodrisk analytics_backfill` or the next
published run; until then the pages compute those figures directly)."""

from django.db import migrations

ALL_CATEGORIES = "*"  # services.ALL_CATEGORIES at the time of this migration


def forwards(apps, schema_editor):
    snapshot = apps.get_model("analytics", "GradeSnapshot").objects
    if snapshot.filter(food_category=ALL_CATEGORIES).exists():
        return  # written by the category-aware services already: "" rows are the enterprises listing none
    snapshot.filter(food_category="").update(food_category=ALL_CATEGORIES)


class Migration(migrations.Migration):

    dependencies = [("analytics", "0007_year_before")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
