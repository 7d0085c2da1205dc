from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "foodrisk.scoring"
    label = "scoring"
    verbose_name = _("Scoring and grading")

    def ready(self):
        from foodrisk.core import health, metrics
        from foodrisk.core import navigation as nav
        from foodrisk.indicators.events import indicator_set_activated
        from foodrisk.records.events import records_changed

        from . import handlers, ops

        health.register("scoring_run", ops.scoring_run_age, critical=False)
        metrics.register_collector(ops.scoring_metrics)

        records_changed.connect(handlers.on_records_changed, dispatch_uid="scoring.records_changed")
        indicator_set_activated.connect(handlers.on_indicator_set_activated,
                                        dispatch_uid="scoring.indicator_set_activated")

        nav.section("scoring", _("Scoring and grading"), "bi-speedometer2", order=30)
        nav.add("scoring", _("Grade overview"), "scoring:dashboard", "scoring.view_score")
        nav.add("scoring", _("Scores"), "scoring:score_list", "scoring.view_score")
        nav.add("scoring", _("Scoring runs"), "scoring:scoringrun_list", "scoring.view_scoringrun")
        nav.add("scoring", _("Grade adjustments"), "scoring:gradeadjustment_list", "scoring.view_gradeadjustment")
        nav.add("scoring", _("Grade changes"), "scoring:gradechange_list", "scoring.view_gradechange")
        nav.add("scoring", _("Risk models"), "scoring:modelversion_list", "scoring.view_modelversion")
