"""Message template of the drift alert and the monthly drift schedule (idempotent: existing rows are kept)."""

from django.db import migrations

DRIFT_TEMPLATE = dict(
    code="model_drift",
    name="模型漂移预警",
    channels=["inapp", "email"],
    subject="【模型漂移】{{ version }} 评分分布PSI {{ psi }}（{{ status }}）",
    body="截至 {{ as_of }}，冠军模型 {{ version }} 的模型分PSI为 {{ psi }}（>0.25 需复核或重新训练）。"
         "漂移明显的特征：{{ features|default:'无' }}。请在模型卡片中查看详情。",
)
DRIFT_SCHEDULE = dict(name="模型漂移监测（每月）", job_kind="scoring.drift", frequency="monthly", at_time="04:00",
                      day_of_month=2, params={}, enabled=True)


def seed(apps, schema_editor):
    MessageTemplate = apps.get_model("core", "MessageTemplate")
    Schedule = apps.get_model("core", "Schedule")
    MessageTemplate.objects.get_or_create(code=DRIFT_TEMPLATE["code"],
                                          defaults={k: v for k, v in DRIFT_TEMPLATE.items() if k != "code"})
    if not Schedule.objects.filter(job_kind=DRIFT_SCHEDULE["job_kind"]).exists():
        Schedule.objects.create(**DRIFT_SCHEDULE)


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0002_model_versions"),
        ("core", "0001_initial"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
