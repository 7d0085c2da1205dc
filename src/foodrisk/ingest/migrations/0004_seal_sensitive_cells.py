"""Quarantined rows and review candidates kept the legal representative's cell in clear (raw and corrected
cells): seal it like the field itself (core.crypto.seal). New rows are sealed by the pipeline, which knows each
profile's columns; for the rows already stored, the cells are found by the shipped headers of the field (its
template header, the field name and its aliases)."""

from django.db import migrations

BATCH = 500


def _sensitive_keys():
    from foodrisk.ingest import mapping

    headers = {"legal_representative", *mapping.ENGLISH_ALIASES.get("legal_representative", ())}
    headers |= {h for f, h, _t, _r in mapping.FIELDS["enterprises"] if f == "legal_representative"}
    return {mapping.header_key(h) for h in headers}


def _seal_rows(model, fields, keys):
    from foodrisk.core.crypto import is_sealed, seal
    from foodrisk.ingest import mapping

    changed = []
    for row in model.objects.filter(batch__kind="enterprises").iterator(chunk_size=BATCH):
        touched = False
        for name in fields:
            data = getattr(row, name)
            if not isinstance(data, dict):
                continue
            for header, value in data.items():
                if mapping.header_key(header) in keys and isinstance(value, str) and value and not is_sealed(value):
                    data[header] = seal(value)
                    touched = True
        if touched:
            changed.append(row)
        if len(changed) >= BATCH:
            model.objects.bulk_update(changed, fields)
            changed = []
    if changed:
        model.objects.bulk_update(changed, fields)


def seal_cells(apps, schema_editor):
    keys = _sensitive_keys()
    _seal_rows(apps.get_model("ingest", "QuarantinedRow"), ["raw_data", "corrected_data"], keys)
    _seal_rows(apps.get_model("ingest", "MatchCandidate"), ["raw_data"], keys)


class Migration(migrations.Migration):

    dependencies = [
        ("ingest", "0003_profile_versions_region"),
    ]

    operations = [
        migrations.RunPython(seal_cells, migrations.RunPython.noop),
    ]
