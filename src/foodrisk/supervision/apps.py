from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "foodrisk.supervision"
    label = "supervision"
    verbose_name = _("Graded supervision")

    def ready(self):
        from foodrisk.core import navigation as nav
        from foodrisk.enterprises import profile

        from . import handlers, sections

        profile.register(sections.measures_section, order=25)
        handlers.connect()

        nav.section("supervision", _("Graded supervision"), "bi-clipboard2-check", order=40)
        nav.add("supervision", _("My tasks"), "supervision:my_tasks", "supervision.view_task")
        nav.add("supervision", _("Task ledger"), "supervision:task_list", "supervision.view_task")
        nav.add("supervision", _("Rectifications"), "supervision:rectification_list", "supervision.view_task")
        nav.add("supervision", _("Credit repairs"), "supervision:repaircase_list", "supervision.view_repaircase")
        nav.add("supervision", _("Inspection plans"), "supervision:inspectionplan_list",
                "supervision.view_inspectionplan")
        nav.add("supervision", _("Random draws"), "supervision:randomdraw_list", "supervision.view_randomdraw")
        nav.add("supervision", _("Conflicts of interest"), "supervision:conflictofinterest_list",
                "supervision.view_conflictofinterest")
        nav.add("supervision", _("Inspector absences"), "supervision:inspectorabsence_list",
                "supervision.view_inspectorabsence")
        nav.add("supervision", _("Supervision profiles"), "supervision:supervisionprofile_list",
                "supervision.view_supervisionprofile")
        nav.add("supervision", _("Checklists"), "supervision:checklisttemplate_list",
                "supervision.view_checklisttemplate")
