"""Mapping profiles as a person makes them: save (validated, versioned, audited, region-scoped), export and
import as a file, analyse a sample file, turn the designer's choices into a profile, and dry-run a profile on
a sample (every row's outcome and how it was linked, nothing written).

The designer page, the profile API and the tests all go through these functions."""

import json

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from foodrisk.core.models import Region
from foodrisk.core.services import audit
from foodrisk.core.validators import is_digits

from .. import mapping, profile_format, readers
from .. import normalisers as N
from ..models import Batch, MappingProfile, MappingProfileVersion
from . import held
from .pipeline import Pipeline, blank_row, region_names
from .profiles import get_or_create_source

SAMPLE_ROWS = 200  # rows of a sample the designer shows, suggests from and dry-runs
EXPORT_FORMAT = "foodrisk.mapping-profile"


def _regions():
    return set(Region.objects.filter(active=True).values_list("code", flat=True))


def _user_region(user):
    if user is None or not getattr(user, "scope_prefix", ""):
        return None
    return Region.objects.filter(pk=user.scope_code).first()


def save_profile(*, config, user=None, profile=None, code="", name="", source=None, region=None):
    """Create a profile (profile=None) or save a new version of one. The configuration is validated first
    (ProfileInvalid with Chinese messages); the previous versions are kept. A new profile belongs to the
    user's region unless a national user names one (None: national)."""
    cfg = profile_format.to_jsonable(profile_format.validate(config, regions=_regions()))
    with transaction.atomic():
        if profile is None:
            code = slugify(code or "")[:80]
            if not code:
                raise profile_format.ProfileInvalid([_("Give the profile a code (letters, digits, hyphens).")])
            if MappingProfile.objects.filter(code=code).exists():
                raise profile_format.ProfileInvalid([_("The profile code “%(code)s” exists already.") % {"code": code}])
            scope_region = _user_region(user)
            if scope_region is not None and (region is None or not region.code.startswith(scope_region.prefix)):
                region = scope_region  # a district user's profiles stay in their district
            profile = MappingProfile(code=code, name=(name or code)[:100], kind=cfg["kind"], config=cfg,
                                     source=source, region=region, version=1)
            profile.save()
            action, before = "ingest.mappingprofile.create", None
        else:
            profile = MappingProfile.objects.select_for_update().get(pk=profile.pk)
            before = audit.snapshot(profile)
            if cfg["kind"] != profile.kind:
                raise profile_format.ProfileInvalid([_("The record kind of an existing profile cannot change.")])
            if name:
                profile.name = name[:100]
            if source is not None:
                profile.source = source
            profile.version += 1
            profile.config = cfg
            profile.save()
            action = "ingest.mappingprofile.update"
        MappingProfileVersion.objects.create(profile=profile, version=profile.version, config=cfg,
                                             created_by=user if user is not None and user.is_authenticated else None)
        audit.record(action, profile, before=before, after=audit.snapshot(profile), user=user,
                     details={"version": profile.version}, region_code=profile.region_id or "")
    return profile


def save_form_profile(form, *, user=None):
    """The edit form's save (JSON configuration): through save_profile, so it is validated and versioned."""
    data = form.cleaned_data
    try:
        if form.instance.pk:
            return save_profile(config=data["config"], user=user, profile=form.instance, name=data["name"],
                                source=data.get("source"))
        return save_profile(config=data["config"], user=user, code=data["code"], name=data["name"],
                            source=data.get("source"))
    except profile_format.ProfileInvalid as exc:
        raise ValidationError({"config": exc.errors}) from exc


def export_profile(profile):
    """The profile as a JSON document (bytes) another installation can import."""
    doc = {"format": EXPORT_FORMAT, "code": profile.code, "name": profile.name, "kind": profile.kind,
           "version": profile.version, "config": profile_format.to_jsonable(profile.config)}
    return json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")


def import_profile(content, *, user=None, code=""):
    """A profile from an exported file: a new profile, or a new version of the profile with the same code that
    the user may change."""
    try:
        doc = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise profile_format.ProfileInvalid([_("The file is not valid JSON (UTF-8).")]) from None
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT or not isinstance(doc.get("config"), dict):
        raise profile_format.ProfileInvalid([_("The file is not an exported mapping profile (format or config missing).")])
    config = dict(doc["config"], kind=doc["config"].get("kind") or doc.get("kind"))
    code = slugify(code or doc.get("code") or "")[:80]
    existing = MappingProfile.objects.restrict(user, "change").filter(code=code).first() if user else None
    if existing is not None and not existing.builtin:
        return save_profile(config=config, user=user, profile=existing, name=doc.get("name") or "")
    return save_profile(config=config, user=user, code=code, name=doc.get("name") or code)


# ==================================================================================== a sample file
def read_sample(content, file_name, *, sheet=None, header_row=None):
    """(table, detected) for a sample: the file read whole (a workbook's chosen sheet, default the first), and
    what was detected (format, encoding, header row, sheets). header_row None: found — the first row with ≥ 2
    filled cells and at least 60 % as wide as the widest of the first 20 (title lines above it are skipped).
    Raises readers.UnreadableFile."""
    table = readers.read_bytes(content, file_name, sheet=sheet)
    if header_row is None:
        header_row = 1
        rows = [table.headers, *table.rows]
        widest = max((sum(1 for c in r if c not in (None, "")) for r in rows[:20]), default=0)
        for i, row in enumerate(rows[:20]):
            filled = sum(1 for c in row if c not in (None, ""))
            if filled >= 2 and filled >= 0.6 * widest:
                header_row = i + 1
                break
    if header_row > 1:
        table = readers.with_header_row(table, header_row)
    sheets = readers.sheet_names(content, file_name)
    detected = {"format": table.fmt, "encoding": table.encoding or "", "header_row": header_row,
                "sheets": sheets, "sheet": (str(sheet) if sheet not in (None, "") else sheets[0]) if sheets else "",
                "rows": len(table.rows)}
    return table, detected


def read_choices(detected):
    """The profile's "read" options for what the sample was read with: only what differs from the default."""
    read = {}
    if detected.get("sheets") and detected["sheet"] != detected["sheets"][0]:
        read["sheet"] = detected["sheet"]
    if detected.get("header_row", 1) > 1:
        read["header_row"] = detected["header_row"]
    return read


def analyse(kind, table):
    """Per source column: sample values, suggested targets, detected date pattern, distinct values with the
    suggested code of each (for enumeration targets)."""
    rows = table.rows[:SAMPLE_ROWS]
    types = profile_format.field_types(kind)
    taken = set()
    columns = []
    for i, header in enumerate(table.headers):
        if not header:
            continue
        suggestions = profile_format.suggest_targets(kind, header)
        values = [r[i] for r in rows if i < len(r)]
        pattern = profile_format.detect_date_pattern(values)
        if not suggestions and pattern:
            suggestions = [(f, 50) for f, t in types.items() if t.startswith("date")][:1]
        best = next((t for t, score in suggestions if score >= 85 and t not in taken), None)
        if best:
            taken.add(best)
        columns.append({"index": i, "header": header, "examples": [str(v) for v in values[:3]],
                        "suggestions": suggestions, "target": best, "date_pattern": pattern,
                        "distinct": profile_format.distinct_values(rows, i)})
    return columns


def suggested_config(kind, table, read=None):
    """A first profile from the sample alone: the best suggestion per column, detected date patterns, value
    maps for enumeration columns (read: the sheet and header row the sample was read with, see read_choices).
    The designer starts from it; a person corrects it."""
    columns = analyse(kind, table)
    types = profile_format.field_types(kind)
    cfg = {"format": profile_format.FORMAT, "kind": kind, "columns": {}, "constants": {}, "values": {}, "dates": {},
           "date_formats": ["iso", "slash", "chinese"], "derive": {}, **({"read": read} if read else {})}
    for col in columns:
        target = col["target"]
        cfg["columns"][col["header"]] = [target] if target else []
        t = types.get(target or "", "")
        if t.startswith("date") and col["date_pattern"]:
            cfg["dates"][col["header"]] = col["date_pattern"]
        if t.startswith("enum:"):
            table_ = {v: profile_format.suggest_value(t[5:], v) for v, _n in col["distinct"]}
            cfg["values"][target] = {v: str(code) for v, code in table_.items() if code is not None}
    return cfg


# ==================================================================================== dry run
class _DryRunDone(Exception):
    pass


def dry_run(content, file_name, config, *, user=None, source="designer", limit=SAMPLE_ROWS, import_day=None):
    """Run the profile on the first rows of a sample, writing nothing: each row's outcome (new, updated,
    unchanged, merged, quarantined with reasons, review) and how it was linked. The import runs for real in a
    transaction that is then rolled back, so the outcome is exactly what an import would do now."""
    cfg = profile_format.validate(config, regions=_regions())
    read = profile_format.read_options(cfg)
    table, detected = read_sample(content, file_name, sheet=read["sheet"], header_row=read["header_row"])
    numbered = [(i + 1, cells) for i, cells in enumerate(table.rows[:limit]) if not blank_row(cells)]
    result = {}
    try:
        with transaction.atomic():
            src = get_or_create_source(source, user=user)
            batch = Batch.objects.create(source=src, kind=cfg["kind"], file_name=file_name[:255],
                                         region=_user_region(user), import_day=import_day,
                                         started_by=user if user is not None and user.is_authenticated else None)
            pipe = Pipeline(batch, cfg)
            pipe.preload()
            pipe.link_names(table.headers, numbered)
            outcomes = pipe.commit(pipe.prepare(table.headers, numbered))
            result = {"detected": detected, "counts": dict(pipe.counts), "links": dict(pipe.link_counts),
                      "reasons": dict(sorted(pipe.reason_counts.items())),
                      "rows": [{"row": o.row_no, "status": o.status, "reasons": list(o.reasons),
                                "notes": list(o.notes), "link": o.link if o.status != "quarantined" else None,
                                "candidate": o.candidate[1] if o.candidate else None} for o in outcomes]}
            raise _DryRunDone
    except _DryRunDone:
        pass
    return result


def profile_kind_label(kind):
    return mapping.KIND_LABELS.get(kind, kind)


# ==================================================================================== the designer page
def store_sample(content, file_name):
    """Keep an uploaded sample between the designer's requests (the session holds its storage path)."""
    return held.hold(content, file_name, "samples")


def load_sample(path):
    return held.load(path)


def target_choices(kind):
    """[(target, Chinese label)] a column may be sent to ("" = ignore, "crosswalk" = a source id)."""
    labels = profile_format.field_labels(kind)
    choices = [("", _("Ignore"))]
    choices += [(f, labels[f]) for f in profile_format.field_types(kind)]
    if kind != "licences":
        choices.append(("crosswalk", _("Source system's own identifier (crosswalk)")))
    return choices


def enum_choices(kind, field):
    t = profile_format.field_types(kind).get(field, "")
    if t == "bool":
        return [("true", _("Yes")), ("false", _("No"))]
    if t.startswith("enum:"):
        return [(str(code), str(label)) for code, label in mapping.ENUMS[t[5:]].items()]
    return []


def _scheme_for(header):
    scheme = slugify(header).replace("-", "_").lower()
    scheme = scheme if scheme[:1].isalpha() else f"id_{scheme}"
    return (scheme or "source_id")[:50]


def config_from_choices(kind, headers, data, *, base=None, read=None):
    """A format-2 configuration from the designer's form (a dict of lists, as request.POST.lists()):
    t<i>/u<i> the targets of column i, s<i> its crosswalk scheme, d<i> its date pattern, vk<i>_<n>/vv<i>_<n> its
    value map, c_<field> constants, h the fields of a derived record key, hp its prefix, ru region from USCC.
    read: the sheet and header row (read_choices). base: the configuration of the profile being edited — what the
    form does not show (columns absent from the sample, value-map entries for values the sample lacks, region
    maps, other derive rules, date_formats) is kept from it."""
    cfg = _config_from_form(kind, headers, data)
    if read:
        cfg["read"] = read
    return _merged(kind, headers, data, profile_format.upgrade(base), cfg) if base else cfg


def _merged(kind, headers, data, base, form):
    """The edited profile: base, with what the form shows replaced by the form's choices."""
    shown = {mapping.header_key(h) for h in headers if h}
    out = {"format": profile_format.FORMAT, "kind": kind}
    out["columns"] = {h: t for h, t in base["columns"].items() if mapping.header_key(h) not in shown}
    out["columns"].update(form["columns"])
    out["dates"] = {h: p for h, p in base["dates"].items() if mapping.header_key(h) not in shown}
    out["dates"].update(form.get("dates") or {})
    values = {f: dict(t) for f, t in base["values"].items()}
    offered = {}  # field → the source values the form listed (a value it did not list keeps its base code)
    for i, _header in enumerate(headers):
        for target in form["columns"].get(headers[i], []) if headers[i] else []:
            n, keys = 0, set()
            while f"vk{i}_{n}" in data:
                keys.add((data[f"vk{i}_{n}"] or [""])[-1].strip())
                n += 1
            if keys:
                offered.setdefault(target, set()).update(keys)
    for field, keys in offered.items():
        table = {k: v for k, v in values.get(field, {}).items() if k not in keys}
        table.update((form.get("values") or {}).get(field, {}))
        values[field] = table
    out["values"] = {f: t for f, t in values.items() if t}
    rendered = {c["field"] for c in constant_rows(kind, {})}
    out["constants"] = {f: v for f, v in base["constants"].items() if f not in rendered}
    out["constants"].update(form.get("constants") or {})
    derive = dict(base["derive"])
    key = mapping.NATURAL_KEY.get(kind)
    if "hash" in (derive.get(key) or {}):
        derive.pop(key)
    if "from_uscc" in (derive.get("region_code") or {}):
        derive.pop("region_code")
    derive.update(form.get("derive") or {})
    out["derive"] = derive
    out["date_formats"] = base["date_formats"]
    if form.get("read"):
        out["read"] = form["read"]
    return out


def _config_from_form(kind, headers, data):
    def one(key):
        value = data.get(key) or [""]
        return (value[-1] if isinstance(value, list) else value).strip()

    types = profile_format.field_types(kind)
    cfg = {"format": profile_format.FORMAT, "kind": kind, "columns": {}, "constants": {}, "values": {}, "dates": {},
           "date_formats": list(N_DEFAULT_FORMATS), "derive": {}}
    for i, header in enumerate(headers):
        if not header:
            continue
        targets = []
        for key in (f"t{i}", f"u{i}"):
            target = one(key)
            if target == "crosswalk":
                target = profile_format.CROSSWALK + (one(f"s{i}") or _scheme_for(header))
            if target and target not in targets:
                targets.append(target)
        cfg["columns"][header] = targets
        if one(f"d{i}"):
            cfg["dates"][header] = one(f"d{i}")
        for target in targets:
            t = types.get(target, "")
            if not (t.startswith("enum:") or t in ("bool", "region")):
                continue
            table = cfg["values"].setdefault(target, {})
            n = 0
            while f"vk{i}_{n}" in data:
                source_value, code = one(f"vk{i}_{n}"), one(f"vv{i}_{n}")
                if code:
                    table[source_value] = (code == "true") if t == "bool" else N.code(code) if t == "region" else code
                n += 1
            break  # one value map per column: its first mapped field that has one (as design_rows shows it)
    for field in types:
        value = one(f"c_{field}")
        if value:
            cfg["constants"][field] = value
    hashed = [f for f in (data.get("h") or []) if f in types]
    key = mapping.NATURAL_KEY.get(kind)
    if hashed and key in types:
        cfg["derive"][key] = {"hash": hashed, "prefix": one("hp")[:10]}
    if one("ru") and "region_code" in types and "uscc" in types:
        cfg["derive"]["region_code"] = {"from_uscc": "uscc"}
    return {k: v for k, v in cfg.items() if v or k in ("columns", "kind", "format")}


N_DEFAULT_FORMATS = ("iso", "slash", "chinese")


def design_rows(kind, table, cfg, *, scope=""):
    """What the designer page shows per source column, from the sample and the current configuration.
    scope: the user's region prefix — a region column's values are suggested from the division names under it."""
    cfg = profile_format.upgrade(cfg)
    types, labels = profile_format.field_types(kind), profile_format.field_labels(kind)
    names = None
    rows = []
    for col in analyse(kind, table):
        header, i = col["header"], col["index"]
        targets = cfg["columns"].get(header, [])
        first = targets[0] if targets else ""
        second = targets[1] if len(targets) > 1 else ""
        scheme = next((profile_format.crosswalk_scheme(t) for t in targets if profile_format.is_crosswalk(t)), "")
        values = []
        for target in targets:
            t = types.get(target, "")
            if t.startswith("enum:") or t == "bool":
                chosen = cfg["values"].get(target, {})
                for n, (value, count) in enumerate(col["distinct"]):
                    code = chosen.get(value)
                    suggested = profile_format.suggest_value(t[5:], value) if t.startswith("enum:") else \
                        mapping.BOOL_VALUES.get(value.lower())
                    values.append({"n": n, "value": value, "count": count, "field": labels.get(target, target),
                                   "code": str(code if code is not None else suggested if suggested is not None
                                               else "").lower() if t == "bool" else str(
                                       code if code is not None else suggested if suggested is not None else ""),
                                   "choices": enum_choices(kind, target)})
                break
            if t == "region":  # a name or another system's code → a division code (e.g. 上城区 → 330102)
                if names is None:
                    names = region_names(scope)
                chosen = cfg["values"].get(target, {})
                for n, (value, count) in enumerate(col["distinct"]):
                    code = chosen.get(value)
                    values.append({"n": n, "value": value, "count": count, "field": labels.get(target, target),
                                   "code": str(code) if code is not None else suggest_region(value, names),
                                   "region": True})
                break
        date_target = any(types.get(t, "").startswith("date") for t in targets)
        rows.append({"i": i, "header": header, "examples": col["examples"], "first": "crosswalk" if
                     profile_format.is_crosswalk(first) else first, "second": "crosswalk" if profile_format.is_crosswalk(second)
                     else second, "scheme": scheme or _scheme_for(header),
                     "suggestions": [(t, labels.get(t, t), s) for t, s in col["suggestions"]],
                     "date": cfg["dates"].get(header) or (col["date_pattern"] if date_target else ""),
                     "date_detected": col["date_pattern"], "values": values})
    return rows


def suggest_region(value, names):
    """The division a region cell means, when its name (or its code) is one of `names` (region_names) alone."""
    code = N.code(value)
    if is_digits(code):
        return code if any(code in codes for codes in names.values()) else ""
    codes = names.get(N.text(value), ())
    return codes[0] if len(codes) == 1 else ""


def region_choices(scope=""):
    """[(code, full name)] of the active divisions under `scope`, for the region value map's list."""
    qs = Region.objects.filter(active=True)
    if scope:
        qs = qs.filter(code__startswith=scope)
    return list(qs.order_by("code").values_list("code", "full_name"))


def constant_rows(kind, cfg):
    cfg = profile_format.upgrade(cfg)
    labels = profile_format.field_labels(kind)
    out = []
    for f, t in profile_format.field_types(kind).items():
        if t in ("list", "items") or f in profile_format.LINK_FIELDS:
            continue
        out.append({"field": f, "label": labels.get(f, f), "value": str(cfg["constants"].get(f, "")),
                    "choices": enum_choices(kind, f), "required": f in profile_format.required_fields(kind)})
    return out
