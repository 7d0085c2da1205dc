from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodrisk.core.fields import EncryptedTextField
from foodrisk.core.querysets import RestrictedQuerySet

from .choices import (
    BusinessForm,
    EnterpriseStatus,
    Grade,
    LicenceKind,
    LicenceStatus,
    LinkMethod,
    Scale,
    StaticTier,
)


class UnicodeJSONEncoder(DjangoJSONEncoder):
    """Store Chinese text as itself, not as \\u escapes, so `icontains` matches on SQLite as on PostgreSQL."""

    def __init__(self, *args, **kwargs):
        kwargs["ensure_ascii"] = False
        super().__init__(*args, **kwargs)


class Lineage(models.Model):
    """Where a row came from: source system, import batch, row, file digest, first/last seen."""

    source = models.CharField(_("source system"), max_length=64, blank=True)
    source_batch = models.BigIntegerField(_("import batch"), null=True, blank=True)
    source_row = models.PositiveIntegerField(_("source row"), null=True, blank=True)
    file_digest = models.CharField(_("file digest"), max_length=64, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen"), auto_now=True)

    class Meta:
        abstract = True


class Enterprise(Lineage):
    """One enterprise, one file (一企一档), keyed by the unified social credit code."""

    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=200, db_index=True)
    former_names = models.JSONField(_("former names"), default=list, blank=True, encoder=UnicodeJSONEncoder)
    name_initials = models.CharField(_("pinyin initials"), max_length=100, blank=True, db_index=True)
    legal_representative = EncryptedTextField(_("legal representative"), blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    region = models.ForeignKey("core.Region", verbose_name=_("region"), on_delete=models.PROTECT,
                               related_name="enterprises")
    business_form = models.CharField(_("business form"), max_length=12, choices=BusinessForm.choices)
    food_categories = models.JSONField(_("food categories"), default=list, blank=True, encoder=UnicodeJSONEncoder)
    scale = models.CharField(_("scale"), max_length=8, choices=Scale.choices, blank=True)
    established_on = models.DateField(_("established"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=EnterpriseStatus.choices, default="active")
    static_tier = models.PositiveSmallIntegerField(_("static risk tier"), choices=StaticTier.choices, null=True,
                                                   blank=True)
    key_supervision = models.BooleanField(_("key supervision"), default=False)
    risk_labels = models.JSONField(_("risk labels"), default=list, blank=True, encoder=UnicodeJSONEncoder)
    current_grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, blank=True)
    current_score = models.FloatField(_("risk score"), null=True, blank=True)
    graded_at = models.DateTimeField(_("graded"), null=True, blank=True)

    scope_field = "region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        permissions = [
            ("unmask_enterprise", _("Can see unmasked sensitive fields")),
            ("export_enterprise", _("Can export enterprise lists")),
        ]
        indexes = [models.Index(fields=["region", "business_form"]), models.Index(fields=["region", "current_grade"])]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("enterprises:enterprise_detail", args=[self.pk])

    @property
    def data_changed_at(self):
        """When the enterprise's archive data last changed (None: never since it was graded from scratch)."""
        change = getattr(self, "data_change", None)  # no row yet: Django raises an AttributeError subclass
        return change.changed_at if change is not None else None


class DataChange(models.Model):
    """When an enterprise's data (its fields, licences or records) last changed: what incremental scoring
    looks at. A narrow table of its own because imports stamp every enterprise they touch in each chunk,
    and rewriting the wide, many-indexed enterprise row for that costs ~35× more on PostgreSQL."""

    enterprise = models.OneToOneField(Enterprise, verbose_name=_("enterprise"), primary_key=True,
                                      on_delete=models.CASCADE, related_name="data_change")
    changed_at = models.DateTimeField(_("data changed"))

    class Meta:
        verbose_name = _("data change")
        verbose_name_plural = _("data changes")

    def __str__(self):
        return f"{self.enterprise_id} @ {self.changed_at:%Y-%m-%d %H:%M}"


class Licence(Lineage):
    enterprise = models.ForeignKey(Enterprise, verbose_name=_("enterprise"), on_delete=models.CASCADE,
                                   related_name="licences")
    licence_no = models.CharField(_("licence number"), max_length=16, unique=True)
    kind = models.CharField(_("kind"), max_length=2, choices=LicenceKind.choices)
    category = models.CharField(_("category"), max_length=200, blank=True)
    issued_on = models.DateField(_("issued"))
    expires_on = models.DateField(_("expires"))
    status = models.CharField(_("status"), max_length=10, choices=LicenceStatus.choices, default="valid")

    scope_field = "enterprise__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_on"]
        verbose_name = _("licence")
        verbose_name_plural = _("licences")

    def __str__(self):
        return self.licence_no

    def get_absolute_url(self):
        return reverse("enterprises:licence_detail", args=[self.pk])


class CrosswalkEntry(models.Model):
    """A source system's own identifier of an enterprise (another system's licence or account number…),
    tied to the enterprise once and reused by every later import that carries it. `scheme` names the
    identifier (chosen in the mapping profile, e.g. "chicago_license"); the pair (scheme, local_id) is unique."""

    scheme = models.CharField(_("identifier scheme"), max_length=50)
    local_id = models.CharField(_("identifier in the source"), max_length=100)
    enterprise = models.ForeignKey(Enterprise, verbose_name=_("enterprise"), on_delete=models.CASCADE,
                                   related_name="crosswalk")
    source = models.CharField(_("source system"), max_length=100, blank=True)
    source_batch = models.BigIntegerField(_("import batch"), null=True, blank=True)
    linked_by = models.CharField(_("linked by"), max_length=20, choices=LinkMethod.choices, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    scope_field = "enterprise__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["scheme", "local_id"]
        verbose_name = _("crosswalk entry")
        verbose_name_plural = _("crosswalk entries")
        constraints = [models.UniqueConstraint(fields=["scheme", "local_id"], name="crosswalk_scheme_local_id")]

    def __str__(self):
        return f"{self.scheme}:{self.local_id}"


class RecordVersion(models.Model):
    """One change of an archive row — an enterprise, a licence or a record (append-only): the changed fields'
    values before and after.

    Written in the transaction of the change, by the batch upserts (ingest) and the single-record saves;
    an unchanged re-import writes none. `changes` is ``{field: {"before": …, "after": …}}`` (JSON values:
    dates as ISO text, decimals as text; encrypted fields masked)."""

    kind = models.CharField(_("kind"), max_length=20)  # enterprises, licences, inspections, …
    natural_key = models.CharField(_("natural key"), max_length=100)
    enterprise = models.ForeignKey(Enterprise, verbose_name=_("enterprise"), on_delete=models.CASCADE,
                                   related_name="record_versions")
    changes = models.JSONField(_("changes"), encoder=UnicodeJSONEncoder)
    source = models.CharField(_("source system"), max_length=64, blank=True)
    source_batch = models.BigIntegerField(_("import batch"), null=True, blank=True)
    source_row = models.PositiveIntegerField(_("source row"), null=True, blank=True)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("changed by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    scope_field = "enterprise__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        db_table = "records_recordversion"  # kept from when it lived in records (moved below it: both write it)
        ordering = ["-changed_at", "-pk"]
        default_permissions = ("view",)  # append-only: written by the services, never edited
        indexes = [models.Index(fields=["kind", "natural_key", "-changed_at"], name="records_version_key_idx")]
        verbose_name = _("record version")
        verbose_name_plural = _("record versions")

    def __str__(self):
        return f"{self.kind} {self.natural_key} {self.changed_at:%Y-%m-%d %H:%M}"
