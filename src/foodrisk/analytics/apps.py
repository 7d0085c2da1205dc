from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    """Statistics (统计分析). Only reads the other apps; keeps its own precomputed figures current by reacting
    to their events (core.outbox), so no page scans the record tables."""

    name = "foodrisk.analytics"
    label = "analytics"
    verbose_name = _("Statistics and analysis")

    def ready(self):
        from foodrisk.core import navigation as nav
        from foodrisk.core import outbox
        from foodrisk.core.events import RECORDS_CHANGED
        from foodrisk.enterprises import profile
        from foodrisk.scoring.events import GRADE_CHANGED

        from . import filtersets, homes
        from .enterprise_report import profile_section

        outbox.react(GRADE_CHANGED, "foodrisk.analytics.handlers.on_grade_changed")
        outbox.react(RECORDS_CHANGED, "foodrisk.analytics.handlers.on_records_changed")
        filtersets.contribute()  # the list filters behind the figures (grade on a day, grade when inspected, …)

        nav.section("analytics", _("Statistics and analysis"), "bi-bar-chart-line", order=45)
        nav.add("analytics", _("Statistics dashboard"), "analytics:dashboard", "analytics.view_dashboard")
        nav.add("analytics", _("Grade migration"), "analytics:migration", "analytics.view_dashboard")
        nav.add("analytics", _("Risk rankings"), "analytics:rankings", "analytics.view_dashboard")
        nav.add("analytics", _("Warning handling"), "analytics:warnings", "analytics.view_dashboard")
        nav.add("analytics", _("Supervision effectiveness"), "analytics:supervision", "analytics.view_dashboard")
        nav.add("analytics", _("Data freshness and quality"), "analytics:data_quality", "ingest.view_batch")
        nav.add("analytics", _("Statistical reports"), "analytics:report_list", "analytics.view_report")
        profile.register(profile_section, order=5)
        homes.register()  # the home page of each role (core.homes)
