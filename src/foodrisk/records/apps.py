from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "foodrisk.records"
    label = "records"
    verbose_name = _("Supervision records")

    def ready(self):
        from foodrisk.core import navigation as nav
        from foodrisk.enterprises import profile

        from . import timeline

        nav.section("records", _("Supervision records"), "bi-journal-text", order=20)
        nav.add("records", _("Inspections"), "records:inspection_list", "records.view_inspection")
        nav.add("records", _("Sampling tests"), "records:samplingtest_list", "records.view_samplingtest")
        nav.add("records", _("Administrative penalties"), "records:penalty_list", "records.view_penalty")
        nav.add("records", _("Complaints"), "records:complaint_list", "records.view_complaint")
        nav.add("records", _("Credit repairs"), "records:creditrepair_list", "records.view_creditrepair")
        nav.add("records", _("List entries"), "records:listentry_list", "records.view_listentry")
        nav.add("records", _("Attachments"), "records:attachment_list", "records.view_attachment")

        profile.register(timeline.timeline_section, order=10)
        profile.register(timeline.attachments_section, order=40)
