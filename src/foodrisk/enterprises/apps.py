from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterprisesConfig(AppConfig):
    name = "foodrisk.enterprises"
    label = "enterprises"
    verbose_name = _("Enterprise archive")

    def ready(self):
        from foodrisk.core import navigation as nav

        nav.section("archive", _("Enterprise archive"), "bi-building", order=10)
        nav.add("archive", _("Enterprises"), "enterprises:enterprise_list", "enterprises.view_enterprise")
        nav.add("archive", _("Licences"), "enterprises:licence_list", "enterprises.view_licence")

        from . import profile

        profile.register(profile.crosswalk_section, order=45)
