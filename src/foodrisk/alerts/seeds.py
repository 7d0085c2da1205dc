"""Default warning rules, the alert message templates and the daily scan schedule. Idempotent: existing
rows (possibly edited by an administrator) are left as they are.

Used by the data migration 0002 (with historical models) and callable as `seed_default_rules()`.
"""

DEFAULT_RULES = [
    # code, name, kind, params, level, target, deadline_days, description
    # a first grading is not a drop: on a bureau's first run every C/D enterprise would raise one (issue 13)
    ("grade-into-d", "等级降为D级", "grade_drop", {"min_steps": 1, "to_grades": ["D"], "include_first_grading": False},
     "red", "local", 7, "企业信用风险等级由较低风险等级降为D级。"),
    ("grade-into-c", "等级降为C级", "grade_drop", {"min_steps": 1, "to_grades": ["C"], "include_first_grading": False},
     "orange", "local", 15, "企业信用风险等级由较低风险等级降为C级。"),
    ("grade-drop-2", "等级连降两级", "grade_drop", {"min_steps": 2, "to_grades": [], "include_first_grading": False},
     "orange", "local", 15, "一次评级中风险等级下降两级及以上。"),
    ("grade-drop", "等级下降", "grade_drop", {"min_steps": 1, "to_grades": ["B"], "include_first_grading": False},
     "blue", "local", 30, "风险等级由A降为B。"),
    ("complaint-jump", "投诉量激增", "indicator_jump",
     {"record_kind": "complaints", "period_days": 90, "factor": 3, "min_count": 3},
     "yellow", "local", 15, "近一个季度投诉举报数达到上一季度的3倍及以上（且不少于3件）。"),
    ("complaint-cluster", "投诉集中", "complaint_cluster", {"count": 3, "days": 30, "verified_only": True},
     "orange", "local", 10, "30天内经核实的投诉举报达到3件。"),
    ("new-penalty-heavy", "新增较重及以上行政处罚", "new_penalty",
     {"severities": ["heavy", "serious"], "min_fine": 0, "lookback_days": 30},
     "orange", "local", 15, "新增情节较重或严重的食品安全行政处罚。"),
    ("new-penalty", "新增行政处罚", "new_penalty",
     {"severities": ["minor", "general"], "min_fine": 0, "lookback_days": 30},
     "blue", "local", 30, "新增一般或轻微的行政处罚。"),
    ("inspection-failed", "监督检查不符合", "failed_inspection",
     {"results": ["fail"], "min_key_items_failed": 0, "lookback_days": 30},
     "orange", "local", 15, "监督检查结果为不符合。"),
    ("sampling-failed", "抽检不合格", "failed_sampling", {"lookback_days": 60},
     "red", "local", 7, "抽检监测结果不合格（核查处置时限较短）。"),
    ("licence-expiring", "许可证即将到期", "licence_expiring", {"days": 30},
     "blue", "local", 30, "食品生产经营许可证30天内到期。"),
    ("licence-expired", "许可证已过期", "licence_expired", {"grace_days": 0},
     "orange", "local", 10, "许可证已过有效期且未见换证，疑似无证经营。"),
    ("repair-rejected", "信用修复未通过", "repair_rejected", {"lookback_days": 30},
     "yellow", "local", 15, "信用修复申请被驳回。"),
    ("repair-lapsed", "信用修复超期未办结", "repair_lapsed", {"pending_days": 15},
     "yellow", "county", 5, "信用修复申请受理后超过15天未作出决定。"),
    ("listed", "列入经营异常名录或严重违法失信名单", "listed",
     {"lists": ["abnormal", "serious"], "lookback_days": 30},
     "red", "local", 10, "企业被列入经营异常名录或严重违法失信名单。"),
]

DIGEST_TEMPLATES = [
    ("alert_raised_digest", "预警产生汇总通知", ["inapp"], "【预警】新增 {{ count }} 条预警待复核",
     "新增 {{ count }} 条预警（{{ levels }}），请到预警队列处理。涉及：{{ enterprises }}"),
    ("alert_confirmed_digest", "预警确认汇总通知", ["inapp"], "【预警】{{ count }} 条预警已确认，待派发",
     "{{ actor }} 确认了 {{ count }} 条预警（{{ levels }}），请到预警队列派发。"),
    ("alert_dismissed_digest", "预警排除汇总通知", ["inapp"], "{{ count }} 条预警已排除",
     "{{ actor }} 排除了 {{ count }} 条预警（{{ levels }}），理由：{{ note }}"),
    ("alert_dispatched_digest", "预警派发汇总通知", ["inapp", "sms"], "【预警】派发给您 {{ count }} 条预警",
     "派发给您 {{ count }} 条预警（{{ levels }}），最早办理期限 {{ deadline }}，请到预警队列处理。"),
    ("alert_overdue_digest", "预警督办汇总通知", ["inapp", "email", "sms"], "【督办】{{ count }} 条预警逾期未办结",
     "{{ count }} 条预警（{{ levels }}）已超过办理期限，请到预警队列督促处置。"),
]

TEMPLATES = [
    # code, name, channels, subject, body  (alert_dispatched and alert_overdue are seeded by core)
    ("alert_raised", "预警产生通知", ["inapp"], "【{{ level }}预警】{{ enterprise }}：待复核",
     "{{ rule }}：{{ summary }}。请复核（办理期限 {{ deadline }}）。"),
    ("alert_confirmed", "预警确认通知", ["inapp"], "【{{ level }}预警】{{ enterprise }}：已确认，待派发",
     "{{ rule }}：{{ summary }}。{{ actor }} 已确认，请派发。"),
    ("alert_dismissed", "预警排除通知", ["inapp"], "预警已排除：{{ enterprise }}",
     "{{ rule }}：{{ summary }}。{{ actor }} 排除理由：{{ note }}"),
    ("alert_handled", "预警处置反馈通知", ["inapp"], "预警处置反馈：{{ enterprise }}",
     "{{ actor }} 反馈：{{ feedback }}"),
    ("alert_closed", "预警办结通知", ["inapp"], "预警已办结：{{ enterprise }}",
     "{{ rule }}：办结结果 {{ outcome }}（{{ actor }}）。"),
    # fallbacks in case core's seed has not run in this database yet
    ("alert_dispatched", "预警派发通知", ["inapp", "sms"], "【{{ level }}预警】{{ enterprise }}",
     "{{ rule }}：{{ summary }}。请于 {{ deadline }} 前处置。"),
    ("alert_overdue", "预警督办通知", ["inapp", "email", "sms"], "【督办】预警逾期未办结：{{ enterprise }}",
     "预警「{{ rule }}」已超过办理期限 {{ deadline }}，请督促处置。"),
    # digests: one event (a scoring run, an import, a scan, a bulk review) tells each person once; context: count,
    # levels ("红色 3、橙色 9"), deadline (the earliest), enterprises (the first three), link, and the
    # per-alert template's own extras (actor, note, organisation, instructions)
    *DIGEST_TEMPLATES,
]

SCHEDULES = [{"name": "每日预警扫描", "job_kind": "alerts.scan", "frequency": "daily", "at_time": "01:30"},
             {"name": "预警补评（未评估的变更）", "job_kind": "alerts.catch_up", "frequency": "hourly", "at_time": "00:15"}]


def seed_default_rules(WarningRule=None, MessageTemplate=None, Schedule=None):
    """Create what is missing; returns the number of rules created."""
    if WarningRule is None:
        from foodrisk.alerts.models import WarningRule
    if MessageTemplate is None:
        from foodrisk.core.models import MessageTemplate
    if Schedule is None:
        from foodrisk.core.models import Schedule
    created = 0
    for code, name, kind, params, level, target, deadline, description in DEFAULT_RULES:
        _rule, new = WarningRule.objects.get_or_create(code=code, defaults=dict(
            name=name, kind=kind, params=params, level=level, target=target, deadline_days=deadline,
            description=description, enabled=True, builtin=True))
        created += new
    for code, name, channels, subject, body in TEMPLATES:
        MessageTemplate.objects.get_or_create(code=code, defaults=dict(name=name, channels=channels, subject=subject,
                                                                       body=body))
    for schedule in SCHEDULES:
        if not Schedule.objects.filter(job_kind=schedule["job_kind"]).exists():
            Schedule.objects.create(**schedule)
    return created
