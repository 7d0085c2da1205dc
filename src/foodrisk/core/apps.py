from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "foodrisk.core"
    label = "core"
    verbose_name = _("System administration")

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        from . import columns, signals  # noqa: F401  (date columns for every table; audit of logins)

        _lazy_filter_labels()

        autodiscover_modules("tasks")  # apps register their job kinds in tasks.py

        from . import navigation as nav

        nav.section("system", _("System administration"), "bi-gear", order=90)
        nav.add("system", _("Organisations"), "core:organisation_list", "core.view_organisation")
        nav.add("system", _("Users"), "core:user_list", "core.view_user")
        nav.add("system", _("Roles"), "core:role_list", "core.view_role")
        nav.add("system", _("Regions"), "core:region_list", "core.view_region")
        nav.add("system", _("Code dictionaries"), "core:dictionarytype_list", "core.view_dictionarytype")
        nav.add("system", _("System parameters"), "core:parameter_list", "core.view_parameter")
        nav.add("system", _("Message templates"), "core:messagetemplate_list", "core.view_messagetemplate")
        nav.add("system", _("Schedules"), "core:schedule_list", "core.view_schedule")
        nav.add("system", _("Jobs"), "core:job_list", "core.view_job")
        nav.add("system", _("Export requests"), "core:exportrequest_list", "core.export_data")
        nav.add("system", _("Notification deliveries"), "core:delivery_list", "core.view_delivery")
        nav.add("system", _("System announcements"), "core:announcement_list", "core.view_announcement")
        nav.add("system", _("Audit log"), "core:auditentry_list", "core.view_auditentry")

        from .seeds import TEMPLATES
        from .services.notifications import register_default

        for code, _name, channels, subject, body in TEMPLATES:
            register_default(code, subject=subject, body=body, channels=channels)

        from django.db.models.signals import post_migrate

        post_migrate.connect(_sync_roles, sender=self)


def _sync_roles(sender, **kwargs):
    """Builtin roles gain the permissions of newly migrated apps."""
    from .models import Role
    from .seeds import seed_roles

    if Role.objects.exists():
        seed_roles()


def _lazy_filter_labels():
    """django-filter names a filter without a label after its model field, in force_str: the first rendering
    fixed the label in that request's language for the whole process (an English page, or a test that activated
    English, left "Kind"/"Status" on every Chinese page after it). The label is made lazy instead, so each
    rendering translates it in its own language."""
    from django.utils.functional import lazy
    from django_filters import filters, utils

    if not getattr(filters.label_for_filter, "foodrisk_lazy", False):
        filters.label_for_filter = lazy(utils.label_for_filter, str)
        filters.label_for_filter.foodrisk_lazy = True
