"""Mapping profiles and sources: the shipped profiles as rows, a file's profile detected from its headers."""

from django.db import transaction
from django.utils.translation import gettext as _

from foodrisk.core.services import audit

from .. import mapping
from ..models import MappingProfile, Source
from . import IngestError


def ensure_builtin_profiles():
    """The shipped profiles as MappingProfile rows (created once; later edits in the UI are kept)."""
    existing = set(MappingProfile.objects.filter(builtin=True).values_list("code", flat=True))
    missing = [MappingProfile(code=code, name=mapping.PROFILE_NAMES[code], kind=cfg["kind"], config=cfg, builtin=True)
               for code, cfg in mapping.BUILTIN_PROFILES.items() if code not in existing]
    if missing:
        with transaction.atomic():
            MappingProfile.objects.bulk_create(missing, ignore_conflicts=True)
            audit.record_bulk("ingest.mappingprofile.seed", "ingest.mappingprofile",
                              ({"code": p.code, "kind": p.kind} for p in missing))


def ensure_profile_regions(code, *, user=None):
    """The supervision stations a built-in profile's region value map names (mapping.BUILTIN_REGIONS, e.g.
    Chicago's ZIP areas under 110105), created when the profile is used and their parent county exists; each
    creation audited. Returns how many were created."""
    from foodrisk.core.models import Region
    from foodrisk.core.services import objects

    wanted = mapping.BUILTIN_REGIONS.get(code) or []
    if not wanted:
        return 0
    known = set(Region.objects.filter(code__in=[r["code"] for r in wanted] + [r["parent"] for r in wanted])
                .values_list("code", flat=True))
    created = 0
    for r in wanted:
        if r["code"] in known or r["parent"] not in known:
            continue
        objects.save_instance(Region(code=r["code"], name=r["name"], level="station", parent_id=r["parent"],
                                     full_name=r["name"]), user=user)
        created += 1
    return created


def get_or_create_source(name, *, system="", user=None):
    source = Source.objects.filter(name=name).first()
    if source is None:
        with transaction.atomic():
            source = Source.objects.create(name=name, system=system or name,
                                           key_config={k: v for k, v in mapping.NATURAL_KEY.items()})
            audit.record("ingest.source.create", source, after=audit.snapshot(source), user=user)
    return source


def profile_config(profile_or_code):
    if isinstance(profile_or_code, MappingProfile):
        return profile_or_code.config
    row = MappingProfile.objects.filter(code=profile_or_code).first()
    if row is not None:
        return row.config
    return mapping.BUILTIN_PROFILES[profile_or_code]


def detect(headers):
    """(kind, profile code) from a file's headers, using the stored profiles (built-ins included)."""
    known = dict(mapping.BUILTIN_PROFILES)
    known.update({p.code: p.config for p in MappingProfile.objects.all()})
    code = mapping.detect_profile(headers, known)
    if code is None:
        seen = "、".join(h for h in headers if h) or "—"
        raise IngestError(_("The file's column headers match no mapping profile. Headers found: %(headers)s. Choose "
                            "a profile, or make one in the mapping designer.") % {"headers": seen[:1000]})
    return known[code]["kind"], code

