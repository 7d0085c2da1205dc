from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "foodrisk.alerts"
    label = "alerts"
    verbose_name = _("Risk alerts")

    def ready(self):
        from foodrisk.core import navigation as nav
        from foodrisk.core import outbox
        from foodrisk.core.events import RECORDS_CHANGED
        from foodrisk.scoring.events import GRADE_CHANGED

        outbox.react(RECORDS_CHANGED, "foodrisk.alerts.handlers.on_records_changed")
        outbox.react(GRADE_CHANGED, "foodrisk.alerts.handlers.on_grade_changed")

        from foodrisk.core.services.notifications import register_default

        from .seeds import DIGEST_TEMPLATES

        for code, _name, channels, subject, body in DIGEST_TEMPLATES:  # a digest is sent even without its row
            register_default(code, subject=subject, body=body, channels=channels)

        nav.section("alerts", _("Risk alerts"), "bi-exclamation-triangle", order=35)
        nav.add("alerts", _("My alerts"), "alerts:my_alerts", "alerts.view_alert")
        nav.add("alerts", _("My organisation's alerts"), "alerts:org_alerts", "alerts.view_alert")
        nav.add("alerts", _("All alerts"), "alerts:alert_list", "alerts.view_alert")
        nav.add("alerts", _("Warning rules"), "alerts:warningrule_list", "alerts.view_warningrule")
