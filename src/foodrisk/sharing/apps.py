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
