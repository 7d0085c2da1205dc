from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "foodrisk.indicators"
    label = "indicators"
    verbose_name = _("Indicator library")

    def ready(self):
        from foodrisk.core import navigation as nav

        nav.section("indicators", _("Indicator library"), "bi-sliders", order=25)
        nav.add("indicators", _("Indicator sets"), "indicators:indicatorset_list", "indicators.view_indicatorset")
        nav.add("indicators", _("New from policy profile"), "indicators:indicatorset_add",
                "indicators.add_indicatorset")
