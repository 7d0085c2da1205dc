"""Detection quality against a synth ground truth (ground_truth/injected_errors.csv).

recall = injected errors found (same file, row, code and field) / injected errors;
precision = findings that were injected / findings. Entity findings (entity_unknown — a record of an
enterprise whose own row was quarantined — and entity_unresolved) are consequences, not injections, and
are reported separately.
"""

import csv
from pathlib import Path

CONSEQUENCE_CODES = {"entity_unknown", "entity_unresolved"}


def load_injected(directory):
    path = Path(directory) / "ground_truth" / "injected_errors.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        return {(r["file"], int(r["row"]), r["reason_code"], r["field"]) for r in csv.DictReader(fh)}


def detected_findings(batches):
    from .models import QuarantinedRow

    names = {b.pk: b.file_name for b in batches}
    found, consequences = set(), 0
    rows = QuarantinedRow.objects.filter(batch__in=list(names)).values_list("batch_id", "row_no", "reasons")
    for batch_id, row_no, reasons in rows.iterator(chunk_size=5000):
        for r in reasons:
            code, _, field = r.partition(":")
            if code in CONSEQUENCE_CODES:
                consequences += 1
                continue
            found.add((names[batch_id], row_no, code, field))
    return found, consequences


def evaluate(directory, batches):
    injected = load_injected(directory)
    found, consequences = detected_findings(batches)
    hit = injected & found
    by_code = {}
    for _file, _r, code, _field in injected:
        stats = by_code.setdefault(code, {"injected": 0, "found": 0})
        stats["injected"] += 1
    for _file, _r, code, _field in hit:
        by_code[code]["found"] += 1
    return {
        "injected": len(injected), "found": len(found), "true_positives": len(hit),
        "recall": round(len(hit) / len(injected), 6) if injected else 1.0,
        "precision": round(len(hit) / len(found), 6) if found else 1.0,
        "consequence_findings": consequences, "by_code": dict(sorted(by_code.items())),
        "missed": sorted(injected - found)[:20], "false": sorted(found - injected)[:20],
    }


def linking_accuracy(directory, batches):
    """Announcement rows carry no USCC: how many linked to the right enterprise (noise linked_by_name)."""
    from foodrisk.records.models import SamplingTest

    path = Path(directory) / "ground_truth" / "injected_noise.csv"
    truth = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["reason_code"] == "linked_by_name":
                truth[(r["file"], int(r["row"]))] = r["original_value"]
    by_name = {b.file_name: b.pk for b in batches}
    got = {}
    for file in {f for f, _r in truth}:
        batch_id = by_name.get(file)
        if batch_id is not None:
            rows = SamplingTest.objects.filter(source_batch=batch_id).values_list("source_row", "enterprise__uscc")
            got.update({(file, row): uscc for row, uscc in rows.iterator(chunk_size=5000)})
    linked = correct = 0
    for key, uscc in truth.items():
        if key in got:
            linked += 1
            correct += got[key] == uscc
    return {"rows": len(truth), "linked": linked, "correct": correct,
            "accuracy": round(correct / linked, 6) if linked else None}
