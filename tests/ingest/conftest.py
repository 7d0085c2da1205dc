import datetime as dt
import io

import pytest

from foodrisk.core.testing import make_regions
from foodrisk.ingest.services import batches
from foodrisk.ingest.validators import org_code_check_char

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
IMPORT_DAY = dt.date(2026, 6, 30)


def make_uscc(seq, region="330102", prefix="91"):
    """A valid USCC (GB 32100 and the embedded GB 11714 organisation code both check)."""
    body8 = f"{seq:08d}"
    first17 = f"{prefix}{region}{body8}{org_code_check_char(body8)}"
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return first17 + USCC_ALPHABET[(31 - total) % 31]


def csv_bytes(headers, rows, encoding="utf-8"):
    import csv

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


ENT_HEADERS = ["统一社会信用代码", "企业名称", "曾用名", "法定代表人", "经营地址", "行政区划代码", "主体业态", "食品类别", "规模",
               "成立日期", "登记状态", "静态风险等级", "重点监管"]


def ent_row(seq, name, region="330102", address="浙江省杭州市上城区解放路1号", form="餐饮服务"):
    return [make_uscc(seq), name, "", "张三", address, region, form, "热食类食品制售", "小型", "2019-05-01", "存续", "Ⅱ", "否"]


def run_import(content, name, *, kind="auto", source="test", user=None, profile=None, day=IMPORT_DAY,
               confirm_duplicate=True):
    """Import a file now (tests re-import the same file on purpose: the duplicate check has its own tests)."""
    batch = batches.create_batch(user=user, source=source, kind=kind, content=content, file_name=name,
                                  profile=profile, import_day=day, confirm_duplicate=confirm_duplicate)
    batches.run_batch(batch)
    batch.refresh_from_db()
    return batch


@pytest.fixture
def regions(db):
    return make_regions()


@pytest.fixture
def enterprises(regions):
    """Three enterprises in 上城区 (330102) and one in 西湖区 (330106)."""
    rows = [ent_row(1, "杭州老王面馆有限责任公司"), ent_row(2, "杭州鑫民餐饮服务有限公司", address="浙江省杭州市上城区江南大道715号"),
            ent_row(3, "德正（杭州）便利店有限公司", form="食品销售", address="浙江省杭州市上城区金城路533号"),
            ent_row(4, "西湖区阿明小吃店", region="330106", address="浙江省杭州市西湖区文二路524号")]
    batch = run_import(csv_bytes(ENT_HEADERS, rows), "enterprises.csv")
    assert batch.accepted_new == 4, batch.report
    return batch


def assert_counts(batch):
    total = (batch.accepted_new + batch.accepted_updated + batch.unchanged + batch.merged_duplicates
             + batch.quarantined + batch.in_review)
    assert total == batch.rows_read, batches.counts(batch)
