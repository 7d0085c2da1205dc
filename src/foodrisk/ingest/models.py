"""Sources, mapping profiles, import batches, quarantine, the entity review queue and quality snapshots.

Region scope: a batch carries the uploader's region (null = national scope); quarantined rows, match
candidates and quality snapshots are scoped through their batch.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from foodrisk.core.querysets import RestrictedQuerySet

from .choices import BatchStatus, CandidateStatus, Kind, QuarantineStatus


class Source(models.Model):
    """A source system that delivers files (市场主体登记系统, 12315, an Excel ledger…)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    system = models.CharField(_("system"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    key_config = models.JSONField(_("upsert keys"), default=dict, blank=True,
                                  help_text=_("Natural key per kind, e.g. {\"penalties\": \"decision_no\"}."))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("data source")
        verbose_name_plural = _("data sources")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("ingest:source_detail", args=[self.pk])


class MappingProfileQuerySet(RestrictedQuerySet):
    """Profiles of a region are seen by the users of that region and above; national profiles (no region,
    e.g. the built-ins) are seen by everyone who may view profiles but changed only by national users."""

    def in_scope(self, user):
        prefix = user.scope_prefix
        if prefix == "":
            return self
        if prefix is None:
            return self.none()
        return self.filter(models.Q(region__code__startswith=prefix) | models.Q(region__isnull=True))

    def restrict(self, user, action="view"):
        qs = super().restrict(user, action)
        if action != "view" and user is not None and getattr(user, "scope_prefix", ""):
            qs = qs.filter(region__isnull=False)
        return qs


class MappingProfile(models.Model):
    """How one source's files map onto one kind: columns → fields, constants, value maps, date patterns and
    derived keys (the format is documented in docs/data-formats.md; see profiles.py). Every save keeps the
    previous configuration as a MappingProfileVersion."""

    code = models.SlugField(_("code"), max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=100)
    source = models.ForeignKey(Source, verbose_name=_("source"), null=True, blank=True, on_delete=models.CASCADE,
                               related_name="profiles")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    config = models.JSONField(_("configuration"), default=dict,
                              help_text=_("headers, values, date_formats and derive (see docs/data-formats.md)."))
    builtin = models.BooleanField(_("built-in"), default=False)
    region = models.ForeignKey("core.Region", verbose_name=_("region"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+",
                               help_text=_("Empty: a national profile every region may use."))
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    scope_field = "region"
    objects = MappingProfileQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("mapping profile")
        verbose_name_plural = _("mapping profiles")

    def __str__(self):
        return f"{self.name} ({self.code})"

    def get_absolute_url(self):
        return reverse("ingest:mappingprofile_detail", args=[self.pk])


class MappingProfileVersion(models.Model):
    """One saved configuration of a profile (the current one included): profiles are versioned."""

    profile = models.ForeignKey(MappingProfile, verbose_name=_("mapping profile"), on_delete=models.CASCADE,
                                related_name="versions")
    version = models.PositiveIntegerField(_("version"))
    config = models.JSONField(_("configuration"), default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    scope_field = "profile__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["profile_id", "-version"]
        verbose_name = _("mapping profile version")
        verbose_name_plural = _("mapping profile versions")
        constraints = [models.UniqueConstraint(fields=["profile", "version"], name="profile_version_unique")]

    def __str__(self):
        return f"{self.profile.code} v{self.version}"


class Batch(models.Model):
    """One imported file and what became of its rows. Counts add up:
    accepted_new + accepted_updated + unchanged + merged_duplicates + quarantined + in_review = rows_read."""

    source = models.ForeignKey(Source, verbose_name=_("source"), on_delete=models.PROTECT, related_name="batches")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    profile = models.ForeignKey(MappingProfile, verbose_name=_("mapping profile"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="batches")
    file = models.FileField(_("file"), upload_to="ingest/%Y/%m/")
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    file_digest = models.CharField(_("file digest (SHA-256)"), max_length=64, db_index=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=BatchStatus.choices, default="pending",
                              db_index=True)
    import_day = models.DateField(_("import day"), null=True, blank=True,
                                  help_text=_("Dates after this day are rejected as future dates."))
    parent = models.ForeignKey("self", verbose_name=_("resubmission of"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="resubmissions")
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    accepted_new = models.PositiveIntegerField(_("new"), default=0)
    accepted_updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    merged_duplicates = models.PositiveIntegerField(_("merged duplicates"), default=0)
    quarantined = models.PositiveIntegerField(_("quarantined"), default=0)
    in_review = models.PositiveIntegerField(_("in review"), default=0)
    report = models.JSONField(_("report"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("started by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    job = models.ForeignKey("core.Job", verbose_name=_("job"), null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+")
    region = models.ForeignKey("core.Region", verbose_name=_("region"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True,
                                        help_text=_("Moved with every committed chunk: a running batch that stops "
                                                    "moving has lost its process."))

    scope_field = "region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")

    def __str__(self):
        return f"#{self.pk} {self.file_name}"

    def get_absolute_url(self):
        return reverse("ingest:batch_detail", args=[self.pk])

    @property
    def accepted(self):
        return self.accepted_new + self.accepted_updated + self.unchanged

    @property
    def counts_add_up(self):
        return self.accepted + self.merged_duplicates + self.quarantined + self.in_review == self.rows_read


class QuarantinedRow(models.Model):
    """A rejected row with every reason (`code:field`); it can be corrected and resubmitted, or discarded."""

    batch = models.ForeignKey(Batch, verbose_name=_("batch"), on_delete=models.CASCADE, related_name="quarantine")
    row_no = models.PositiveIntegerField(_("row"))
    raw_data = models.JSONField(_("raw data"), default=dict)
    reasons = models.JSONField(_("reasons"), default=list)
    reason_codes = models.CharField(_("reason codes"), max_length=500, blank=True, db_index=True,
                                    help_text=_("The reasons joined by spaces (for filtering)."))
    status = models.CharField(_("status"), max_length=12, choices=QuarantineStatus.choices, default="open",
                              db_index=True)
    corrected_data = models.JSONField(_("corrected data"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    resubmitted_in = models.ForeignKey(Batch, verbose_name=_("resubmitted in"), null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    scope_field = "batch__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["batch_id", "row_no"]
        verbose_name = _("quarantined row")
        verbose_name_plural = _("quarantined rows")
        indexes = [models.Index(fields=["batch", "status"])]

    def __str__(self):
        return f"#{self.batch_id}:{self.row_no}"

    def get_absolute_url(self):
        return reverse("ingest:quarantinedrow_detail", args=[self.pk])

    @property
    def shown_raw(self):
        """The cells as read, for display: sensitive ones masked."""
        from .services.quarantine import shown

        return shown(self.raw_data)

    @property
    def reason_labels(self):
        """The reasons in words (「检查日期：不是有效日期」), for the pages, the workbook and the API."""
        from .validators import reason_label

        return [reason_label(r, self.batch.kind) for r in self.reasons]


class MatchCandidate(models.Model):
    """A row whose enterprise was matched by name with a grey-zone confidence: a person decides."""

    batch = models.ForeignKey(Batch, verbose_name=_("batch"), on_delete=models.CASCADE, related_name="candidates")
    row_no = models.PositiveIntegerField(_("row"))
    raw_data = models.JSONField(_("raw data"), default=dict)
    name = models.CharField(_("name in the record"), max_length=200, blank=True)
    address = models.CharField(_("address in the record"), max_length=300, blank=True)
    enterprise = models.ForeignKey("enterprises.Enterprise", verbose_name=_("candidate enterprise"),
                                   on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(_("score"))
    status = models.CharField(_("status"), max_length=10, choices=CandidateStatus.choices, default="pending",
                              db_index=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    scope_field = "batch__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["status", "-score", "pk"]
        verbose_name = _("match candidate")
        verbose_name_plural = _("match candidates")

    def __str__(self):
        return f"{self.name} → {self.enterprise_id} ({self.score:.2f})"

    def get_absolute_url(self):
        return reverse("ingest:matchcandidate_detail", args=[self.pk])

    @property
    def shown_raw(self):
        """The cells as read, for display: sensitive ones masked."""
        from .services.quarantine import shown

        return shown(self.raw_data)


class QualitySnapshot(models.Model):
    """Pass rate per key field and findings per reason code of one batch."""

    batch = models.OneToOneField(Batch, verbose_name=_("batch"), on_delete=models.CASCADE, related_name="quality")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    field_stats = models.JSONField(_("field pass rates"), default=dict)
    reason_counts = models.JSONField(_("findings by reason"), default=dict)
    note_counts = models.JSONField(_("notes"), default=dict)
    pass_rate = models.FloatField(_("row pass rate"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    scope_field = "batch__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("quality snapshot")
        verbose_name_plural = _("quality snapshots")

    def __str__(self):
        return f"{self.batch}"
