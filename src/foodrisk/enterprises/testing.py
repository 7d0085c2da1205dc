"""Factories for tests of the archive (enterprises, licences, records). Direct ORM writes: test setup only."""

import datetime as dt
import itertools

from stdnum.cn import uscc as uscc_check

from .models import Enterprise, Licence

_seq = itertools.count(1)


def make_uscc(region_code="330102", n=None):
    """A valid USCC (GB 32100 check digit) registered in the region's county."""
    n = next(_seq) if n is None else n
    body = f"91{region_code[:6]}{n:09d}"
    return body + uscc_check.calc_check_digit(body)


def make_enterprise(region, name=None, **fields):
    n = next(_seq)
    name = name or f"测试食品企业{n}号"
    from .services import name_initials

    defaults = {"uscc": make_uscc(region.code, n), "name": name, "name_initials": name_initials(name),
                "business_form": "catering", "legal_representative": "张三丰"}
    defaults.update(fields)
    return Enterprise.objects.create(region=region, **defaults)


def make_licence(enterprise, **fields):
    n = next(_seq)
    defaults = {"licence_no": f"JY{n:014d}", "kind": "JY", "issued_on": dt.date(2024, 1, 1),
                "expires_on": dt.date(2029, 1, 1)}
    defaults.update(fields)
    return Licence.objects.create(enterprise=enterprise, **defaults)


def make_record(kind, enterprise, **fields):
    """One record of `kind` ("penalties", …) with plausible values; override any field."""
    from foodrisk.records.models import RECORD_KINDS, ListEntry

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
