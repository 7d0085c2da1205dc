from django.core.management.base import BaseCommand
from django.db import transaction

from foodrisk.core.models import Organisation, Region, Role, User
from foodrisk.core.services import accounts

DEMO_PASSWORD = "Demo-2026!foodrisk"


class Command(BaseCommand):
    help = "Create demo organisations and an account per default role, two district inspectors (for the demo only)."

    def add_arguments(self, parser):
        parser.add_argument("--city", default="330100")

    @transaction.atomic
    def handle(self, *args, city="330100", **options):
        city_region = Region.objects.get(code=city)
        bureau, _ = Organisation.objects.get_or_create(
            code=f"SJ{city}", defaults={"name": f"{city_region.name}市场监督管理局", "region": city_region})
        district_region = city_region.children.filter(level="county").order_by("code").first()
        district, _ = Organisation.objects.get_or_create(
            code=f"FJ{district_region.code}",
            defaults={"name": f"{district_region.name}市场监督管理局", "kind": "branch", "region": district_region,
                      "parent": bureau})
        accounts_made = []
        plan = [
            ("admin", "系统管理员", "system_admin", bureau, True),
            ("data", "数据管理员", "data_admin", bureau, False),
            ("indicator", "业务管理员", "indicator_admin", bureau, False),
            ("model", "模型管理员", "model_admin", bureau, False),
            ("approver", "审核人", "approver", bureau, False),  # approves what the others ask (two-person rules)
            ("inspector", "区监管人员", "supervisor", district, False),
            ("inspector2", "区监管人员二", "supervisor", district, False),  # a random draw needs two inspectors
            ("handler", "区处置人员", "handler", district, False),
            ("leader", "局领导", "leader", bureau, False),
        ]
        for username, full_name, role_code, org, superuser in plan:
            if User.objects.filter(username=username).exists():
                continue
            accounts.create_user(username=username, password=DEMO_PASSWORD, full_name=full_name,
                                 organisation=org, roles=[Role.objects.get(code=role_code)],
                                 is_superuser=superuser, is_staff=superuser)
            accounts_made.append((username, full_name, org.name))
        if accounts_made:
            self.stdout.write("Demo accounts (FOR THE DEMO ONLY — change or disable them before real use):")
            for username, full_name, org in accounts_made:
                self.stdout.write(f"  {username:<10} {full_name:<8} {org}   password: {DEMO_PASSWORD}")
