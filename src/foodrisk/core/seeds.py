"""Default data: the seven roles of ARCHITECTURE.md §6 and the approver (the second person), GB/T 2260 regions, dictionaries, parameters,
message templates. Idempotent; builtin roles gain permissions of apps added later (never lose any)."""

import fnmatch

from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from . import divisions

ROLES = [
    ("system_admin", "系统管理员", "用户、角色、机构、区划、字典、参数、模板、审计日志、任务调度",
     ["core.*", "*.view_*", "sharing.add_clientsystem", "sharing.change_clientsystem",
      "sharing.redeliver_delivery"]),
    ("data_admin", "数据管理员", "数据归集、清洗、隔离区修正、实体匹配复核、企业档案维护",
     ["enterprises.*", "records.*", "ingest.*", "core.view_region", "core.view_organisation", "core.view_job",
      "core.view_dictionarytype", "core.export_data"]),
    ("indicator_admin", "业务管理员", "指标库、指标版本、政策配置、预警规则、分级监管措施",
     ["indicators.*", "alerts.*warningrule*", "supervision.*measure*", "enterprises.view_*", "records.view_*",
      "scoring.view_*", "core.view_region", "core.view_job"]),
    ("model_admin", "模型管理员", "模型训练、评估、上线与回退、漂移监测",
     ["scoring.*modelversion*", "scoring.view_*", "scoring.add_scoringrun", "enterprises.view_*",
      "core.view_region", "core.view_job"]),
    ("supervisor", "监管人员", "辖区企业档案、评分评级、人工复核申请、预警处置、监管任务",
     ["enterprises.view_*", "enterprises.unmask_enterprise", "records.view_*", "records.add_*", "scoring.view_*", "scoring.add_gradeadjustment",
      "alerts.view_alert", "alerts.review_alert", "alerts.dispatch_alert", "alerts.handle_alert", "alerts.close_alert",
      "supervision.*", "core.view_region", "core.view_organisation", "core.export_data", "core.view_exportrequest",
      "core.approve_exportrequest", "analytics.enterprise_report"]),
    # the second person of every two-person rule: grade adjustments, indicator sets, models, sensitive exports
    # (each service refuses an approval by the person who asked)
    ("approver", "审核人（科室负责人）", "审批人工评级调整、指标版本启用、模型上线与回退、含敏感字段的导出、共享接口接入；不能审批本人提交的申请",
     ["scoring.approve_gradeadjustment", "indicators.approve_indicatorset", "indicators.activate_indicatorset",
      "indicators.preview_indicatorset", "scoring.promote_modelversion", "core.approve_exportrequest",
      "core.view_exportrequest", "enterprises.view_*", "records.view_*", "scoring.view_*", "indicators.view_*",
      "alerts.view_alert", "supervision.view_*", "core.view_region", "core.view_organisation", "core.view_job",
      "sharing.approve_clientsystem", "sharing.view_*"]),
    ("handler", "处置人员", "接收派发的预警与任务，反馈处置结果",
     ["enterprises.view_enterprise", "enterprises.view_recordversion", "records.view_*", "alerts.view_alert",
      "alerts.handle_alert",
      "supervision.view_task", "supervision.change_task", "core.view_region"]),
    ("leader", "领导决策层", "统计分析与报表（只读，范围较宽）",
     ["*.view_*", "analytics.*", "core.export_data", "!core.view_auditentry", "!core.view_user"]),
]


def _matches(perm_key, patterns):
    allowed = any(fnmatch.fnmatch(perm_key, p) for p in patterns if not p.startswith("!"))
    denied = any(fnmatch.fnmatch(perm_key, p[1:]) for p in patterns if p.startswith("!"))
    return allowed and not denied


def seed_roles():
    from .models import Role

    perms = list(Permission.objects.select_related("content_type"))
    for code, name, description, patterns in ROLES:
        role, _ = Role.objects.get_or_create(code=code, defaults={"name": name, "description": description,
                                                                  "builtin": True})
        wanted = [p for p in perms if _matches(f"{p.content_type.app_label}.{p.codename}", patterns)]
        role.permissions.add(*wanted)


def region_rows(table=None):
    """(code, name, level, parent code, full name) of every current GB/T 2260 division, parents first."""
    table = divisions.current(divisions.load() if table is None else table)
    parents = {code: divisions.parent_code(code, table) for code in table}

    def full_name(code):
        chain = []
        while code:
            chain.append(table[code].name)
            code = parents[code]
        return "".join(reversed(chain))

    order = {divisions.PROVINCE: 0, divisions.PREFECTURE: 1, divisions.COUNTY: 2}
    return [(code, d.name, d.level, parents[code], full_name(code))
            for code, d in sorted(table.items(), key=lambda kv: (order[kv[1].level], kv[0]))]


@transaction.atomic
def load_regions():
    """Adds the current divisions that are missing and puts existing ones under their right parent (databases
    seeded before 2026-12 hung the counties of 14 missing prefectures directly off their province). Names an
    administrator edited are left alone. Returns how many divisions were added."""
    from .models import Region

    existing = Region.objects.in_bulk()
    new, moved = [], []
    for code, name, level, parent, full_name in region_rows():
        region = existing.get(code)
        if region is None:
            new.append(Region(code=code, name=name, level=level, parent_id=parent, full_name=full_name))
        elif region.parent_id != parent:
            region.parent_id, region.full_name = parent, full_name
            moved.append(region)
    Region.objects.bulk_create(new, batch_size=1000)
    Region.objects.bulk_update(moved, ["parent", "full_name"], batch_size=1000)
    return len(new)


DICTIONARIES = {
    "business_form": ("主体业态", [("production", "食品生产"), ("sales", "食品销售"), ("catering", "餐饮服务"),
                                  ("canteen", "单位食堂"), ("special", "特殊食品")]),
    "penalty_severity": ("处罚情节", [("minor", "轻微"), ("general", "一般"), ("heavy", "较重"), ("serious", "严重")]),
    "violation_type": ("违法行为类型", [(v, v) for v in (
        "经营超过保质期的食品", "未按规定履行进货查验义务", "生产经营不符合食品安全标准的食品", "未取得食品经营许可从事食品经营活动",
        "超范围、超限量使用食品添加剂", "食品经营场所卫生条件不符合要求", "未按规定公示食品经营许可证", "标签不符合规定",
        "从业人员未取得健康证明", "餐具饮具未按规定清洗消毒", "使用非食品原料生产食品", "虚假宣传保健食品功能",
        "拒绝、阻挠监督检查")]),
    "inspection_kind": ("检查类型", [("routine", "日常检查"), ("special", "专项检查"), ("random", "双随机抽查"),
                                    ("flight", "飞行检查")]),
    "sampling_level": ("抽检级别", [("national", "国抽"), ("provincial", "省抽"), ("city", "市抽"), ("county", "县抽")]),
    "complaint_channel": ("投诉渠道", [("12315", "12315"), ("12345", "12345"), ("letter", "来信"), ("visit", "来访"),
                                      ("online", "网络")]),
    "grade": ("风险等级", [("A", "信用风险低"), ("B", "信用风险一般"), ("C", "信用风险较高"), ("D", "信用风险高")]),
}

PARAMETERS = [
    ("uscc_org_code_check", "校验统一社会信用代码中的组织机构代码", "ingest", "bool", True,
     "按 GB 11714 校验统一社会信用代码第9–17位（组织机构代码）；python-stdnum 不校验这一段。", "GB 32100-2015、GB 11714"),
    ("quality_target_pass_rate", "关键字段合格率目标", "ingest", "decimal", 0.99, "导入批次关键字段合格率的目标值。", "系统默认"),
    ("entity_auto_link_threshold", "实体匹配自动关联阈值", "ingest", "decimal", 0.92, "名称与地址相似度达到此值时自动关联到企业。", "系统默认"),
    ("entity_review_threshold", "实体匹配人工复核阈值", "ingest", "decimal", 0.75, "相似度在此值与自动关联阈值之间的记录转人工复核。", "系统默认"),
    ("entity_splink_min_pairs", "启用 splink 批量记录链接的最少待匹配名称数", "ingest", "int", 5000,
     "需要模糊匹配的名称/地址组合少于此数时逐行匹配（rapidfuzz），达到时用 splink 批量链接。", "系统默认"),
    ("low_fine_threshold_legal_person", "较低数额罚款（法人）上限（元）", "credit", "int", 100000,
     "公示期为3个月的“较低数额罚款”上限，由各省规定（此为湖北示例）。", "《市场监督管理行政处罚信息公示规定》（总局令第45号）"),
    ("penalty_repair_months_food", "食品类行政处罚信息最短公示期（月）", "credit", "int", 12, "食品安全领域行政处罚信息公示满此期限后方可申请信用修复。", "《市场监督管理信用修复管理办法》"),
    ("penalty_repair_months_general", "一般行政处罚信息最短公示期（月）", "credit", "int", 6, "其他行政处罚信息公示满此期限后方可申请信用修复。", "《市场监督管理信用修复管理办法》"),
    ("serious_list_min_months", "严重违法失信名单提前移出最短期限（月）", "credit", "int", 12, "列入严重违法失信名单满此期限后方可申请提前移出。", "《市场监督管理严重违法失信名单管理办法》（总局令第44号）"),
    ("full_inspection_floor_months", "全项目检查最长间隔（月）", "supervision", "int", 24,
     "每个经营主体至少每两年接受一次全项目检查。", "《食品生产经营监督检查管理办法》（总局令第49号）"),
    ("export_job_threshold", "导出转为后台任务的行数", "security", "int", 2000,
     "列表与台账导出超过此行数时改为后台任务生成。", "系统默认"),
    ("api_token_default_days", "API 令牌默认有效期（天）", "security", "int", 90,
     "用户新建个人 API 令牌时默认的有效天数。", "系统默认"),
    ("api_token_max_days", "API 令牌最长有效期（天）", "security", "int", 365,
     "个人 API 令牌的有效期不得超过此天数。", "系统默认"),
    ("generated_file_days", "生成文件保留天数", "security", "int", 7,
     "导出与报表文件在生成后保留的天数，到期由定时任务删除，需要时重新生成。", "系统默认"),
    ("session_timeout_minutes", "会话超时（分钟）", "security", "int", 30, "由环境变量 FOODRISK_SESSION_SECONDS 设置。", "系统默认"),
    ("sharing_secret_overlap_hours", "共享接口密钥轮换重叠期（小时）", "security", "int", 24,
     "为接入系统签发新密钥后，旧密钥继续有效的小时数，便于对方无缝切换。", "系统默认"),
    ("sharing_webhook_retry_seconds", "订阅推送重试间隔（秒）", "security", "json", [5, 300, 1800, 7200, 18000, 36000],
     "推送失败（网络错误、5xx、408、429）后依次等待的秒数；用完仍失败即转入死信，通知系统管理员。", "系统默认"),
    ("sharing_webhook_jitter", "订阅推送重试间隔随机浮动比例", "security", "decimal", 0.1,
     "每次等待在上述间隔上随机增减的比例（0.1 即 ±10%），避免大量推送同时重试。", "系统默认"),
]

TEMPLATES = [
    ("job_finished", "任务完成通知", ["inapp"], "任务「{{ job.title }}」已{{ job.get_status_display }}",
     "任务 #{{ job.pk }}（{{ job.kind }}）于 {{ job.finished_at }} 结束。"),
    ("alert_dispatched", "预警派发通知", ["inapp", "sms"], "【{{ level }}预警】{{ enterprise }}",
     "{{ rule }}：{{ summary }}。请于 {{ deadline }} 前处置。"),
    ("alert_overdue", "预警督办通知", ["inapp", "email", "sms"], "【督办】预警逾期未办结：{{ enterprise }}",
     "预警「{{ rule }}」已超过办理期限 {{ deadline }}，请督促处置。"),
    ("grade_changed", "等级变动通知", ["inapp"], "{{ enterprise }} 风险等级由 {{ old }} 变为 {{ new }}",
     "评分批次 {{ run }}：{{ reasons }}"),
    ("approval_requested", "待审批通知", ["inapp"], "待您审批：{{ subject }}", "{{ requester }} 提交了 {{ subject }}，请审批。"),
]


@transaction.atomic
def seed_reference_data():
    from .models import DictionaryItem, DictionaryType, MessageTemplate, Parameter

    for code, (name, items) in DICTIONARIES.items():
        dictionary, _ = DictionaryType.objects.get_or_create(code=code, defaults={"name": name, "builtin": True})
        for order, (item_code, label) in enumerate(items):
            DictionaryItem.objects.get_or_create(dictionary=dictionary, code=item_code,
                                                 defaults={"label": label, "order": order})
    seed_parameters(PARAMETERS, Parameter)
    for code, name, channels, subject, body in TEMPLATES:
        MessageTemplate.objects.get_or_create(code=code, defaults=dict(name=name, channels=channels,
                                                                       subject=subject, body=body))


def seed_parameters(rows, Parameter):
    """Parameters (key, name, category, type, value, description, source): the value is the bureau's (set once,
    then theirs to change); name, category, description and source are the product's documentation of it and
    follow the product (a database seeded with the older English descriptions gets the Chinese ones)."""
    for key, name, category, value_type, value, description, source in rows:
        documented = dict(name=name, category=category, description=description, source=source)
        param, created = Parameter.objects.get_or_create(key=key, defaults=dict(documented, value_type=value_type,
                                                                                  value=value))
        if not created and any(getattr(param, f) != v for f, v in documented.items()):
            Parameter.objects.filter(pk=param.pk).update(**documented)


def seed_purge_schedule(Schedule):
    """Generated files (exports, reports) are deleted when they expire: daily (also seeded by migration 0007)."""
    if not Schedule.objects.filter(job_kind="core.purge_files").exists():
        Schedule.objects.create(name="清理过期导出文件", job_kind="core.purge_files", frequency="daily", at_time="04:30")


def seed_schedules():
    from .models import Schedule

    Schedule.objects.get_or_create(name="每日备份", defaults=dict(job_kind="core.backup", frequency="daily",
                                                              at_time="03:00", params={"out": "var/backups"}))
    seed_purge_schedule(Schedule)
    # Anchors the audit chain outside the database every hour (a database writer cannot re-hash past it).
    Schedule.objects.get_or_create(name="审计链检查点", defaults=dict(job_kind="core.audit_checkpoint",
                                                                frequency="hourly", at_time="00:05"))


def seed_all():
    seed_roles()
    seed_reference_data()
    seed_schedules()


ROLE_LABEL = _("role")  # keeps the word translated even though role names are data
