from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "foodrisk.scoring"
    label = "scoring"
    verbose_name = _("Scoring and grading")

    def ready(self):
        from foodrisk.core import health, metrics, outbox
        from foodrisk.core import navigation as nav
        from foodrisk.core.events import RECORDS_CHANGED
        from foodrisk.core.services.jobs import job_abandoned
        from foodrisk.indicators.events import INDICATOR_SET_ACTIVATED

        from . import handlers, ops

        health.register("scoring_run", ops.scoring_run_age, critical=False)
        metrics.register_collector(ops.scoring_metrics)

        outbox.react(RECORDS_CHANGED, "foodrisk.scoring.handlers.on_records_changed", queue="scoring")
        outbox.react(INDICATOR_SET_ACTIVATED, "foodrisk.scoring.handlers.on_indicator_set_activated")
        job_abandoned.connect(handlers.on_job_abandoned, dispatch_uid="scoring.job_abandoned")

        nav.section("scoring", _("Scoring and grading"), "bi-speedometer2", order=30)
        nav.add("scoring", _("Grade overview"), "scoring:dashboard", "scoring.view_score")
        nav.add("scoring", _("Scores"), "scoring:score_list", "scoring.view_score")
        nav.add("scoring", _("Scoring runs"), "scoring:scoringrun_list", "scoring.view_scoringrun")
        nav.add("scoring", _("Grade adjustments"), "scoring:gradeadjustment_list", "scoring.view_gradeadjustment")
        nav.add("scoring", _("Grade changes"), "scoring:gradechange_list", "scoring.view_gradechange")
        nav.add("scoring", _("Risk models"), "scoring:modelversion_list", "scoring.view_modelversion")
