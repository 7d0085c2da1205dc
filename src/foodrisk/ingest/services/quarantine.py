"""Quarantined rows and the review queue: resubmitted corrections, discards, candidate decisions. Each
decision moves the batch's counters by the same amounts, so they keep adding up."""

from collections import Counter

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from foodrisk.core import bulk
from foodrisk.core.crypto import is_sealed, mask_sealed, seal, unseal
from foodrisk.core.services import audit

from ..models import Batch, MatchCandidate, QuarantinedRow
from ..validators import reason_label
from . import IngestError
from .pipeline import COUNT_FIELD, Pipeline


def store_rejects(batch, outcomes):
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



def _adjust(batch_id, **deltas):
    Batch.objects.filter(pk=batch_id).update(**{k: F(k) + v for k, v in deltas.items()})


def resubmit(qrow, corrected, *, user=None):
    """Run a corrected quarantined row through the same pipeline. Returns the Outcome."""
    return resubmit_many([(qrow, corrected)], user=user)[0]


def resubmit_many(pairs, *, user=None):
    """[(QuarantinedRow, corrected {header: value})] → their Outcomes, in order; rows still failing keep their new
    reasons. Per batch one pipeline pass and one transaction (a corrected workbook of thousands of rows costs a
    few queries per batch, not per row), an audit entry per row."""
    for qrow, _corrected in pairs:
        if qrow.status != "open":
            raise IngestError(_("Quarantined row %(id)s was already decided (%(status)s).")
                              % {"id": qrow.pk, "status": qrow.get_status_display()})
    decided_by = user if user is not None and user.is_authenticated else None
    results = [None] * len(pairs)
    by_batch = {}
    for i, (qrow, corrected) in enumerate(pairs):
        corrected = in_clear(qrow, corrected)
        by_batch.setdefault(qrow.batch_id, {}).setdefault(tuple(corrected), []).append((i, qrow, corrected))
    for groups in by_batch.values():
        batch = next(iter(groups.values()))[0][1].batch
        pipe = Pipeline(batch, changed_by=user)
        sensitive = {headers: pipe.sensitive_headers(list(headers)) for headers in groups}
        now, entries, changed, reviews, counts = timezone.now(), [], [], [], Counter()
        with transaction.atomic():
            for headers, group in groups.items():  # rows with the same columns go through the pipeline together
                outcomes = pipe.process(list(headers), [(q.row_no, [c[h] for h in headers]) for _i, q, c in group],
                                        mode="resubmit")
                for (i, qrow, corrected), outcome in zip(group, outcomes, strict=True):
                    results[i] = outcome
                    before = audit.snapshot(qrow)
                    qrow.corrected_data = {h: seal(v) if h in sensitive[headers] else v for h, v in corrected.items()}
                    qrow.decided_by, qrow.updated_at = decided_by, now
                    if outcome.status == "quarantined":
                        qrow.reasons, qrow.reason_codes = outcome.reasons, " ".join(outcome.reasons)[:500]
                        action, details = "ingest.quarantine.resubmit_failed", None
                    else:
                        qrow.status = "fixed" if outcome.status != "review" else "resubmitted"
                        if outcome.status == "review":
                            reviews.append(outcome)
                        counts[COUNT_FIELD[outcome.status]] += 1
                        counts["quarantined"] -= 1
                        action, details = "ingest.quarantine.resubmit", {"outcome": outcome.status}
                    changed.append(qrow)
                    entries.append(audit.new_entry(action, qrow, before=before, after=audit.snapshot(qrow), user=user,
                                                   details=details, region_code=batch.region_id or ""))
            bulk.update(QuarantinedRow, changed, ["corrected_data", "decided_by", "reasons", "reason_codes", "status",
                                                  "updated_at"])
            store_rejects(batch, reviews)
            if counts:
                _adjust(batch.pk, **counts)
            audit.record_many(entries)
    return results


def shown(data):
    """A quarantined row's cells as pages, workbooks and the API show them: sensitive ones masked."""
    return {h: mask_sealed(v) for h, v in (data or {}).items()}


def in_clear(qrow, corrected):
    """The corrected cells to process: a sensitive cell sent back as it was shown (masked) keeps the stored
    value; one the user typed anew is taken as typed."""
    stored = qrow.corrected_data or qrow.raw_data
    out = {}
    for h, v in corrected.items():
        before = stored.get(h)
        out[h] = unseal(before) if is_sealed(before) and v == mask_sealed(before) else v
    return out


def discard(qrow, reason, *, user=None):
    if qrow.status != "open":
        raise IngestError(_("Quarantined row %(id)s was already decided (%(status)s).")
                          % {"id": qrow.pk, "status": qrow.get_status_display()})
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
        raise IngestError(_("Candidate %(id)s was already decided (%(status)s).")
                          % {"id": candidate.pk, "status": candidate.get_status_display()})
    enterprise_id = enterprise.pk if enterprise is not None else candidate.enterprise_id
    batch = candidate.batch
    pipe = Pipeline(batch, changed_by=user)
    headers = list(candidate.raw_data)
    with transaction.atomic():
        outcome = pipe.process(headers, [(candidate.row_no, [unseal(candidate.raw_data[h]) for h in headers])],
                               mode="resubmit", forced_enterprise=enterprise_id)[0]
        if outcome.status in ("quarantined", "review"):
            raise IngestError(_("The row does not pass validation: %(reasons)s")
                              % {"reasons": "；".join(reason_label(r, batch.kind) for r in outcome.reasons)})
        candidate.status, candidate.decided_at = "confirmed", timezone.now()
        candidate.enterprise_id = enterprise_id
        candidate.decided_by = user if user is not None and user.is_authenticated else None
        candidate.save()
        _adjust(batch.pk, in_review=-1, **{COUNT_FIELD[outcome.status]: 1})
        audit.record("ingest.matchcandidate.confirm", candidate, user=user,
                     details={"enterprise": enterprise_id, "score": candidate.score, "outcome": outcome.status},
                     region_code=batch.region_id or "")
    return outcome


def reject_candidate(candidate, *, user=None, note=""):
    """No match: the row goes to quarantine (entity_unresolved), still not lost."""
    if candidate.status != "pending":
        raise IngestError(_("Candidate %(id)s was already decided (%(status)s).")
                          % {"id": candidate.pk, "status": candidate.get_status_display()})
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

