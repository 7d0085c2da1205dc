"""Test helpers of the records app (the enterprises app's make_enterprise/make_licence are below it)."""

import datetime as dt

from foodrisk.enterprises.testing import _seq

from .models import RECORD_KINDS, ListEntry


def make_record(kind, enterprise, **fields):
    """One record of `kind` ("penalties", …) with plausible values; override any field."""
    n = next(_seq)
    day = dt.date(2025, 1, 1) + dt.timedelta(days=n % 300)
    values = {
        "inspections": {"inspection_no": f"JC-2025-{enterprise.region_id}-{n:05d}", "inspected_on": day,
                        "kind": "routine", "result": "basic"},
        "sampling_tests": {"report_no": f"CJ-2025-{enterprise.region_id}-{n:05d}", "sampled_on": day,
                           "level": "county", "product": "酱油", "result": "pass"},
        "penalties": {"decision_no": f"杭市监罚〔2025〕{enterprise.region_id}-{n:05d}号", "decided_on": day,
                      "violation_type": "经营超过保质期食品", "severity": "general", "fine": 5000},
        "complaints": {"complaint_no": f"TS-2025-{enterprise.region_id}-{n:05d}", "received_on": day,
                       "channel": "12315", "verified": True},
        "credit_repairs": {"repair_no": f"XF-2025-{enterprise.region_id}-{n:05d}", "target_kind": "penalties",
                           "target_no": "杭市监罚〔2024〕1号", "applied_on": day},
        "list_entries": {"list_kind": "abnormal", "listed_on": day},
    }[kind]
    values.update(fields)
    model = RECORD_KINDS[kind]
    if model is ListEntry and "entry_key" not in values:
        values["entry_key"] = ListEntry.make_key(enterprise.uscc, values["list_kind"], values["listed_on"])
    return model.objects.create(enterprise=enterprise, **values)
