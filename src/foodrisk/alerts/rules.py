"""What each rule kind looks at. Evaluators are read-only: they return Hits; services.raise_alert writes.

A Hit's fingerprint names the evidence (a record, a grade change, a licence expiry date) so the same
evidence never raises or counts twice, even after the alert is closed.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Max, Q

from foodrisk.enterprises.models import Enterprise, Licence
from foodrisk.records.models import (
    RECORD_KINDS,
    Complaint,
    CreditRepair,
    Inspection,
    ListEntry,
    Penalty,
    SamplingTest,
)

from .choices import RuleKind

GRADE_ORDER = {"A": 0, "B": 1, "C": 2, "D": 3}
CHUNK = 900  # stay under SQLite's bound-parameter limit


@dataclass
class Hit:
    enterprise_id: int
    fingerprint: str
    summary: str
    evidence: dict = field(default_factory=dict)


def record_ref(record):
    """A record in an alert's evidence: enough to show it and link to it."""
    return {"model": record._meta.model_name, "id": record.pk, "no": getattr(record, record.natural_key_field or "pk", ""),
            "date": record.event_date.isoformat() if record.event_date else None, "text": str(record)}


def licence_ref(licence):
    return {"model": "licence", "id": licence.pk, "no": licence.licence_no, "kind": licence.kind,
            "date": licence.expires_on.isoformat(), "text": f"{licence.licence_no}（有效期至 {licence.expires_on}）"}


def chunks(ids):
    ids = sorted(ids)
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _scoped(qs, ids, field_name="enterprise_id"):
    """Yield querysets per chunk of enterprise ids (None = everyone, one queryset)."""
    if ids is None:
        yield qs
        return
    for chunk in chunks(ids):
        yield qs.filter(**{f"{field_name}__in": chunk})


# --------------------------------------------------------------------------------------------------
# record-driven kinds
# --------------------------------------------------------------------------------------------------
def _per_record(rule, ids, qs, summary, fp):
    hits = []
    for part in _scoped(qs, ids):
        for rec in part:
            hits.append(Hit(rec.enterprise_id, fp(rec), summary(rec), {"records": [record_ref(rec)]}))
    return hits


def new_penalty(rule, ids, today):
    p = rule.params
    qs = Penalty.objects.filter(decided_on__gte=today - dt.timedelta(days=p["lookback_days"]),
                                fine__gte=p["min_fine"])
    if p["severities"]:
        qs = qs.filter(severity__in=p["severities"])
    return _per_record(rule, ids, qs, lambda r: f"新增行政处罚 {r.decision_no}（{r.get_severity_display()}，罚款 {r.fine} 元）",
                       lambda r: f"penalty:{r.pk}")


def failed_inspection(rule, ids, today):
    p = rule.params
    qs = Inspection.objects.filter(inspected_on__gte=today - dt.timedelta(days=p["lookback_days"]),
                                   result__in=p["results"], key_items_failed__gte=p["min_key_items_failed"])
    return _per_record(rule, ids, qs, lambda r: f"监督检查 {r.inspection_no} 结果：{r.get_result_display()}"
                       f"（重点项不合格 {r.key_items_failed} 项）", lambda r: f"inspection:{r.pk}")


def failed_sampling(rule, ids, today):
    qs = SamplingTest.objects.filter(sampled_on__gte=today - dt.timedelta(days=rule.params["lookback_days"]),
                                     result="fail")
    return _per_record(rule, ids, qs, lambda r: f"抽检不合格：{r.product}（报告 {r.report_no}）",
                       lambda r: f"samplingtest:{r.pk}")


def repair_rejected(rule, ids, today):
    cutoff = today - dt.timedelta(days=rule.params["lookback_days"])
    qs = CreditRepair.objects.filter(Q(decided_on__gte=cutoff) | Q(decided_on__isnull=True, applied_on__gte=cutoff),
                                     decision="rejected")
    return _per_record(rule, ids, qs, lambda r: f"信用修复申请 {r.repair_no} 未通过", lambda r: f"creditrepair:{r.pk}:rejected")


def listed(rule, ids, today):
    p = rule.params
    qs = ListEntry.objects.filter(list_kind__in=p["lists"], removed_on__isnull=True,
                                  listed_on__gte=today - dt.timedelta(days=p["lookback_days"]))
    return _per_record(rule, ids, qs, lambda r: f"列入{r.get_list_kind_display()}（{r.listed_on}）"
                       + (f"：{r.reason}" if r.reason else ""), lambda r: f"listentry:{r.pk}")


def complaint_cluster(rule, ids, today):
    p = rule.params
    qs = Complaint.objects.filter(received_on__gte=today - dt.timedelta(days=p["days"] - 1),
                                  received_on__lte=today)
    if p["verified_only"]:
        qs = qs.filter(verified=True)
    hits = []
    for part in _scoped(qs, ids):
        groups = part.values("enterprise_id").annotate(n=Count("id"), last=Max("id")).filter(n__gte=p["count"])
        for g in groups:
            recs = list(qs.filter(enterprise_id=g["enterprise_id"]).order_by("-received_on", "-pk")[:20])
            hits.append(Hit(g["enterprise_id"], f"complaints:{g['last']}",
                            f"{p['days']} 天内{'经核实' if p['verified_only'] else ''}投诉举报 {g['n']} 件",
                            {"records": [record_ref(r) for r in recs],
                             "values": {"count": g["n"], "days": p["days"], "threshold": p["count"]}}))
    return hits


def indicator_jump(rule, ids, today):
    """Count of records of a kind in the last `period_days` versus the period before."""
    p = rule.params
    model = RECORD_KINDS[p["record_kind"]]
    date_field = model.date_field
    period = dt.timedelta(days=p["period_days"])
    cur_start, prev_start = today - period + dt.timedelta(days=1), today - 2 * period + dt.timedelta(days=1)
    hits = []
    base = model.objects.filter(**{f"{date_field}__gte": prev_start, f"{date_field}__lte": today})
    for part in _scoped(base, ids):
        current = {r["enterprise_id"]: (r["n"], r["last"]) for r in part.filter(**{f"{date_field}__gte": cur_start})
                   .values("enterprise_id").annotate(n=Count("id"), last=Max("id")).filter(n__gte=p["min_count"])}
        if not current:
            continue
        previous = dict(part.filter(enterprise_id__in=list(current), **{f"{date_field}__lt": cur_start})
                        .values("enterprise_id").annotate(n=Count("id")).values_list("enterprise_id", "n"))
        for eid, (n, last) in current.items():
            prev = previous.get(eid, 0)
            if n >= p["factor"] * prev:
                label = model._meta.verbose_name
                recs = model.objects.filter(enterprise_id=eid, **{f"{date_field}__gte": cur_start}).order_by(
                    f"-{date_field}", "-pk")[:20]
                hits.append(Hit(eid, f"jump:{p['record_kind']}:{last}",
                                f"近 {p['period_days']} 天{label} {n} 件，前一周期 {prev} 件",
                                {"records": [record_ref(r) for r in recs],
                                 "values": {"record_kind": p["record_kind"], "current": n, "previous": prev,
                                            "period_days": p["period_days"], "factor": p["factor"],
                                            "current_from": cur_start.isoformat(),
                                            "previous_from": prev_start.isoformat()}}))
    return hits


# --------------------------------------------------------------------------------------------------
# time-based kinds (the daily scan)
# --------------------------------------------------------------------------------------------------
def _active_licences(ids):
    return Licence.objects.filter(enterprise__status="active").select_related("enterprise")


def licence_expiring(rule, ids, today):
    days = rule.params["days"]
    qs = _active_licences(ids).filter(status="valid", expires_on__gte=today,
                                      expires_on__lte=today + dt.timedelta(days=days))
    hits = []
    for part in _scoped(qs, ids):
        for lic in part:
            left = (lic.expires_on - today).days
            hits.append(Hit(lic.enterprise_id, f"licence:{lic.pk}:expiring:{lic.expires_on}",
                            f"{lic.get_kind_display()} {lic.licence_no} 将于 {lic.expires_on} 到期（剩余 {left} 天）",
                            {"records": [licence_ref(lic)], "values": {"days_left": left, "within_days": days}}))
    return hits


def licence_expired(rule, ids, today):
    cutoff = today - dt.timedelta(days=rule.params["grace_days"])
    qs = _active_licences(ids).filter(status__in=["valid", "expired"], expires_on__lt=cutoff)
    renewed = set(Licence.objects.filter(status="valid", expires_on__gte=today)
                  .values_list("enterprise_id", "kind"))
    hits = []
    for part in _scoped(qs, ids):
        for lic in part:
            if (lic.enterprise_id, lic.kind) in renewed:
                continue
            hits.append(Hit(lic.enterprise_id, f"licence:{lic.pk}:expired:{lic.expires_on}",
                            f"{lic.get_kind_display()} {lic.licence_no} 已于 {lic.expires_on} 过期，未见换证",
                            {"records": [licence_ref(lic)], "values": {"days_overdue": (today - lic.expires_on).days}}))
    return hits


def repair_lapsed(rule, ids, today):
    days = rule.params["pending_days"]
    qs = CreditRepair.objects.filter(decision="pending", applied_on__lte=today - dt.timedelta(days=days))
    hits = []
    for part in _scoped(qs, ids):
        for rec in part:
            waited = (today - rec.applied_on).days
            hits.append(Hit(rec.enterprise_id, f"creditrepair:{rec.pk}:lapsed",
                            f"信用修复申请 {rec.repair_no} 已受理 {waited} 天仍未办结（期限 {days} 天）",
                            {"records": [record_ref(rec)], "values": {"days_pending": waited, "limit_days": days}}))
    return hits


# --------------------------------------------------------------------------------------------------
# grade changes (after scoring or an approved adjustment)
# --------------------------------------------------------------------------------------------------
def grade_drop(rule, changes, run=None, adjustment=None):
    p = rule.params
    hits = []
    reasons = {}
    if run is not None:
        from foodrisk.scoring.models import GradeChange

        # the deferred job reads the changes with their reasons; the event's changes come without them
        ids = [c["enterprise_id"] for c in changes if "reasons" not in c]
        for chunk in chunks(ids):
            reasons.update(GradeChange.objects.filter(run=run, enterprise_id__in=chunk)
                           .values_list("enterprise_id", "reasons"))
    elif adjustment is not None:
        reasons = {adjustment.enterprise_id: [f"人工复核：{adjustment.reason}"]}
    for change in changes:
        old, new = change.get("old_grade") or "", change.get("new_grade") or ""
        if new not in GRADE_ORDER:
            continue
        if p["to_grades"] and new not in p["to_grades"]:
            continue
        if old in GRADE_ORDER:
            if GRADE_ORDER[new] - GRADE_ORDER[old] < p["min_steps"]:
                continue
        elif not (p["include_first_grading"] and p["to_grades"]):
            continue
        source = f"run:{run.pk}" if run is not None else f"adjustment:{getattr(adjustment, 'pk', '')}"
        eid = change["enterprise_id"]
        summary = f"风险等级由 {old} 降为 {new}" if old else f"首次评级即为 {new}"  # a first grading is no drop
        if change.get("score") is not None:
            summary += f"（得分 {change['score']:.1f}）"
        hits.append(Hit(eid, f"grade:{source}:{old}{new}", summary,
                        {"grades": {"old": old, "new": new, "score": change.get("score")},
                         "run": getattr(run, "pk", None), "adjustment": getattr(adjustment, "pk", None),
                         "reasons": list(change.get("reasons", reasons.get(eid)) or [])[:10]}))
    return hits


RECORD_EVALUATORS = {
    RuleKind.NEW_PENALTY: new_penalty,
    RuleKind.FAILED_INSPECTION: failed_inspection,
    RuleKind.FAILED_SAMPLING: failed_sampling,
    RuleKind.REPAIR_REJECTED: repair_rejected,
    RuleKind.LISTED: listed,
    RuleKind.COMPLAINT_CLUSTER: complaint_cluster,
    RuleKind.INDICATOR_JUMP: indicator_jump,
}
TIME_EVALUATORS = {
    RuleKind.LICENCE_EXPIRING: licence_expiring,
    RuleKind.LICENCE_EXPIRED: licence_expired,
    RuleKind.REPAIR_LAPSED: repair_lapsed,
}


def enterprises(ids):
    out = {}
    for chunk in chunks(ids):
        out.update(Enterprise.objects.select_related("region").in_bulk(chunk))
    return out
