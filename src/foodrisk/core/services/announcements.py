"""System announcements (系统公告): an administrator publishes one to all users or to chosen organisations; it
shows on each recipient's home page until that user marks it read. Publishing and withdrawing are audited;
marking read is the user's own bookkeeping, not an administrative act, and is not."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Announcement, AnnouncementRead, Organisation
from ..models.announcements import AnnouncementAudience
from . import audit


def covering_codes(region_code):
    """The region codes whose jurisdiction contains `region_code` (querysets.region_prefix turned round): an
    organisation of 330102 is reached by announcements to organisations of 330102, 330100 and 330000."""
    if not region_code:
        return []
    return sorted({region_code, region_code[:6], region_code[:4] + "00", region_code[:2] + "0000"})


def _state(announcement):
    state = audit.snapshot(announcement)
    state["organisations"] = sorted(announcement.organisations.values_list("code", flat=True))
    return state


def publish(*, user, title, body="", level="normal", audience=AnnouncementAudience.ORGANISATIONS,
            organisations=(), expires_at=None):
    """Publish at once. A user with a regional scope addresses organisations within it; "all users" reaches
    the whole country, so only a nationwide administrator may choose it."""
    organisations = list(organisations)
    now = timezone.now()
    announcement = Announcement(title=title, body=body, level=level, audience=audience, expires_at=expires_at,
                                published_by=user, published_at=now)
    errors = {}
    if audience == AnnouncementAudience.ALL:
        organisations = []
        if user.scope_prefix != "":
            errors["audience"] = _("Only a nationwide administrator may address all users; choose organisations.")
    elif not organisations:
        errors["organisations"] = _("Choose at least one organisation.")
    else:  # the forms offer only these; the service holds the line for any other caller
        allowed = set(Organisation.objects.in_scope(user).filter(pk__in=[o.pk for o in organisations])
                      .values_list("pk", flat=True))
        if any(o.pk not in allowed for o in organisations):
            errors["organisations"] = _("You may only address organisations within your jurisdiction.")
    if expires_at is not None and expires_at <= now:
        errors["expires_at"] = _("The expiry time must be in the future.")
    try:
        announcement.full_clean()
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        announcement.save()
        announcement.organisations.set(organisations)
        audit.record("core.announcement.publish", announcement, after=_state(announcement), user=user,
                     region_code=user.scope_code or "")
    return announcement


def withdraw(announcement, *, user):
    """Take it off every home page (kept, with who read it, for the record)."""
    with transaction.atomic():
        announcement = Announcement.objects.select_for_update().get(pk=announcement.pk)
        if announcement.withdrawn_at is not None:
            raise ValidationError(_("This announcement has already been withdrawn."))
        before = _state(announcement)
        announcement.withdrawn_at = timezone.now()
        announcement.save(update_fields=["withdrawn_at"])
        audit.record("core.announcement.withdraw", announcement, before=before, after=_state(announcement),
                     user=user, region_code=user.scope_code or "")
    return announcement


def visible_to(user, now=None):
    """Announcements the user receives: published, not withdrawn, not expired, and addressed to all users or to
    an organisation whose jurisdiction contains the user's organisation."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Announcement.objects.none()
    now = now or timezone.now()
    audience = Q(audience=AnnouncementAudience.ALL)
    if user.organisation_id:
        targets = Announcement.organisations.through.objects.filter(
            organisation__region_id__in=covering_codes(user.organisation.region_id))
        audience |= Q(audience=AnnouncementAudience.ORGANISATIONS, pk__in=targets.values("announcement_id"))
    return (Announcement.objects.filter(audience, withdrawn_at__isnull=True, published_at__lte=now)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)))


def with_read(queryset, user):
    """Annotate `is_read` (the user has marked it read)."""
    return queryset.annotate(is_read=Exists(AnnouncementRead.objects.filter(announcement=OuterRef("pk"), user=user)))


def unread_for(user, now=None):
    return with_read(visible_to(user, now), user).filter(is_read=False)


def mark_read(announcement, *, user):
    """Idempotent: a second click (or a second tab) changes nothing."""
    read, _created = AnnouncementRead.objects.get_or_create(announcement=announcement, user=user)
    return read
