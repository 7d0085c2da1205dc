"""The ingest pipeline and every ingest write (batches, quarantine, review queue, profiles).

read → map headers (profile) → normalise → validate (all reason codes per row) → resolve the enterprise
→ dedupe (in the batch and against the archive, by natural key) → write through the archive services
(`upsert_enterprises`, `upsert_licences`, `upsert_records`) in chunks → counts and a quality snapshot.

Counts always add up: accepted_new + accepted_updated + unchanged + merged_duplicates + quarantined +
in_review = rows_read. Nothing is lost: a rejected row is quarantined with its reasons, a grey-zone match
waits in the review queue.
"""

import datetime as dt
import hashlib
import logging
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from foodrisk.core import bulk, params
from foodrisk.core.models import Region
from foodrisk.core.querysets import region_prefix
from foodrisk.core.services import audit
from foodrisk.enterprises.models import Enterprise, Licence
from foodrisk.enterprises.services import name_initials, upsert_enterprises, upsert_licences
from foodrisk.records.models import RECORD_KINDS, ListEntry
from foodrisk.records.services import upsert_records

from . import mapping, readers
from . import normalisers as N
from . import validators as V
from .models import Batch, MappingProfile, MatchCandidate, QualitySnapshot, QuarantinedRow, Source
from .resolution import Resolver

logger = logging.getLogger(__name__)

CHUNK = 10_000  # rows per write: small enough that cleaning the next chunk overlaps writing this one
MODELS = {"enterprises": Enterprise, "licences": Licence, **RECORD_KINDS}
# the model fields each kind fills from the file (besides enterprise_id and the key); other model fields keep
# their archive value (e.g. a penalty's `repaired`, set by the credit-repair workflow)
FILE_FIELDS = {
    "enterprises": ("name", "former_names", "legal_representative", "address", "region_id", "business_form",
                    "food_categories", "scale", "established_on", "status", "static_tier", "key_supervision"),
    "licences": ("enterprise_id", "kind", "category", "issued_on", "expires_on", "status"),
    "inspections": ("enterprise_id", "inspected_on", "kind", "organisation", "inspector", "result",
                    "key_items_failed", "general_items_failed", "rectification_ordered"),
    "sampling_tests": ("enterprise_id", "sampled_on", "level", "product", "category", "result", "failed_items",
                       "announcement_no", "producer_name", "producer_address"),
    "penalties": ("enterprise_id", "decided_on", "violation_type", "severity", "fine", "confiscation",
                  "licence_revoked", "publicity_until"),
    "complaints": ("enterprise_id", "received_on", "channel", "category", "verified", "status", "duplicate_of"),
    "credit_repairs": ("enterprise_id", "target_kind", "target_no", "applied_on", "decided_on", "decision"),
    "list_entries": ("enterprise_id", "list_kind", "listed_on", "removed_on", "reason"),
}
DEFAULTS = {"status": {"enterprises": "active", "licences": "valid", "complaints": "open"},
            "decision": {"credit_repairs": "pending"}}
STR_MAX = {"name": 200, "address": 300, "category": 100, "organisation": 100, "inspector": 100, "product": 200,
           "violation_type": 100, "target_no": 100, "reason": 300, "announcement_no": 64, "producer_name": 200,
           "producer_address": 300, "duplicate_of": 64}


class IngestError(Exception):
    pass


# ==================================================================================== profiles and sources
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


def get_or_create_source(name, *, system="", user=None):
    source = Source.objects.filter(name=name).first()
    if source is None:
        with transaction.atomic():
            source = Source.objects.create(name=name, system=system or name,
                                           key_config={k: v for k, v in mapping.NATURAL_KEY.items()})
            audit.record("ingest.source.create", source, after=audit.snapshot(source), user=user)
    return source


def save_profile(profile, *, user=None):
    from foodrisk.core.services import objects

    return objects.save_instance(profile, user=user)


def profile_config(profile_or_code):
    if isinstance(profile_or_code, MappingProfile):
        return profile_or_code.config
    row = MappingProfile.objects.filter(code=profile_or_code).first()
    if row is not None:
        return row.config
    return mapping.BUILTIN_PROFILES[profile_or_code]


def detect(headers):
    """(kind, profile code) from a file's headers, using the stored profiles (built-ins included)."""
    profiles = dict(mapping.BUILTIN_PROFILES)
    profiles.update({p.code: p.config for p in MappingProfile.objects.all() if p.config.get("headers")})
    code = mapping.detect_profile(headers, profiles)
    if code is None:
        raise IngestError("the file's headers match no mapping profile")
    return profiles[code]["kind"], code


# ==================================================================================== the pipeline
@dataclass
class Outcome:
    row_no: int
    status: str  # new | updated | unchanged | merged | quarantined | review
    reasons: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    raw: dict | None = None
    candidate: tuple | None = None  # (enterprise_id, score, name, address)


class CompiledProfile:
    def __init__(self, config, kind):
        self.kind = kind
        self.headers = {mapping.header_key(h): f for h, f in config.get("headers", {}).items()}
        self.values = mapping.default_value_dictionaries()
        for name, extra in (config.get("values") or {}).items():
            # keyed by enum name or by field name
            enum = mapping.FIELD_TYPES[kind].get(name, "")
            enum = enum[5:] if enum.startswith("enum:") else name
            self.values.setdefault(enum, {}).update(extra)
        self.values = {enum: {N.text(k).lower(): v for k, v in vals.items()} for enum, vals in self.values.items()}
        self.bools = {N.text(k).lower(): v for k, v in mapping.BOOL_VALUES.items()}
        self.bools.update({N.text(k).lower(): bool(v) for k, v in (config.get("values") or {}).get("bool", {}).items()})
        self.date_formats = tuple(config.get("date_formats") or N.DEFAULT_DATE_FORMATS)
        self.derive = config.get("derive") or {}

    def columns(self, headers):
        """[(column index, canonical field)] for the headers this profile knows."""
        cols, seen = [], set()
        for i, h in enumerate(headers):
            f = self.headers.get(mapping.header_key(h)) if h else None
            if f and f in mapping.FIELD_TYPES[self.kind] and f not in seen:
                cols.append((i, f))
                seen.add(f)
        return cols


_STARTER = object()


class Pipeline:
    """Everything one batch needs, loaded once: regions, enterprise keys (and names when needed), thresholds.
    changed_by: who the written rows' history (RecordVersion) names; default the batch's starter, for a
    resubmit or a confirmed candidate the person deciding (None: the acting user, as on the audit entry)."""

    def __init__(self, batch, config=None, *, changed_by=_STARTER):
        self.batch = batch
        self.changed_by = batch.started_by_id if changed_by is _STARTER else changed_by
        self.kind = batch.kind
        self.profile = CompiledProfile(config or profile_config(batch.profile or mapping.profile_code_for(batch.kind)),
                                       batch.kind)
        self.import_day = batch.import_day or timezone.localdate()
        self.org_check = bool(params.get("uscc_org_code_check", True))
        self.auto = float(params.get("entity_auto_link_threshold", 0.92))
        self.review = float(params.get("entity_review_threshold", 0.75))
        self.splink_min_pairs = params.get("entity_splink_min_pairs")  # None: resolution.LARGE_BATCH
        self.scope = region_prefix(batch.region_id)
        self.types = mapping.FIELD_TYPES[self.kind]
        self.required = mapping.REQUIRED[self.kind]
        self.key = mapping.NATURAL_KEY[self.kind]
        self.model = MODELS[self.kind]
        self.source = batch.source.name
        self._regions = None
        self._ent_ids = None
        self._resolver = None
        self.seen = {}  # natural key → the row this batch holds for it
        self._memo = {}  # type → {cell: (value, reason code)}: see clean()
        self._row_plan = self._make_row_plan()
        self.counts = {"new": 0, "updated": 0, "unchanged": 0, "merged": 0, "quarantined": 0, "review": 0}
        self.reason_counts = {}
        self.note_counts = {}
        self.field_failures = {}
        self.rows = 0
        self.written = 0

    # ---------------------------------------------------------------- preloads
    @property
    def regions(self):
        if self._regions is None:
            qs = Region.objects.filter(active=True)
            self._regions = set(qs.values_list("code", flat=True))
        return self._regions

    def _enterprises_in_scope(self):
        qs = Enterprise.objects.all()
        if self.scope:
            qs = qs.filter(region__code__startswith=self.scope)
        return qs

    @property
    def ent_ids(self):
        if self._ent_ids is None:
            self._ent_ids = dict(self._enterprises_in_scope().values_list("uscc", "id").iterator(chunk_size=20000))
        return self._ent_ids

    @property
    def resolver(self):
        if self._resolver is None:
            rows = self._enterprises_in_scope().values_list("id", "name", "former_names", "address")
            self._resolver = Resolver(rows.iterator(chunk_size=20000), self.auto, self.review,
                                      large_batch=self.splink_min_pairs)
        return self._resolver

    # ---------------------------------------------------------------- one row
    def clean(self, cells, plan):
        """(values, reasons) for one row's cells: normalised typed values and every `code:field` finding.
        plan: cell_plan(profile.columns(headers)), made once per chunk."""
        values, reasons = {}, []
        cell = self._cell
        n = len(cells)
        for i, f, t, memo in plan:
            v = cells[i] if i < n else ""
            if v is None or v == "":
                values[f] = None
                continue
            if memo is None:  # lists: each row gets its own
                value, code = cell(t, v)
            else:
                # the same cell text always cleans the same way within a batch (codes, dates, names repeat)
                key = v if v.__class__ is str else (v.__class__, v)  # True == 1, yet reads differently
                try:
                    hit = memo.get(key)
                except TypeError:  # an unhashable JSON value
                    hit = key = None
                if hit is None:
                    hit = cell(t, v)
                    if key is not None:
                        if len(memo) >= _MEMO_MAX:
                            memo.clear()
                        memo[key] = hit
                value, code = hit
            if code:
                reasons.append(f"{code}:{f}")
            values[f] = value
        profile = self.profile
        if profile.derive:
            self._derive(values)
        failed = {r.partition(":")[2] for r in reasons}
        for f in self.required:
            if f not in failed and values.get(f) in (None, "", []):
                reasons.append(f"required_missing:{f}")
        pair = mapping.DATE_ORDER.get(self.kind)
        if pair:
            start, end = values.get(pair[0]), values.get(pair[1])
            if start and end and end < start:
                reasons.append(f"date_order:{pair[1]}")
        return values, reasons

    def cell_plan(self, cols):
        """[(column index, field, type, memo of that type or None)] for clean()."""
        types, memos = self.types, self._memo
        # no memory for lists (mutable) nor for the natural key (unique: remembering it only costs)
        return [(i, f, types[f], None if types[f] in _UNSHARED or f == self.key else memos.setdefault(types[f], {}))
                for i, f in cols]

    def _cell(self, t, v):
        """(value, reason code or None) for one non-blank cell of type t."""
        profile = self.profile
        if t == "uscc" or t == "code" or t == "licence" or t == "region":
            s = N.code(v)
            if not s:
                return None, None
            if t == "uscc":
                return s, V.check_uscc(s, self.org_check)
            if t == "licence":
                return s, V.check_licence_no(s)
            if t == "region":
                code = V.check_region(s, self.regions)
                if code is None and self.scope and not s.startswith(self.scope):
                    code = V.REGION_INVALID  # outside the uploader's jurisdiction
                return s, code
            return s, None
        if t == "date" or t == "date_future_ok":
            try:
                d = N.parse_date(v, profile.date_formats)
            except N.Invalid:
                return None, V.DATE_INVALID
            if d is not None and t == "date" and d > self.import_day:
                return d, V.DATE_FUTURE
            return d, None
        if t.startswith("enum:") or t == "bool":
            s = N.text(v)
            if not s:
                return None, None
            value = (profile.bools if t == "bool" else profile.values[t[5:]]).get(s.lower())
            return value, V.ENUM_INVALID if value is None else None
        if t == "money" or t == "count":
            try:
                return (N.parse_amount(v) if t == "money" else N.parse_count(v)), None
            except N.Invalid:
                return None, V.AMOUNT_INVALID
        if t == "name":
            return N.company_name(v) or None, None
        if t == "address":
            return N.address(v) or None, None
        if t == "list":
            return N.split_list(v), None
        if t == "items":
            return N.failed_items(v), None
        if t == "code_text":
            return N.text(v).replace(" ", "") or None, None
        return N.text(v) or None, None

    def _derive(self, values):
        derive = self.profile.derive
        rule = derive.get("sampled_on")
        if rule and values.get("sampled_on") is None and values.get(rule["from"]):
            try:
                d = N.parse_date(values[rule["from"]], self.profile.date_formats)
            except N.Invalid:
                d = None
            if d is not None and d <= self.import_day:
                values["sampled_on"] = d
        rule = derive.get("result")
        if rule and values.get("result") is None:
            values["result"] = "fail" if values.get(rule["failed_if_present"]) else "pass"
        rule = derive.get("report_no")
        if rule and not values.get("report_no"):
            parts = []
            for f in rule["hash"]:
                v = values.get(f)
                parts.append(N.name_key(v) if isinstance(v, str) else str(v or ""))
            if any(parts):
                digest = hashlib.sha1("|".join(parts).encode("utf-8")).hexdigest()[:20].upper()
                values["report_no"] = f"{rule.get('prefix', '')}{digest}"

    # ---------------------------------------------------------------- resolution
    def resolve(self, values, reasons, notes, forced_enterprise=None):
        """The enterprise id, or None with a reason / a review candidate ("review", match)."""
        if forced_enterprise is not None:
            return forced_enterprise, None
        uscc = values.get("uscc")
        if uscc:
            if any(r.endswith(":uscc") for r in reasons):
                return None, None
            pk = self.ent_ids.get(uscc)
            if pk is None:
                reasons.append("entity_unknown:uscc")
            return pk, None
        if "uscc" in self.required:
            return None, None  # required_missing already said so
        name = values.get("enterprise_name")
        match = self.resolver.match(name, values.get("enterprise_address") or "")
        if match.decision == "link":
            notes.append("linked_by_name")
            if match.name_variant:
                notes.append("name_variant")
            return match.enterprise_id, None
        reasons.append("entity_unresolved:enterprise_name")
        if match.decision == "review":
            return None, match
        return None, None

    # ---------------------------------------------------------------- model rows
    def _make_row_plan(self):
        """[(field, how, default, max length)]: how 0 = the cleaned value, 1 = enterprise, 2 = region,
        3 = licence kind (from its number)."""
        plan = []
        for f in FILE_FIELDS[self.kind]:
            how = 1 if f == "enterprise_id" else 2 if f == "region_id" else 3 if (
                f == "kind" and self.kind == "licences") else 0
            plan.append((f, how, _default(self.kind, f), STR_MAX.get(f)))
        return plan

    def model_row(self, values, enterprise_id, row_no):
        row = {"source_row": row_no}
        get = values.get
        for f, how, default, cap in self._row_plan:
            if how == 0:
                v = get(f)
                if v is None:
                    v = [] if default.__class__ is list else default  # a list of its own for each row
                elif cap and v.__class__ is str and len(v) > cap:
                    v = v[:cap]
                row[f] = v
            elif how == 1:
                row[f] = enterprise_id
            elif how == 2:
                row[f] = get("region_code")
            else:
                row[f] = values["licence_no"][:2]
        if self.kind == "list_entries":
            row["entry_key"] = ListEntry.make_key(values["uscc"], values["list_kind"], values["listed_on"])
        else:
            row[self.key] = values[self.key]
        return row

    def fingerprint(self, row):
        return tuple([v if type(v) in _PLAIN else _comparable(v) for v in map(row.__getitem__, FILE_FIELDS[self.kind])])

    # ---------------------------------------------------------------- a chunk of rows
    def process(self, headers, numbered_rows, *, mode="batch", forced_enterprise=None):
        """Run rows through validation and resolution, write the accepted ones; returns Outcomes.

        mode "batch" counts into this pipeline's totals; "resubmit" (quarantine fixes, review decisions)
        only reports what happened to each row.
        """
        return self.commit(self.prepare(headers, numbered_rows, forced_enterprise=forced_enterprise), mode=mode)

    def preload(self):
        """Read from the database what prepare() needs, so that prepare() itself never queries (run_batch
        prepares the next chunk in a thread while this one is written)."""
        self.regions  # noqa: B018
        if self.kind != "enterprises":
            self.ent_ids  # noqa: B018
            if "uscc" not in self.required:
                self.resolver  # noqa: B018

    def link_names(self, headers, numbered_rows):
        """Hand the (name, address) pairs of the rows without a USCC to the resolver at once: a large batch of
        them is linked by splink in one job instead of row by row (see resolution.Resolver.prepare)."""
        if self.kind == "enterprises" or "uscc" in self.required:
            return None
        cols = {f: i for i, f in self.profile.columns(headers)}
        name, address, uscc = cols.get("enterprise_name"), cols.get("enterprise_address"), cols.get("uscc")
        if name is None:
            return None

        def cell(cells, i):
            return cells[i] if i is not None and i < len(cells) else None

        return self.resolver.prepare([(cell(cells, name), cell(cells, address) or "")
                                      for _no, cells in numbered_rows if not cell(cells, uscc)])

    def prepare(self, headers, numbered_rows, *, forced_enterprise=None):
        """Clean, validate and resolve a chunk (no writes): [(outcome, model row or None)]."""
        plan = self.cell_plan(self.profile.columns(headers))
        prepared = []
        for row_no, cells in numbered_rows:
            values, reasons = self.clean(cells, plan)
            notes = []
            enterprise_id, match = None, None
            if self.kind != "enterprises":
                enterprise_id, match = self.resolve(values, reasons, notes, forced_enterprise)
            outcome = Outcome(row_no, "", reasons, notes)
            if reasons:
                outcome.raw = _raw(headers, cells)
                if match is not None and len(reasons) == 1:
                    outcome.status = "review"
                    outcome.candidate = (match.enterprise_id, round(match.score, 4), values.get("enterprise_name") or "",
                                         values.get("enterprise_address") or "")
                else:
                    outcome.status = "quarantined"
                prepared.append((outcome, None))
                continue
            prepared.append((outcome, self.model_row(values, enterprise_id, row_no)))
        return prepared

    def commit(self, prepared, *, mode="batch"):
        """Dedupe a prepared chunk (in the chunk, the batch and against the archive) and write it."""
        outcomes, pending, key, seen, fingerprint = [], {}, self.key, self.seen, self.fingerprint
        for outcome, row in prepared:
            outcomes.append(outcome)
            if row is None:
                continue
            k = row[key]
            # fingerprints are computed only for keys seen twice (and in _write, for stored keys)
            if k in pending:  # the same record again in this chunk: merged; a differing copy wins (last)
                outcome.status = "merged"
                outcome.notes.append("duplicate")
                first = pending[k]
                if fingerprint(row) != fingerprint(first[0]):
                    pending[k] = (row, first[1], first[2])
                continue
            if k in seen:  # seen in an earlier chunk of this batch
                outcome.status = "merged"
                outcome.notes.append("duplicate")
                if fingerprint(row) != fingerprint(seen[k]):
                    pending[k] = (row, outcome, True)
                continue
            pending[k] = (row, outcome, False)
        self._write(pending)
        if mode == "batch":
            for outcome in outcomes:
                self._count(outcome)
        return outcomes

    def _write(self, pending):
        if not pending:
            return
        model, key, kind = self.model, self.key, self.kind
        keys = list(pending)
        preserve = [f.attname for f in model._meta.concrete_fields
                    if f.attname not in FILE_FIELDS[kind] and f.attname not in _LINEAGE and f.attname != key
                    and f.attname != "id" and not (kind == "enterprises" and f.attname in _ENTERPRISE_SKIP)]
        wanted = [key, *FILE_FIELDS[kind], *preserve, *(("name_initials",) if kind == "enterprises" else ())]
        existing = {rec[key]: rec for qs in bulk.rows_for_keys(model.objects.all(), key, keys)
                    for rec in qs.values(*wanted)}
        rows, new_keys, seen = [], [], self.seen
        defaults = [(f, _model_default(model, f)) for f in preserve]
        for k, (row, outcome, is_dup) in pending.items():
            old = existing.get(k)
            seen[k] = row  # what this batch holds for the key (its fingerprint is taken if the key comes again)
            if old is None:
                new_keys.append(k)
                if not is_dup:
                    outcome.status = "new"
                for f, default in defaults:
                    if f not in row:
                        row[f] = list(default) if default.__class__ is list else default
                rows.append(row)
                continue
            if kind == "enterprises":
                former = list(row["former_names"] or old["former_names"] or [])
                if old["name"] != row["name"] and old["name"] not in former:
                    former.append(old["name"])
                row["former_names"] = former
            for f in preserve:
                row[f] = old[f]
            same = self.fingerprint(row) == self.fingerprint(old)
            if not is_dup:
                outcome.status = "unchanged" if same else "updated"
            if not same:
                rows.append(row)
        if not rows:
            return
        batch = self.batch
        kw = {"source": self.source, "batch_id": batch.pk, "file_digest": batch.file_digest,
              "user": self.changed_by,  # who changed the rows, for their history (RecordVersion)
              "new_keys": new_keys}  # just looked up: no history to compare with
        if kind == "enterprises":
            for row in rows:  # only rows that are written, with a new name, pay for the pinyin initials
                row["region"] = _region(row.pop("region_id"))
                old = existing.get(row["uscc"])
                row["name_initials"] = (old["name_initials"] if old is not None and old["name"] == row["name"]
                                        else name_initials(row["name"]))
            upsert_enterprises(rows, **kw)
            self._ent_ids = None
        elif kind == "licences":
            upsert_licences(rows, **kw)
        else:
            upsert_records(kind, rows, **kw)
        self.written += len(rows)

    def _count(self, outcome):
        self.rows += 1
        self.counts[outcome.status] += 1
        for r in outcome.reasons:
            self.reason_counts[r] = self.reason_counts.get(r, 0) + 1
            f = r.partition(":")[2]
            self.field_failures[f] = self.field_failures.get(f, 0) + 1
        if outcome.status in ("quarantined", "review"):
            return
        for n in outcome.notes:
            self.note_counts[n] = self.note_counts.get(n, 0) + 1


_REGIONS = {}


def _region(code):
    """An unsaved Region carrying only its key: enough to assign the foreign key without a query."""
    region = _REGIONS.get(code)
    if region is None:
        region = _REGIONS[code] = Region(code=code)
    return region


_LINEAGE = {"source", "source_batch", "source_row", "file_digest", "first_seen_at", "last_seen_at"}
_ENTERPRISE_SKIP = {"name_initials", "current_grade", "current_score", "graded_at", "risk_labels",
                    "uscc"}


def _default(kind, f):
    by_kind = DEFAULTS.get(f)
    if by_kind and kind in by_kind:
        return by_kind[kind]
    t = mapping.FIELD_TYPES[kind].get(f, "str")
    if t in ("list", "items"):
        return []
    if t == "bool":
        return False
    if t == "money":
        return Decimal("0.00")
    if t == "count":
        return 0
    if t.startswith("enum:static_tier") or t.startswith("date"):
        return None
    if f == "region_id":
        return None
    return ""


def _model_default(model, attname):
    field_ = next(f for f in model._meta.concrete_fields if f.attname == attname)
    if field_.has_default():
        return field_.get_default()
    return None if field_.null else ""


_UNSHARED = frozenset({"list", "items"})  # cleaned values that are mutable lists: never shared between rows
_MEMO_MAX = 200_000  # per type
_PLAIN = frozenset({str, int, bool, float, dt.date, dt.datetime})


def _comparable(value):
    if isinstance(value, Decimal):
        return value.quantize(Decimal("0.01"))
    if isinstance(value, list):
        return tuple(_comparable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _comparable(v)) for k, v in value.items()))
    if value is None:
        return ""
    return value


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10] if not isinstance(value, dt.datetime) or not value.time() else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _raw(headers, cells):
    raw = {}
    for i, h in enumerate(headers):
        if h:
            raw[h] = _cell_text(cells[i]) if i < len(cells) else ""
    return raw


def _blank(cells):
    """Nothing but empty cells or whitespace (most rows answer at their first cell)."""
    return all(c is None or c == "" or (c.__class__ is str and c.isspace()) for c in cells)


# ==================================================================================== batches
def create_batch(*, user=None, source, kind="auto", content: bytes, file_name, profile=None, import_day=None,
                 region=None, parent=None):
    """Store the file and create a pending batch (kind and profile detected from the headers when 'auto')."""
    ensure_builtin_profiles()
    if isinstance(source, str):
        source = get_or_create_source(source, user=user)
    table = readers.read_headers(content, file_name)  # the rows are read when the batch runs
    if not table.headers:
        raise IngestError("the file has no header row")
    profile_code = profile.code if isinstance(profile, MappingProfile) else profile
    if kind in (None, "", "auto"):
        kind, detected = detect(table.headers)
        profile_code = profile_code or detected
    elif not profile_code:
        detected_kind, detected = detect(table.headers)
        profile_code = detected if detected_kind == kind else mapping.profile_code_for(kind)
    if kind not in mapping.KINDS:
        raise IngestError(f"unknown kind: {kind}")
    profile_obj = MappingProfile.objects.filter(code=profile_code).first()
    if region is None and user is not None and getattr(user, "scope_prefix", "") not in ("", None):
        region = Region.objects.filter(pk=user.scope_code).first()
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        batch = Batch(source=source, kind=kind, profile=profile_obj, file_name=file_name[:255], file_digest=digest,
                      started_by=user if user is not None and user.is_authenticated else None, region=region,
                      import_day=import_day, parent=parent)
        batch.file.save(file_name.rsplit("/", 1)[-1], ContentFile(content), save=False)
        batch.save()
        audit.record("ingest.batch.create", batch, user=user,
                     details={"kind": kind, "profile": profile_code, "file_digest": digest, "bytes": len(content)})
    return batch


def start_batch(batch, *, user=None, wait=False):
    """Run the batch as a job ("ingest.batch"): queued for the worker, or in this process with wait=True."""
    from foodrisk.core.services import jobs

    job = jobs.start("ingest.batch", user=user, params={"batch_id": batch.pk}, run_now=wait,
                     title=f"{batch.get_kind_display()} · {batch.file_name}")
    Batch.objects.filter(pk=batch.pk).update(job=job)
    batch.job = job
    if wait:
        job.refresh_from_db()
        if not job.finished:  # inside an outer transaction on_commit has not fired yet: run it here
            jobs.execute(job.pk)
            job.refresh_from_db()
    return job


def run_batch(batch, *, progress=None, log=None):
    """Import one stored batch end to end; returns the report. Re-running a finished batch is refused."""
    if batch.status in ("running", "succeeded"):
        raise IngestError(f"batch {batch.pk} is already {batch.status}")
    t0 = time.perf_counter()
    Batch.objects.filter(pk=batch.pk).update(status="running", started_at=timezone.now(), error="")
    with transaction.atomic():
        audit.record("ingest.batch.start", batch, details={"kind": batch.kind, "file": batch.file_name})
    try:
        with batch.file.open("rb") as fh:
            table = readers.read_bytes(fh.read(), batch.file_name)
        t_read = time.perf_counter()
        pipe = Pipeline(batch)
        headers = table.headers
        numbered = [(i + 1, cells) for i, cells in enumerate(table.rows) if not _blank(cells)]
        total = len(numbered)
        chunks = [numbered[start:start + CHUNK] for start in range(0, total, CHUNK)]
        pipe.preload()
        pipe.link_names(headers, numbered)
        done = 0
        for chunk, prepared in zip(chunks, prepared_chunks(pipe, headers, chunks), strict=True):
            outcomes = pipe.commit(prepared)
            _store_rejects(batch, outcomes)
            done += len(chunk)
            if progress:
                progress(done, total, f"{done}/{total}")
        elapsed = time.perf_counter() - t0
        report = _finish(batch, pipe, table, elapsed, t_read - t0)
    except Exception as exc:
        Batch.objects.filter(pk=batch.pk).update(status="failed", error=str(exc)[:5000], finished_at=timezone.now())
        with transaction.atomic():
            audit.record("ingest.batch.fail", batch, details={"error": str(exc)[:500]})
        raise
    if log:
        log(format_report(batch))
    return report


def prepared_chunks(pipe, headers, chunks):
    """Each chunk cleaned, validated and resolved (Pipeline.prepare) by a thread, a step ahead of the caller
    writing the one before: the waits for the database (which works on the other core) release the GIL.
    (A forked process instead of the thread was measured: no faster on two cores, where Python, the child and
    PostgreSQL then compete for the same two.)"""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-prepare") as prepare:
        upcoming = prepare.submit(pipe.prepare, headers, chunks[0]) if chunks else None
        for i in range(len(chunks)):
            prepared = upcoming.result()
            if i + 1 < len(chunks):
                upcoming = prepare.submit(pipe.prepare, headers, chunks[i + 1])
            yield prepared


def _store_rejects(batch, outcomes):
    q_rows, candidates = [], []
    for o in outcomes:
        if o.status == "quarantined":
            q_rows.append({"batch_id": batch.pk, "row_no": o.row_no, "raw_data": o.raw, "reasons": o.reasons,
                           "reason_codes": " ".join(o.reasons)[:500]})
        elif o.status == "review":
            pk, score, name, address = o.candidate
            candidates.append({"batch_id": batch.pk, "row_no": o.row_no, "raw_data": o.raw, "enterprise_id": pk,
                               "score": score, "name": name[:200], "address": address[:300]})
    if q_rows or candidates:
        with transaction.atomic():
            bulk.insert(QuarantinedRow, q_rows)
            bulk.insert(MatchCandidate, candidates)
            if q_rows:
                audit.record_bulk("ingest.quarantine.create", "ingest.quarantinedrow",
                                  ({"row": q["row_no"], "reasons": q["reasons"]} for q in q_rows),
                                  details={"batch": batch.pk}, region_code=batch.region_id or "")
            if candidates:
                audit.record_bulk("ingest.matchcandidate.create", "ingest.matchcandidate",
                                  ({"row": c["row_no"], "enterprise": c["enterprise_id"], "score": c["score"]}
                                   for c in candidates),
                                  details={"batch": batch.pk}, region_code=batch.region_id or "")
    return len(q_rows)


def _finish(batch, pipe, table, elapsed, read_seconds):
    c = pipe.counts
    accepted = c["new"] + c["updated"] + c["unchanged"]
    assert accepted + c["merged"] + c["quarantined"] + c["review"] == pipe.rows, "batch counts do not add up"
    field_stats = {}
    for f in mapping.KEY_FIELDS[batch.kind]:
        failed = pipe.field_failures.get(f, 0)
        field_stats[f] = {"checked": pipe.rows, "failed": failed,
                          "pass_rate": round(1 - failed / pipe.rows, 6) if pipe.rows else 1.0}
    codes = {}
    for r, n in pipe.reason_counts.items():
        code = r.partition(":")[0]
        codes[code] = codes.get(code, 0) + n
    report = {
        "rows_read": pipe.rows, "written": pipe.written, "format": table.fmt, "encoding": table.encoding,
        "profile": batch.profile.code if batch.profile_id else mapping.profile_code_for(batch.kind),
        "reasons": dict(sorted(pipe.reason_counts.items())), "reason_codes": dict(sorted(codes.items())),
        "notes": pipe.note_counts, "seconds": round(elapsed, 3), "read_seconds": round(read_seconds, 3),
        "rows_per_second": round(pipe.rows / elapsed, 1) if elapsed else None,
        "import_day": pipe.import_day.isoformat(),
        # how rows without a USCC were matched by name: rapidfuzz row by row, or splink for a large batch
        "linkage": pipe._resolver.method if pipe._resolver is not None else None,
    }
    passed = pipe.rows - c["quarantined"] - c["review"]
    with transaction.atomic():
        Batch.objects.filter(pk=batch.pk).update(
            status="succeeded", finished_at=timezone.now(), rows_read=pipe.rows, accepted_new=c["new"],
            accepted_updated=c["updated"], unchanged=c["unchanged"], merged_duplicates=c["merged"],
            quarantined=c["quarantined"], in_review=c["review"], report=report)
        QualitySnapshot.objects.update_or_create(batch=batch, defaults=dict(
            kind=batch.kind, rows=pipe.rows, field_stats=field_stats, reason_counts=codes, note_counts=pipe.note_counts,
            pass_rate=round(passed / pipe.rows, 6) if pipe.rows else 1.0))
        batch.refresh_from_db()
        audit.record("ingest.batch.finish", batch, details={"counts": counts(batch), "seconds": report["seconds"]})
    return report


def counts(batch):
    return {"rows_read": batch.rows_read, "accepted_new": batch.accepted_new,
            "accepted_updated": batch.accepted_updated, "unchanged": batch.unchanged,
            "merged_duplicates": batch.merged_duplicates, "quarantined": batch.quarantined,
            "in_review": batch.in_review}


def format_report(batch):
    r = batch.report or {}
    lines = [f"batch #{batch.pk} {batch.file_name} [{batch.kind}] {batch.status}",
             "  rows read {rows_read} = new {accepted_new} + updated {accepted_updated} + unchanged {unchanged} "
             "+ merged {merged_duplicates} + quarantined {quarantined} + in review {in_review}".format(**counts(batch))]
    if r.get("seconds") is not None:
        lines.append(f"  {r.get('seconds')} s, {r.get('rows_per_second')} rows/s ({r.get('format')} {r.get('encoding')})")
    if r.get("reason_codes"):
        lines.append("  findings: " + ", ".join(f"{k} {v}" for k, v in r["reason_codes"].items()))
    if r.get("notes"):
        lines.append("  notes: " + ", ".join(f"{k} {v}" for k, v in sorted(r["notes"].items())))
    return "\n".join(lines)


# ==================================================================================== quarantine and review
def _adjust(batch_id, **deltas):
    Batch.objects.filter(pk=batch_id).update(**{k: F(k) + v for k, v in deltas.items()})


_COUNT_FIELD = {"new": "accepted_new", "updated": "accepted_updated", "unchanged": "unchanged",
                "merged": "merged_duplicates", "review": "in_review", "quarantined": "quarantined"}


def resubmit(qrow, corrected, *, user=None):
    """Run a corrected quarantined row through the same pipeline. Returns the Outcome."""
    return resubmit_many([(qrow, corrected)], user=user)[0]


def resubmit_many(pairs, *, user=None):
    """[(QuarantinedRow, corrected {header: value})] → their Outcomes, in order; rows still failing keep their new
    reasons. Per batch one pipeline pass and one transaction (a corrected workbook of thousands of rows costs a
    few queries per batch, not per row), an audit entry per row."""
    for qrow, _corrected in pairs:
        if qrow.status != "open":
            raise IngestError(f"quarantined row {qrow.pk} is {qrow.status}")
    decided_by = user if user is not None and user.is_authenticated else None
    results = [None] * len(pairs)
    by_batch = {}
    for i, (qrow, corrected) in enumerate(pairs):
        by_batch.setdefault(qrow.batch_id, {}).setdefault(tuple(corrected), []).append((i, qrow, corrected))
    for groups in by_batch.values():
        batch = next(iter(groups.values()))[0][1].batch
        pipe = Pipeline(batch, changed_by=user)
        now, entries, changed, reviews, counts = timezone.now(), [], [], [], Counter()
        with transaction.atomic():
            for headers, group in groups.items():  # rows with the same columns go through the pipeline together
                outcomes = pipe.process(list(headers), [(q.row_no, [c[h] for h in headers]) for _i, q, c in group],
                                        mode="resubmit")
                for (i, qrow, corrected), outcome in zip(group, outcomes, strict=True):
                    results[i] = outcome
                    before = audit.snapshot(qrow)
                    qrow.corrected_data, qrow.decided_by, qrow.updated_at = corrected, decided_by, now
                    if outcome.status == "quarantined":
                        qrow.reasons, qrow.reason_codes = outcome.reasons, " ".join(outcome.reasons)[:500]
                        action, details = "ingest.quarantine.resubmit_failed", None
                    else:
                        qrow.status = "fixed" if outcome.status != "review" else "resubmitted"
                        if outcome.status == "review":
                            reviews.append(outcome)
                        counts[_COUNT_FIELD[outcome.status]] += 1
                        counts["quarantined"] -= 1
                        action, details = "ingest.quarantine.resubmit", {"outcome": outcome.status}
                    changed.append(qrow)
                    entries.append(audit.new_entry(action, qrow, before=before, after=audit.snapshot(qrow), user=user,
                                                   details=details, region_code=batch.region_id or ""))
            bulk.update(QuarantinedRow, changed, ["corrected_data", "decided_by", "reasons", "reason_codes", "status",
                                                  "updated_at"])
            _store_rejects(batch, reviews)
            if counts:
                _adjust(batch.pk, **counts)
            audit.record_many(entries)
    return results


def discard(qrow, reason, *, user=None):
    if qrow.status != "open":
        raise IngestError(f"quarantined row {qrow.pk} is {qrow.status}")
    with transaction.atomic():
        before = audit.snapshot(qrow)
        qrow.status, qrow.note = "discarded", reason[:300]
        qrow.decided_by = user if user is not None and user.is_authenticated else None
        qrow.save()
        audit.record("ingest.quarantine.discard", qrow, before=before, after=audit.snapshot(qrow), user=user,
                     details={"reason": reason}, region_code=qrow.batch.region_id or "")
    return qrow


def confirm_candidate(candidate, *, user=None, enterprise=None):
    """Write the record linked to the candidate (or another chosen) enterprise."""
    if candidate.status != "pending":
        raise IngestError(f"candidate {candidate.pk} is {candidate.status}")
    enterprise_id = enterprise.pk if enterprise is not None else candidate.enterprise_id
    batch = candidate.batch
    pipe = Pipeline(batch, changed_by=user)
    headers = list(candidate.raw_data)
    with transaction.atomic():
        outcome = pipe.process(headers, [(candidate.row_no, [candidate.raw_data[h] for h in headers])],
                               mode="resubmit", forced_enterprise=enterprise_id)[0]
        if outcome.status in ("quarantined", "review"):
            raise IngestError("the row does not pass validation: " + " ".join(outcome.reasons))
        candidate.status, candidate.decided_at = "confirmed", timezone.now()
        candidate.enterprise_id = enterprise_id
        candidate.decided_by = user if user is not None and user.is_authenticated else None
        candidate.save()
        _adjust(batch.pk, in_review=-1, **{_COUNT_FIELD[outcome.status]: 1})
        audit.record("ingest.matchcandidate.confirm", candidate, user=user,
                     details={"enterprise": enterprise_id, "score": candidate.score, "outcome": outcome.status},
                     region_code=batch.region_id or "")
    return outcome


def reject_candidate(candidate, *, user=None, note=""):
    """No match: the row goes to quarantine (entity_unresolved), still not lost."""
    if candidate.status != "pending":
        raise IngestError(f"candidate {candidate.pk} is {candidate.status}")
    with transaction.atomic():
        candidate.status, candidate.decided_at = "rejected", timezone.now()
        candidate.decided_by = user if user is not None and user.is_authenticated else None
        candidate.save()
        reasons = ["entity_unresolved:enterprise_name"]
        qrow = QuarantinedRow.objects.create(batch=candidate.batch, row_no=candidate.row_no, raw_data=candidate.raw_data,
                                             reasons=reasons, reason_codes=" ".join(reasons), note=note[:300])
        _adjust(candidate.batch_id, in_review=-1, quarantined=1)
        audit.record("ingest.matchcandidate.reject", candidate, user=user, details={"quarantined_row": qrow.pk},
                     region_code=candidate.batch.region_id or "")
    return qrow


# ==================================================================================== files out
def template_xlsx(kind):
    from foodrisk.core.views.generic import xlsx_bytes

    headers = [h for _f, h, _t, _r in mapping.TEMPLATE_FIELDS[kind]]
    return xlsx_bytes([headers], sheet=mapping.KIND_LABELS[kind])


QUARANTINE_ID_HEADER = "隔离编号"
REASONS_HEADER = "问题原因"


def quarantine_xlsx(rows):
    """Quarantined rows as a workbook: id, reasons, then the original columns (edit and upload back)."""
    from foodrisk.core.views.generic import xlsx_bytes

    rows = list(rows)
    headers = []
    for q in rows:
        for h in q.corrected_data or q.raw_data:
            if h not in headers:
                headers.append(h)
    out = [[QUARANTINE_ID_HEADER, REASONS_HEADER, *headers]]
    for q in rows:
        data = q.corrected_data or q.raw_data
        out.append([q.pk, " ".join(q.reasons), *[data.get(h, "") for h in headers]])
    return xlsx_bytes(out, sheet="quarantine")


def resubmit_workbook(content, file_name, queryset, *, user=None):
    """Upload a corrected quarantine workbook: every row naming an open quarantined row in `queryset`
    (the user's scope) is resubmitted. Returns {"fixed": n, "still_failing": n, "skipped": n}."""
    table = readers.read_bytes(content, file_name)
    if QUARANTINE_ID_HEADER not in table.headers:
        raise IngestError(f"the workbook has no {QUARANTINE_ID_HEADER} column")
    id_col = table.headers.index(QUARANTINE_ID_HEADER)
    data_cols = [(i, h) for i, h in enumerate(table.headers) if h and h not in (QUARANTINE_ID_HEADER, REASONS_HEADER)]
    wanted = {}
    for cells in table.rows:
        if _blank(cells):
            continue
        try:
            pk = int(float(cells[id_col]))
        except (TypeError, ValueError, IndexError):
            continue
        wanted[pk] = {h: _cell_text(cells[i]) if i < len(cells) else "" for i, h in data_cols}
    qrows = {q.pk: q for q in bulk.key_filter(queryset.filter(status="open"), "id", list(wanted))
             .select_related("batch", "batch__source")}
    pairs = [(qrows[pk], data) for pk, data in wanted.items() if pk in qrows]
    outcomes = resubmit_many(pairs, user=user)
    fixed = sum(1 for o in outcomes if o.status != "quarantined")
    return {"fixed": fixed, "still_failing": len(outcomes) - fixed, "skipped": len(wanted) - len(pairs)}


# ==================================================================================== quality overall
def quality_overview(batches):
    """Pass rate per key field over the given batches, findings by reason code, and a trend series."""
    fields, codes, trend = {}, {}, []
    snaps = QualitySnapshot.objects.filter(batch__in=batches).select_related("batch").order_by("batch__created_at",
                                                                                               "batch_id")
    for snap in snaps:
        for f, st in snap.field_stats.items():
            agg = fields.setdefault(f, {"checked": 0, "failed": 0})
            agg["checked"] += st["checked"]
            agg["failed"] += st["failed"]
        for code, n in snap.reason_counts.items():
            codes[code] = codes.get(code, 0) + n
        trend.append({"batch": snap.batch_id, "label": f"#{snap.batch_id}", "pass_rate": snap.pass_rate,
                      "kind": snap.kind})
    for agg in fields.values():
        agg["pass_rate"] = round(1 - agg["failed"] / agg["checked"], 6) if agg["checked"] else 1.0
    return {"fields": dict(sorted(fields.items())), "reason_codes": dict(sorted(codes.items(), key=lambda kv: -kv[1])),
            "trend": trend}
