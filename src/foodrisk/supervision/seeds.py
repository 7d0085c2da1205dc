"""Default policy data from shared/domain/regulations.md (§1.2, §2.1–2.3, §7). Idempotent; the
first migration loads it, `seed()` can be re-run."""

from foodrisk.core.seeds import seed_parameters

# 双随机 sampling ratios per generic credit class (regulations.md §1.2). Daqing publishes ranges
# (A ≤5 %, B 5–20 %, C 21–60 %, D 61–100 %): the upper end of each range is used as the draw ratio.
SAMPLING_PRESETS = {
    "daqing": {"A": 0.05, "B": 0.20, "C": 0.60, "D": 1.00},
    "bayannur": {"A": 0.02, "B": 0.05, "C": 1.00, "D": 1.00},
}

MEASURES = {
    "A": ["routine_check"],
    "B": ["routine_check"],
    "C": ["key_inspection", "interview", "rectification"],
    "D": ["key_inspection", "interview", "rectification", "repair_followup"],
}

# SAMR Order 49 Art. 22: special-food producers, C/D producers, D traders/caterers, central kitchens and
# collective meal distributors (the last two are flagged on the enterprise: key_supervision).
KEY_RULES = [
    {"business_forms": ["special"], "grades": [], "label": "特殊食品生产者"},
    {"business_forms": ["production"], "grades": ["C", "D"], "label": "风险等级为C、D级的食品生产者"},
    {"business_forms": ["sales", "catering", "canteen"], "grades": ["D"],
     "label": "风险等级为D级的食品经营者"},
]

PROFILES = [
    {
        "code": "food_2016",
        "name": "食品生产经营风险分级（2016试行办法）· 抽查比例 A5%/B20%/C60%/D100%",
        "description": "检查频次：A级每年至少1次，B级1–2次，C级2–3次，D级3–4次（重点监管对象取区间上限）；"
                       "双随机抽查比例按大庆/林甸示例区间上限（A 5%、B 20%、C 60%、D 100%）。",
        "source": "regulations.md §2.2（2016试行办法）；§1.2（大庆）；§2.1（监督检查管理办法第22条）",
        "min_per_year": {"A": 1, "B": 1, "C": 2, "D": 3},
        "max_per_year": {"A": 1, "B": 2, "C": 3, "D": 4},
        "sampling_ratios": SAMPLING_PRESETS["daqing"],
        "active": True,
    },
    {
        "code": "food_2022_draft",
        "name": "食品生产企业风险分级（2022征求意见稿）· 抽查比例 A2%/B5%/C100%/D100%",
        "description": "检查频次：A级每两年至少1次，B级每年至少1次，C级2次，D级3次；"
                       "双随机抽查比例按巴彦淖尔2022年实践（A 2%、B 5%、C 100%、D 100%）。",
        "source": "regulations.md §2.3（2022征求意见稿、安徽）；§1.2（巴彦淖尔）",
        "min_per_year": {"A": 0.5, "B": 1, "C": 2, "D": 3},
        "max_per_year": {"A": 1, "B": 1, "C": 2, "D": 3},
        "sampling_ratios": SAMPLING_PRESETS["bayannur"],
        "active": False,
    },
]

# A short checklist in the shape of Art. 13 (重点项目 * / 一般项目); items follow the 2016 producer and
# sales checklists quoted in regulations.md §2.2.
CHECKLISTS = [
    {
        "code": "general_2022",
        "name": "食品生产经营监督检查要点（简表）",
        "source": "regulations.md §2.1（第13条 重点项目/一般项目；第32–33条）、§2.2（检查表）",
        "items": [
            ("1.1", "许可证件合法有效，经营场所、范围与许可一致", True),
            ("2.1", "从业人员持有效健康证明", False),
            ("3.1", "落实进货查验和记录制度，索证索票齐全", True),
            ("3.2", "未采购、使用、销售超过保质期或不符合食品安全标准的食品及原料", True),
            ("3.3", "未超范围、超限量使用食品添加剂", True),
            ("4.1", "食品贮存条件符合要求（温度、分区、离地离墙）", False),
            ("4.2", "预包装食品标签标识符合规定", False),
            ("5.1", "场所环境卫生、设施设备维护良好", False),
            ("5.2", "餐具饮具清洗消毒符合要求", False),
            ("6.1", "建立并落实食品安全管理制度，配备食品安全管理人员", False),
            ("6.2", "按规定公示许可证件和检查结果", False),
        ],
    },
]

PARAMETERS = [
    ("inspections_per_inspector_year", "每名执法人员每年可承担检查次数", "supervision", "int", 120,
     "检查计划的承载能力：执法人员数 × 此数 × 计划期长度。", "系统默认"),
    ("rectification_days", "责令整改默认期限（天）", "supervision", "int", 15,
     "由检查结果生成的责令整改的默认期限。", "系统默认"),
    ("task_default_days", "监管任务默认办理期限（天）", "supervision", "int", 30, "新建监管任务的默认办理期限。", "系统默认"),
    ("non_food_violation_types", "非食品类违法行为类型（信用修复最短公示期按6个月）", "credit", "json", [],
     "这些违法行为类型的处罚按一般行政处罚的最短公示期计算，其余按食品类。", "《市场监督管理信用修复管理办法》"),
]


def seed(apps=None):
    def model(name, app="supervision"):
        if apps is not None:
            return apps.get_model(app, name)
        from django.apps import apps as global_apps

        return global_apps.get_model(app, name)

    Profile, Template, Item = model("SupervisionProfile"), model("ChecklistTemplate"), model("ChecklistItem")
    Parameter, MessageTemplate = model("Parameter", "core"), model("MessageTemplate", "core")
    Schedule = model("Schedule", "core")
    has_active = Profile.objects.filter(active=True).exists()
    for row in PROFILES:
        defaults = dict(row, measures=MEASURES, key_rules=KEY_RULES, floor_months=24,
                        full_inspection_kinds=["routine", "random"])
        defaults.pop("code")
        if has_active:
            defaults["active"] = False
        Profile.objects.get_or_create(code=row["code"], defaults=defaults)
    for row in CHECKLISTS:
        template, created = Template.objects.get_or_create(code=row["code"], defaults={
            "name": row["name"], "source": row["source"]})
        if created:
            for order, (number, text, key) in enumerate(row["items"]):
                Item.objects.create(template=template, number=number, text=text, key=key, order=order)
    seed_parameters(PARAMETERS, Parameter)
    MessageTemplate.objects.get_or_create(code="task_assigned", defaults=dict(
        name="监管任务通知", channels=["inapp"], subject="【监管任务】{{ kind }}：{{ enterprise }}",
        body="{{ subject }}。请于 {{ due }} 前办理。"))
    if not Schedule.objects.filter(job_kind="supervision.flag_overdue").exists():
        Schedule.objects.create(name="监管任务逾期标记", job_kind="supervision.flag_overdue", frequency="daily",
                                at_time="01:30")
