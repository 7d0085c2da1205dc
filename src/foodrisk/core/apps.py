from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "foodrisk.core"
    label = "core"
    verbose_name = _("System administration")

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        _lazy_filter_labels()  # before any FilterSet class is made

        from . import columns, signals  # noqa: F401  (date columns for every table; audit of logins)

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
    """django-filter names a filter without a label after its model field, in force_str, the first time the
    label is read — and a filter read on the FilterSet class itself (drf-spectacular reads base_filters for the
    API schema) has no model yet, so its form field got no label at all and Django showed the English field name
    ("Kind", "Status") on every Chinese page after it, process-wide. Here an automatic filter gets its label when
    its FilterSet class is made, lazily, and a declared filter without label reads it lazily: each page
    translates it in its own language."""
    from django.utils.functional import lazy
    from django_filters import filters, filterset, utils

    if getattr(filterset.BaseFilterSet, "foodrisk_lazy_labels", False):
        return
    lazy_label = lazy(utils.label_for_filter, str)
    filters.label_for_filter = lazy_label
    generated = filterset.BaseFilterSet.filter_for_field.__func__

    def filter_for_field(cls, field, field_name, lookup_expr=None):
        made = generated(cls, field, field_name, lookup_expr)
        if made is not None and made._label is None and cls._meta.model is not None:
            made._label = lazy_label(cls._meta.model, field_name, made.lookup_expr, made.exclude)
        return made

    filterset.BaseFilterSet.filter_for_field = classmethod(filter_for_field)
    filterset.BaseFilterSet.foodrisk_lazy_labels = True
