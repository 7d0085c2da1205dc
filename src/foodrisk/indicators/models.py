"""Indicator-set versions (指标库). The spec is one JSON document: the engine's IndicatorSet dict."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from foodrisk.core.querysets import RestrictedQuerySet
from foodrisk.enterprises.models import UnicodeJSONEncoder

from .choices import SetStatus


class IndicatorSet(models.Model):
    """One version of an indicator set: draft → submitted → approved → active → retired.

    Not region data: every indicator admin sees every set (scope_field = None); `scope_region` only says
    which enterprises an *active* set grades (null = everywhere without a more specific active set).
    """

    code = models.SlugField(_("code"), max_length=63)
    version = models.PositiveIntegerField(_("version"))
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=SetStatus.choices, default=SetStatus.DRAFT,
                              db_index=True)
    scope_region = models.ForeignKey("core.Region", verbose_name=_("applies to region"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     help_text=_("Empty = all regions without a more specific active set."))
    spec = models.JSONField(_("specification"), encoder=UnicodeJSONEncoder)
    profile = models.CharField(_("policy profile"), max_length=64, blank=True)
    based_on = models.ForeignKey("self", verbose_name=_("based on"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="derived")
    change_note = models.TextField(_("change note"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    activated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("activated by"), null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="+")
    activated_at = models.DateTimeField(_("activated"), null=True, blank=True)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)

    scope_field = None
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["code", "-version"]
        verbose_name = _("indicator set")
        verbose_name_plural = _("indicator sets")
        permissions = [
            ("approve_indicatorset", _("Can approve indicator sets")),
            ("activate_indicatorset", _("Can activate or roll back indicator sets")),
            ("preview_indicatorset", _("Can run an impact preview")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="indicators_set_code_version"),
            models.UniqueConstraint(Coalesce(F("scope_region"), Value("*")), condition=Q(status="active"),
                                    name="indicators_one_active_per_scope"),
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"

    def get_absolute_url(self):
        return reverse("indicators:indicatorset_detail", args=[self.pk])

    @property
    def is_editable(self):
        return self.status == SetStatus.DRAFT

    def engine_spec(self):
        from foodrisk.engine import IndicatorSet as EngineSet

        return EngineSet.from_dict(self.spec)

    @property
    def indicators(self):
        return self.spec.get("indicators", [])

    @property
    def rules(self):
        return self.spec.get("rules", [])
