from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SharingConfig(AppConfig):
    name = "foodrisk.sharing"
    label = "sharing"
    verbose_name = _("Data sharing")

    def ready(self):
        from foodrisk.core import navigation as nav

        nav.section("sharing", _("Data sharing"), "bi-share", order=70)
        nav.add("sharing", _("Client systems"), "sharing:clientsystem_list", "sharing.view_clientsystem")
        nav.add("sharing", _("Share catalogue"), "sharing:catalogue", "sharing.view_clientsystem")
        nav.add("sharing", _("Call log"), "sharing:sharingcall_list", "sharing.view_sharingcall")
        nav.add("sharing", _("Webhook deliveries"), "sharing:delivery_list", "sharing.view_delivery")

        from . import webhooks

        webhooks.connect()
        nav.add("sharing", _("Call statistics"), "sharing:call_stats", "sharing.view_sharingcall")
        nav.add("sharing", _("Call alarms"), "sharing:sharingalarm_list", "sharing.view_sharingalarm")
        nav.add("sharing", _("Exchange exports"), "sharing:exchangeexport_list", "sharing.view_exchangeexport")

        from foodrisk.core.services.notifications import register_default

        from .alarms import TEMPLATE

        register_default(TEMPLATE, subject="【共享接口告警】{{ kind }}：{{ subject }}",
                         body="{{ start }}—{{ end }} 观测值 {{ observed }}，阈值 {{ threshold }}。请核查该接入系统或来源地址的调用。",
                         channels=("inapp", "email"))
