"""A foreign "district system" export, built here: GBK CSV, Chinese headers that are not ours, district names
instead of codes, no record numbers, complaints and penalties with name + address only, counts written as `1.0`.
A city data admin makes a profile per file over the designer's API (suggest → correct → save) and imports every
file unedited; every row is accounted for, and importing the same files again changes nothing."""

import json

from django.core.files.base import ContentFile
from django.test import override_settings

from foodrisk.core.models import Organisation, User
from foodrisk.core.testing import PASSWORD, ScopedTestCase, grant
from foodrisk.enterprises.models import Enterprise
from foodrisk.ingest.models import Batch
from foodrisk.records.models import Complaint, Inspection, Penalty, SamplingTest

from .conftest import csv_bytes, make_uscc

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
                         "QUEUES": ["default", "scoring", "ingest"]}}
SHOPS = [("杭州老王面馆有限公司", "上城区", "解放路1号", "餐饮"), ("杭州鑫民超市", "上城区", "江南大道715号", "超市"),
         ("西湖区阿明小吃店", "西湖区", "文二路524号", "餐饮"), ("杭州第一中学食堂", "西湖区", "文三路8号", "食堂"),
         ("宁波海曙点心店", "海曙区", "中山西路9号", "餐饮")]  # 海曙区 lies outside 杭州市: refused, not guessed

FILES = {
    "enterprises": (["单位名称", "统一代码", "所在区县", "经营场所", "经营类别", "开业时间"],
                    [[n, make_uscc(i + 1, region="330102"), d, f"浙江省杭州市{d}{a}", k, "2019/5/1"]
                     for i, (n, d, a, k) in enumerate(SHOPS)]),
    "inspections": (["被检查单位", "单位地址", "检查时间", "检查结论", "发现问题数"],
                    [["杭州老王面馆有限责任公司", "浙江省杭州市上城区解放路1号", "2024年3月5日", "合格", "0.0"],
                     ["杭州鑫民超市", "浙江省杭州市上城区江南大道715号", "2024年3月6日", "基本合格", "1.0"],
                     ["西湖区阿明小吃店", "浙江省杭州市西湖区文二路524号", "2024年4月1日", "不合格", "3.0"],
                     ["不存在的饭店", "浙江省杭州市西湖区某路1号", "2024年4月2日", "合格", "0.0"]]),
    "penalties": (["当事人名称", "当事人地址", "处罚时间", "案由", "情节", "罚没金额"],
                  [["西湖区阿明小吃店", "浙江省杭州市西湖区文二路524号", "20240410", "超范围经营", "一般", "2000.0"],
                   ["杭州老王面馆有限公司", "浙江省杭州市上城区解放路1号", "20240411", "未按规定索证索票", "较重", "5000"]]),
    "complaints": (["被投诉单位", "地址", "投诉时间", "渠道", "是否属实"],
                   [["杭州老王面馆有限公司", "浙江省杭州市上城区解放路1号", "2024-02-01", "12315", "属实"],
                    ["杭州鑫民超市", "浙江省杭州市上城区江南大道715号", "2024-02-02", "网上", "不属实"],
                    ["杭州第一中学食堂", "浙江省杭州市西湖区文三路8号", "2024-02-03", "12345", "属实"]]),
    "sampling_tests": (["被抽检单位", "地址", "抽样时间", "样品", "结论", "抽检级别"],
                       [["杭州鑫民超市", "浙江省杭州市上城区江南大道715号", "2024-05-01", "酱油", "合格", "区级"],
                        ["杭州鑫民超市", "浙江省杭州市上城区江南大道715号", "2024-05-01", "食醋", "不合格", "区级"]]),
}
# what a person chooses in the designer where the suggestions are not enough
CHOICES = {
    "enterprises": {"columns": {"统一代码": ["uscc"], "所在区县": ["region_code"], "经营类别": ["business_form"],
                                "开业时间": ["established_on"], "经营场所": ["address"], "单位名称": ["name"]},
                    "values": {"business_form": {"餐饮": "catering", "超市": "sales", "食堂": "canteen"}}},
    "inspections": {"columns": {"被检查单位": ["enterprise_name"], "单位地址": ["enterprise_address"],
                                "检查时间": ["inspected_on"], "检查结论": ["result"], "发现问题数": ["general_items_failed"]},
                    "values": {"result": {"合格": "pass", "基本合格": "basic", "不合格": "fail"}},
                    "constants": {"kind": "routine", "organisation": "区市场监管局"},
                    "derive": {"inspection_no": {"hash": ["enterprise_name", "inspected_on"], "prefix": "DST-"}}},
    "penalties": {"columns": {"当事人名称": ["enterprise_name"], "当事人地址": ["enterprise_address"],
                              "处罚时间": ["decided_on"], "案由": ["violation_type"], "情节": ["severity"],
                              "罚没金额": ["fine"]},
                  "dates": {"处罚时间": "%Y%m%d"},
                  "derive": {"decision_no": {"hash": ["enterprise_name", "decided_on", "violation_type"],
                                             "prefix": "DST-"}}},
    "complaints": {"columns": {"被投诉单位": ["enterprise_name"], "地址": ["enterprise_address"],
                               "投诉时间": ["received_on"], "渠道": ["channel"], "是否属实": ["verified"]},
                   "values": {"verified": {"属实": True, "不属实": False}, "channel": {"网上": "online"}},
                   "derive": {"complaint_no": {"hash": ["enterprise_name", "received_on"], "prefix": "DST-"}}},
    "sampling_tests": {"columns": {"被抽检单位": ["enterprise_name"], "地址": ["enterprise_address"],
                                   "抽样时间": ["sampled_on"], "样品": ["product"], "结论": ["result"],
                                   "抽检级别": ["level"]},
                       "values": {"level": {"区级": "county"}},
                       "derive": {"report_no": {"hash": ["enterprise_name", "sampled_on", "product"],
                                                "prefix": "DST-"}}},
}


class DistrictExport(ScopedTestCase):
    def setUp(self):
        city = Organisation.objects.create(code="HZ", name="杭州市局", region=self.regions["330100"])
        self.user = grant(User.objects.create_user("city", password=PASSWORD, organisation=city),
                          "ingest.view_mappingprofile", "ingest.add_mappingprofile", "ingest.add_batch",
                          "ingest.view_batch")
        self.client.force_login(self.user)

    def make_profile(self, kind):
        headers, rows = FILES[kind]
        sample = csv_bytes(headers, rows, encoding="gbk")
        suggested = self.client.post("/api/ingest/profiles/suggest/", {"file": ContentFile(sample, name="s.csv"),
                                                                       "kind": kind}).json()
        assert suggested["detected"]["encoding"] == "gbk"
        config = suggested["config"]
        for key, value in CHOICES[kind].items():
            config.setdefault(key, {}).update(value)
        dry = self.client.post("/api/ingest/profiles/dry-run/", {"file": ContentFile(sample, name="s.csv"),
                                                                 "config": json.dumps(config, ensure_ascii=False)})
        assert dry.status_code == 200, dry.content.decode()
        response = self.client.post("/api/ingest/profiles/", {"code": f"district-{kind}".replace("_", "-"),
                                                              "name": f"区系统{kind}", "config": config},
                                    content_type="application/json")
        assert response.status_code == 201, response.content.decode()
        return response.json()["code"], sample

    def import_file(self, kind, code, sample, name, confirm=False):
        with override_settings(TASKS=IMMEDIATE), self.captureOnCommitCallbacks(execute=True):
            response = self.client.post("/api/ingest/batches/", {"file": ContentFile(sample, name=name),
                                                                 "source": "区系统", "kind": kind, "profile": code,
                                                                 "import_day": "2026-06-30",
                                                                 "confirm_duplicate": confirm})
        if response.status_code == 409 and not confirm:
            return response
        assert response.status_code == 202, response.content.decode()
        batch = Batch.objects.get(pk=response.json()["id"])
        assert batch.status == "succeeded", batch.error
        assert batch.counts_add_up
        assert batch.rows_read == len(FILES[kind][1])
        return batch

    def test_every_file_imports_unedited_and_every_row_is_accounted_for(self):
        made = {kind: self.make_profile(kind) for kind in FILES}
        batches = {kind: self.import_file(kind, code, sample, f"{kind}.csv") for kind, (code, sample) in made.items()}
        ent = batches["enterprises"]
        assert (ent.accepted_new, ent.quarantined) == (4, 1)
        assert ent.report["reasons"] == {"region_invalid:region_code": 1}
        assert dict(Enterprise.objects.values_list("name", "region_id")) == {
            "杭州老王面馆有限公司": "330102", "杭州鑫民超市": "330102", "西湖区阿明小吃店": "330106", "杭州第一中学食堂": "330106"}
        ins = batches["inspections"]
        assert (ins.accepted_new, ins.quarantined, ins.report["links"]) == (3, 1, {"name": 3})
        assert ins.report["reasons"] == {"entity_unresolved:enterprise_name": 1}
        assert sorted(Inspection.objects.values_list("general_items_failed", flat=True)) == [0, 1, 3]
        assert Inspection.objects.filter(inspection_no__startswith="DST-").count() == 3
        pen = batches["penalties"]
        assert (pen.accepted_new, pen.report["links"]) == (2, {"name": 2})
        assert sorted(str(f) for f in Penalty.objects.values_list("fine", flat=True)) == ["2000.00", "5000.00"]
        com = batches["complaints"]
        assert (com.accepted_new, com.report["links"]) == (3, {"name": 3})
        assert Complaint.objects.filter(verified=True).count() == 2
        sam = batches["sampling_tests"]
        assert (sam.accepted_new, sam.report["links"]) == (2, {"name": 2})
        assert SamplingTest.objects.filter(result="fail", level="county").count() == 1
        # the same files again (derived keys are stable): nothing new
        for kind, (code, sample) in made.items():
            refused = self.import_file(kind, code, sample, f"{kind}-again.csv")
            assert refused.status_code == 409 and refused.json()["duplicate_of"] == batches[kind].pk
            again = self.import_file(kind, code, sample, f"{kind}-again.csv", confirm=True)
            assert again.accepted_new == 0 and again.unchanged == batches[kind].accepted_new, (kind, again.report)
