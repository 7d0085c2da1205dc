"""The pipeline of one batch: clean → validate → resolve → dedupe (in the batch and against the archive) →
write through the archive services, a chunk at a time."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils import timezone

from foodrisk.core import bulk, params
from foodrisk.core.crypto import seal
from foodrisk.core.models import Region
from foodrisk.core.querysets import region_prefix
from foodrisk.core.validators import is_digits
from foodrisk.enterprises.models import CrosswalkEntry, Enterprise, Licence
from foodrisk.enterprises.sensitive import SENSITIVE_FIELDS
from foodrisk.enterprises.services import name_initials, upsert_enterprises, upsert_licences
from foodrisk.records.models import RECORD_KINDS, ListEntry
from foodrisk.records.services import upsert_records

from .. import mapping, profile_format
from .. import normalisers as N
from .. import validators as V
from ..resolution import Resolver
from .profiles import profile_config

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
EARLIEST_DATE = dt.date(1900, 1, 1)  # an earlier date in a file is a typo or a placeholder (0001-01-01), not a fact


@dataclass
class Outcome:
    row_no: int
    status: str  # new | updated | unchanged | merged | quarantined | review
    reasons: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    raw: dict | None = None
    candidate: tuple | None = None  # (enterprise_id, score, name, address)
    link: str | None = None  # how the enterprise was found: uscc | licence | crosswalk | name | review
    ties: list | None = None  # [(scheme, local id, enterprise id)] crosswalk entries this row makes


# the batch counter each outcome adds to
COUNT_FIELD = {"new": "accepted_new", "updated": "accepted_updated", "unchanged": "unchanged",
               "merged": "merged_duplicates", "review": "in_review", "quarantined": "quarantined"}


_STARTER = object()


class Pipeline:
    """Everything one batch needs, loaded once: regions, enterprise keys (and names when needed), thresholds.
    changed_by: who the written rows' history (RecordVersion) names; default the batch's starter, for a
    resubmit or a confirmed candidate the person deciding (None: the acting user, as on the audit entry)."""

    def __init__(self, batch, config=None, *, changed_by=_STARTER):
        self.batch = batch
        self.changed_by = batch.started_by_id if changed_by is _STARTER else changed_by
        self.kind = batch.kind
        self.config = config or profile_config(batch.profile or mapping.profile_code_for(batch.kind))
        self.profile = profile_format.Compiled(self.config, batch.kind)
        self.import_day = batch.import_day or timezone.localdate()
        self.org_check = bool(params.get("uscc_org_code_check", True))
        self.auto = float(params.get("entity_auto_link_threshold", 0.92))
        self.review = float(params.get("entity_review_threshold", 0.75))
        self.splink_min_pairs = params.get("entity_splink_min_pairs")  # None: resolution.LARGE_BATCH
        self.scope = region_prefix(batch.region_id)
        self.types = profile_format.field_types(self.kind)
        self.required = mapping.REQUIRED[self.kind]
        self.key = mapping.NATURAL_KEY[self.kind]
        self.model = MODELS[self.kind]
        self._caps = _storage_caps(self.model, self.kind)
        self.source = batch.source.name
        self._regions = None
        self._ent_ids = None
        self._resolver = None
        self._region_names = None
        self._constants = None
        self._licence_ids = None
        self._crosswalk = None
        self._uscc_of = None
        self.seen = {}  # natural key → the row this batch holds for it
        self._memo = {}  # type → {cell: (value, reason code)}: see clean()
        self._row_plan = self._make_row_plan()
        self.unmapped = ()  # see absent_fields
        self.counts = {"new": 0, "updated": 0, "unchanged": 0, "merged": 0, "quarantined": 0, "review": 0}
        self.reason_counts = {}
        self.note_counts = {}
        self.field_failures = {}
        self.link_counts = {}
        self.link_rows = {}  # method → [[first row, last row], ...]: kept as ranges, they stay short on the batch
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
    def region_names(self):
        """{region name or full name: [codes]} within the batch's jurisdiction (上城区 → 330102)."""
        if self._region_names is None:
            self._region_names = region_names(self.scope)
        return self._region_names

    @property
    def constants(self):
        """[(field, cleaned value, reason code)] of the profile's constants (cleaned once per batch)."""
        if self._constants is None:
            self._constants = [(f, *self._cell(self.types[f], v, None)) for f, v in self.profile.constants.items()
                               if f in self.types]
        return self._constants

    @property
    def licence_ids(self):
        if self._licence_ids is None:
            qs = Licence.objects.all()
            if self.scope:
                qs = qs.filter(enterprise__region__code__startswith=self.scope)
            self._licence_ids = dict(qs.values_list("licence_no", "enterprise_id").iterator(chunk_size=20000))
        return self._licence_ids

    @property
    def crosswalk(self):
        """{scheme: {local id: enterprise id}} for the schemes the profile names, within the jurisdiction."""
        if self._crosswalk is None:
            qs = CrosswalkEntry.objects.filter(scheme__in=self.profile.schemes)
            if self.scope:
                qs = qs.filter(enterprise__region__code__startswith=self.scope)
            self._crosswalk = {scheme: {} for scheme in self.profile.schemes}
            for scheme, local, pk in qs.values_list("scheme", "local_id", "enterprise_id").iterator(chunk_size=20000):
                self._crosswalk[scheme][local] = pk
        return self._crosswalk

    def uscc_of(self, enterprise_id):
        if self._uscc_of is None:
            self._uscc_of = {pk: uscc for uscc, pk in self.ent_ids.items()}
        return self._uscc_of.get(enterprise_id)

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
        for i, f, t, memo, formats in plan:
            v = cells[i] if i < n else ""
            if v is None or v == "":
                values[f] = None
                continue
            if memo is None:  # lists: each row gets its own
                value, code = cell(t, v, formats)
            else:
                # the same cell text always cleans the same way within a batch (codes, dates, names repeat)
                key = v if v.__class__ is str else (v.__class__, v)  # True == 1, yet reads differently
                try:
                    hit = memo.get(key)
                except TypeError:  # an unhashable JSON value
                    hit = key = None
                if hit is None:
                    hit = cell(t, v, formats)
                    if key is not None:
                        if len(memo) >= _MEMO_MAX:
                            memo.clear()
                        memo[key] = hit
                value, code = hit
            if code:
                reasons.append(f"{code}:{f}")
            values[f] = value
        for f, value, code in self.constants:
            if values.get(f) is None:
                values[f] = value
                if code:
                    reasons.append(f"{code}:{f}")
        profile = self.profile
        if profile.derive:
            self._derive(values)
        failed = {r.partition(":")[2] for r in reasons} if reasons else ()
        for f in self.required:
            v = values.get(f)
            # class checks, not `v in (None, "", [])`: comparing a date or a Decimal with "" and [] is slow
            if (v is None or (v.__class__ is str or v.__class__ is list) and not v) and f not in failed:
                reasons.append(f"required_missing:{f}")
        pair = mapping.DATE_ORDER.get(self.kind)
        if pair:
            start, end = values.get(pair[0]), values.get(pair[1])
            if start and end and end < start:
                reasons.append(f"date_order:{pair[1]}")
        for f, limit, by_length, code in self._caps:  # what the model field could not hold: the row, not the file
            v = values.get(f)
            if v is not None and (len(v) if by_length else v) > limit:
                values[f] = None
                reasons.append(f"{code}:{f}")
        return values, reasons

    def cell_plan(self, cols):
        """[(column index, field, type, memo of that type and date patterns or None, date patterns)] for clean()."""
        memos = self._memo
        plan = []
        for i, f, formats in cols:
            t = "code" if profile_format.is_crosswalk(f) else self.types[f]
            # no memory for lists (mutable) nor for the natural key (unique: remembering it only costs)
            memo = None if t in _UNSHARED or f == self.key else memos.setdefault((t, formats), {})
            plan.append((i, f, t, memo, formats))
        return plan

    def _cell(self, t, v, formats):
        """(value, reason code or None) for one non-blank cell of type t (formats: the column's date patterns)."""
        if v.__class__ is str and N.UNSTORABLE.search(v):
            return None, V.TEXT_NUL if "\x00" in v else V.ENCODING_INVALID
        profile = self.profile
        if t == "uscc" or t == "code" or t == "licence" or t == "region":
            s = N.code(v)
            if not s:
                return None, None
            if t == "region" and profile.region_values:
                s = profile.region_values.get(N.text(v).lower()) or profile.region_values.get("*") or s
            if t == "region" and not is_digits(s):  # a region's name: resolved within the jurisdiction
                codes = self.region_names.get(N.text(v), ())
                if len(codes) != 1:
                    return s, V.REGION_INVALID
                s = codes[0]
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
                d = N.parse_date(v, formats or profile.date_formats)
            except N.Invalid:
                return None, V.DATE_INVALID
            if d is not None and t == "date" and d > self.import_day:
                return d, V.DATE_FUTURE
            if d is not None and d < EARLIEST_DATE:
                return None, V.DATE_OUT_OF_RANGE
            return d, None
        if t.startswith("enum:") or t == "bool":
            s = N.text(v)
            if not s:
                return None, None
            table = profile.bools if t == "bool" else profile.values[t[5:]]
            value = table.get(s.lower())
            if value is None:
                value = table.get("*")  # the profile's "any other value"
            return value, V.ENUM_INVALID if value is None else None
        if t == "money" or t == "count":
            try:
                return (N.parse_amount(v) if t == "money" else N.parse_count(v)), None
            except N.OutOfRange:
                return None, V.NUMBER_TOO_LARGE
            except N.Invalid:
                return None, V.AMOUNT_INVALID
        if t == "name":
            return N.company_name(v) or None, None
        if t == "address":
            return N.address(v) or None, None
        if t == "list":
            return N.split_list(v, pipes=True), None
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
        for f, rule in derive.items():
            if values.get(f):
                continue
            if "hash" in rule:  # a record key for sources without numbers (profile_format.derived_key)
                values[f] = profile_format.derived_key(values, rule["hash"], rule.get("prefix", ""))
            elif "from_uscc" in rule:  # characters 3–8 of a valid USCC are the registering region
                uscc = values.get(rule["from_uscc"])
                if uscc and len(uscc) == 18 and uscc[2:8] in self.regions and uscc[2:8].startswith(self.scope):
                    values[f] = uscc[2:8]
            elif "from_crosswalk" in rule:  # a file that names the enterprise only by the source's own id
                scheme = rule["from_crosswalk"]
                pk = self.crosswalk[scheme].get(values.get(profile_format.CROSSWALK + scheme))
                if pk is not None:
                    values[f] = self.uscc_of(pk)

    # ---------------------------------------------------------------- resolution
    def resolve(self, values, reasons, notes, forced_enterprise=None):
        """(enterprise id or None, review match or None, how it was linked). In this order: the USCC (it decides
        alone when given); the licence number; the source's own ids through the crosswalk; name + address by the
        resolver (a grey-zone match goes to review). An id that names no enterprise falls through to the name."""
        if forced_enterprise is not None:
            return forced_enterprise, None, "review"
        failed = {r.partition(":")[2] for r in reasons}
        uscc = values.get("uscc")
        if uscc:
            if "uscc" in failed:
                return None, None, None
            pk = self.ent_ids.get(uscc)
            if pk is None:
                reasons.append("entity_unknown:uscc")
            return pk, None, "uscc"
        unknown = []
        licence_no = values.get("licence_no")
        if licence_no and "licence_no" not in failed:
            pk = self.licence_ids.get(licence_no)
            if pk is not None:
                return pk, None, "licence"
            unknown.append("licence_no")
        for scheme in self.profile.schemes:
            local = values.get(profile_format.CROSSWALK + scheme)
            if local:
                pk = self.crosswalk[scheme].get(local)
                if pk is not None:
                    return pk, None, "crosswalk"
                unknown.append(profile_format.CROSSWALK + scheme)
        name = values.get("enterprise_name")
        if not name:
            if unknown:
                reasons.extend(f"entity_unknown:{f}" for f in unknown)
            elif "uscc" not in failed and "licence_no" not in failed:
                reasons.append("required_missing:uscc")
            return None, None, None
        match = self.resolver.match(name, values.get("enterprise_address") or "")
        if match.decision == "link":
            notes.append("linked_by_name")
            if match.name_variant:
                notes.append("name_variant")
            return match.enterprise_id, None, "name"
        reasons.append("entity_unresolved:enterprise_name")
        if match.decision == "review":
            return None, match, "queued"
        return None, None, None

    def ties(self, values, enterprise_id):
        """The crosswalk entries a linked row makes: its source ids not yet tied to any enterprise."""
        out = []
        for scheme in self.profile.schemes:
            local = values.get(profile_format.CROSSWALK + scheme)
            if local and local not in self.crosswalk[scheme]:
                out.append((scheme, local, enterprise_id))
        return out

    def tie(self, outcomes):
        """Write the crosswalk entries of the accepted rows (an id already tied elsewhere stays where it is)."""
        entries, seen = [], set()
        for o in outcomes:
            if not o.ties or o.status in ("quarantined", "review"):
                continue
            for scheme, local, ref in o.ties:
                if (scheme, local) not in seen:
                    seen.add((scheme, local))
                    entries.append(CrosswalkEntry(scheme=scheme, local_id=local[:100], enterprise_id=ref,
                                                  source=self.source[:100], source_batch=self.batch.pk,
                                                  linked_by=o.link or "uscc"))
        usccs = [e.enterprise_id for e in entries if isinstance(e.enterprise_id, str)]
        if usccs:  # an enterprise file ties ids to the enterprises it has just written: their ids by USCC
            ids = {u: pk for qs in bulk.rows_for_keys(Enterprise.objects.all(), "uscc", usccs)
                   for u, pk in qs.values_list("uscc", "id")}
            for e in entries:
                if isinstance(e.enterprise_id, str):
                    e.enterprise_id = ids.get(e.enterprise_id)
            if self._uscc_of is not None:  # a later chunk naming these ids finds their USCC (from_crosswalk)
                self._uscc_of.update({pk: u for u, pk in ids.items()})
            entries = [e for e in entries if e.enterprise_id is not None]
        if entries:
            CrosswalkEntry.objects.bulk_create(entries, ignore_conflicts=True, batch_size=5000)
            for e in entries:
                self.crosswalk[e.scheme].setdefault(e.local_id, e.enterprise_id)

    def absent_fields(self, columns):
        """The kind's fields this file does not fill (no column of it, no constant, no derive rule): an update
        keeps what the archive holds, so a file from a system that lacks a column never erases what another
        system delivered. Former names are left out: they grow by the name change (_write)."""
        present = {f for _i, f, _formats in columns} | set(self.profile.constants) | set(self.profile.derive)
        return tuple(f for f in FILE_FIELDS[self.kind] if f in self.types and f not in present
                     and f != "former_names")

    # ---------------------------------------------------------------- model rows
    def _make_row_plan(self):
        """[(field, how, default)]: how 0 = the cleaned value, 1 = enterprise, 2 = region, 3 = licence kind (from
        its number)."""
        plan = []
        for f in FILE_FIELDS[self.kind]:
            how = 1 if f == "enterprise_id" else 2 if f == "region_id" else 3 if (
                f == "kind" and self.kind == "licences") else 0
            plan.append((f, how, _default(self.kind, f)))
        return plan

    def model_row(self, values, enterprise_id, row_no):
        row = {"source_row": row_no}
        get = values.get
        for f, how, default in self._row_plan:
            if how == 0:
                v = get(f)
                if v is None:
                    v = [] if default.__class__ is list else default  # a list of its own for each row
                row[f] = v
            elif how == 1:
                row[f] = enterprise_id
            elif how == 2:
                row[f] = get("region_code")
            else:
                row[f] = values["licence_no"][:2]
        if self.kind == "list_entries":
            uscc = values.get("uscc") or self.uscc_of(enterprise_id)
            row["entry_key"] = ListEntry.make_key(uscc, values["list_kind"], values["listed_on"])
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
        self.constants  # noqa: B018
        if self.profile.schemes:
            self.crosswalk  # noqa: B018
        if any(t == "region" for t in self.types.values()) and self.kind == "enterprises":
            self.region_names  # noqa: B018
        if self.kind != "enterprises" or any("from_crosswalk" in r for r in self.profile.derive.values()):
            self.uscc_of(None)  # reads ent_ids
        if self.kind != "enterprises":
            if self.profile.maps("licence_no") and self.kind != "licences":
                self.licence_ids  # noqa: B018
            if self.profile.maps("enterprise_name"):
                self.resolver  # noqa: B018

    def link_names(self, headers, numbered_rows):
        """Hand the (name, address) pairs of the rows without a USCC to the resolver at once: a large batch of
        them is linked by splink in one job instead of row by row (see resolution.Resolver.prepare)."""
        if self.kind == "enterprises" or "uscc" in self.required:
            return None
        cols = {f: i for i, f, _formats in self.profile.columns(headers)}
        name, address, uscc = cols.get("enterprise_name"), cols.get("enterprise_address"), cols.get("uscc")
        if name is None:
            return None
        # rows a source id links (licence number, crosswalk) need no name match
        ids = [(cols[f], self.licence_ids if f == "licence_no" else self.crosswalk[profile_format.crosswalk_scheme(f)])
               for f in cols if f == "licence_no" or profile_format.is_crosswalk(f)]

        def cell(cells, i):
            return cells[i] if i is not None and i < len(cells) else None

        return self.resolver.prepare([(cell(cells, name), cell(cells, address) or "")
                                      for _no, cells in numbered_rows if not cell(cells, uscc)
                                      and not any(N.code(cell(cells, i)) in known for i, known in ids)])

    def sensitive_headers(self, headers):
        """The headers whose cells feed a sensitive field (kept sealed in quarantined rows)."""
        return {headers[i] for i, f, _dates in self.profile.columns(headers) if f in SENSITIVE_FIELDS}

    def prepare(self, headers, numbered_rows, *, forced_enterprise=None):
        """Clean, validate and resolve a chunk (no writes): [(outcome, model row or None)]."""
        columns = self.profile.columns(headers)
        self.unmapped = self.absent_fields(columns)
        plan = self.cell_plan(columns)
        sealed = {i for i, f, _dates in columns if f in SENSITIVE_FIELDS}
        schemes = self.profile.schemes
        prepared = []
        for row_no, cells in numbered_rows:
            values, reasons = self.clean(cells, plan)
            notes = []
            enterprise_id, match, link = None, None, None
            if self.kind != "enterprises":
                enterprise_id, match, link = self.resolve(values, reasons, notes, forced_enterprise)
            outcome = Outcome(row_no, "", reasons, notes, link=link)
            if schemes and not reasons:
                outcome.ties = self.ties(values, values.get("uscc") if self.kind == "enterprises" else enterprise_id)
            if reasons:
                outcome.raw = _raw(headers, cells, sealed)
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
        if self.profile.schemes:
            self.tie(outcomes)
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
        wanted = ["id", key, *FILE_FIELDS[kind], *preserve, *(("name_initials",) if kind == "enterprises" else ())]
        # the chunk's stored rows, read once: to compare here and, handed to the upsert, as the "before" of their
        # history (RecordVersion). Locked (in key order, PostgreSQL) so that the before is what the upsert overwrites.
        locked = connection.in_atomic_block
        existing = {}
        for qs in bulk.rows_for_keys(model.objects.all(), key, keys):
            if locked:
                qs = qs.select_for_update(of=("self",)).order_by("pk")
            existing.update((rec[key], rec) for rec in qs.values(*wanted))
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
            for f in self.unmapped:
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
              "new_keys": new_keys,  # just looked up: no history to compare with
              "stored": existing if locked else None}  # the history's "before": not read again
        if kind == "enterprises":
            # copies: `seen` keeps the rows as cleaned, to compare with the same USCC in a later chunk
            rows = [{**row} for row in rows]
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

    def progress(self):
        """The findings counted so far: kept on the batch with every chunk, so that a resumed run goes on counting."""
        return {"reasons": self.reason_counts, "notes": self.note_counts, "field_failures": self.field_failures,
                "written": self.written, "links": self.link_counts, "link_rows": self.link_rows}

    def restore(self, progress):
        """Go on from what an interrupted run of this batch counted (see progress)."""
        progress = progress or {}
        self.reason_counts = dict(progress.get("reasons") or {})
        self.note_counts = dict(progress.get("notes") or {})
        self.field_failures = dict(progress.get("field_failures") or {})
        self.written = progress.get("written") or 0
        self.link_counts = dict(progress.get("links") or {})
        self.link_rows = {method: [list(r) for r in ranges] for method, ranges in (progress.get("link_rows") or {}).items()}

    def _count(self, outcome):
        self.rows += 1
        self.counts[outcome.status] += 1
        link = outcome.link if outcome.status != "quarantined" else None  # a row waiting for review: "queued"
        if link:
            self.link_counts[link] = self.link_counts.get(link, 0) + 1
            ranges = self.link_rows.setdefault(link, [])
            if ranges and ranges[-1][1] + 1 == outcome.row_no:
                ranges[-1][1] = outcome.row_no
            else:
                ranges.append([outcome.row_no, outcome.row_no])
        for r in outcome.reasons:
            self.reason_counts[r] = self.reason_counts.get(r, 0) + 1
            f = r.partition(":")[2]
            self.field_failures[f] = self.field_failures.get(f, 0) + 1
        if outcome.status in ("quarantined", "review"):
            return
        for n in outcome.notes:
            self.note_counts[n] = self.note_counts.get(n, 0) + 1


def region_names(scope):
    """{region name or full name: [codes]} of the active divisions under the region prefix `scope` ("" = all)."""
    qs = Region.objects.filter(active=True)
    if scope:
        qs = qs.filter(code__startswith=scope)
    names = {}
    for code, name, full_name in qs.values_list("code", "name", "full_name"):
        for n in {N.text(name), N.text(full_name)} - {""}:
            names.setdefault(n, []).append(code)
    return names


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


def _storage_caps(model, kind):
    """[(field, limit, by length, reason code)] of the cleaned fields the model stores with a limit: the longest
    text of a CharField, the largest number of a DecimalField (max_digits) or integer field (its range on every
    database, e.g. 32767 for a PositiveSmallIntegerField). Checked when the row is cleaned, so that the bulk
    write never meets a value it cannot store."""
    types = mapping.FIELD_TYPES[kind]
    caps = []
    for f in (*FILE_FIELDS[kind], mapping.NATURAL_KEY[kind]):
        if f not in types:
            continue
        field_ = model._meta.get_field(f)
        if isinstance(field_, models.CharField) and field_.max_length:
            caps.append((f, field_.max_length, True, V.TEXT_TOO_LONG))
        elif isinstance(field_, models.DecimalField):
            largest = Decimal(10) ** (field_.max_digits - field_.decimal_places) - Decimal(10) ** -field_.decimal_places
            caps.append((f, largest, False, V.NUMBER_TOO_LARGE))
        elif isinstance(field_, models.IntegerField) and types[f] == "count":
            largest = BaseDatabaseOperations.integer_field_ranges[field_.get_internal_type()][1]
            caps.append((f, largest, False, V.NUMBER_TOO_LARGE))
    return caps


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


def cell_text(value):
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10] if not isinstance(value, dt.datetime) or not value.time() else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return N.storable(str(value))


def _raw(headers, cells, sealed=()):
    """The row as read, for quarantine and review; the cells of sensitive fields (`sealed` column indexes)
    encrypted like the field itself (core.crypto.seal)."""
    raw = {}
    for i, h in enumerate(headers):
        if h:
            value = cell_text(cells[i]) if i < len(cells) else ""
            raw[N.storable(h)] = seal(value) if i in sealed else value
    return raw


def blank_row(cells):
    """Nothing but empty cells or whitespace (most rows answer at their first cell)."""
    return all(c is None or c == "" or (c.__class__ is str and c.isspace()) for c in cells)
