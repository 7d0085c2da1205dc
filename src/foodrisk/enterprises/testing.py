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
