"""Fast random-but-plausible snapshots for property tests and benchmarks (numpy, fully vectorised).

Not the synthetic world (``foodrisk.synth``): no names, no lineage, fake USCCs. Each enterprise gets a
latent risk propensity; failures, penalties and complaints concentrate on risky enterprises so the
score has something to find. About 1/60 of the records are dated after ``as_of`` so point-in-time
filtering is exercised.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .schema import SCHEMAS

EPOCH = date(1970, 1, 1)

# share of non-licence records per table
RECORD_SHARES = {
    "inspections": 0.40,
    "complaints": 0.25,
    "sampling_tests": 0.18,
    "penalties": 0.12,
    "list_entries": 0.05,
}
VIOLATION_TYPES = np.array(
    ["hygiene", "labelling", "additive", "expired_food", "unlicensed", "records", "拒绝、阻挠监督检查"]
)
VIOLATION_P = [0.3, 0.25, 0.12, 0.15, 0.05, 0.12, 0.01]


def _strings(values: np.ndarray, idx: np.ndarray) -> pa.Array:
    """Dictionary decode in Arrow (C++): far faster than building Python string objects."""
    return pc.take(pa.array(values.tolist(), pa.string()), pa.array(idx.astype(np.int32)))


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(days.astype(np.int32), pa.int32()).cast(pa.date32())


def _pick(rng: np.random.Generator, n: int, p: list[float]) -> np.ndarray:
    return rng.choice(len(p), size=n, p=np.asarray(p) / np.sum(p))


def sample_snapshot(
    n_enterprises: int,
    n_records: int,
    *,
    as_of: date = date(2026, 11, 1),
    seed: int = 0,
    years: int = 5,
) -> dict[str, pa.Table]:
    """A snapshot of ``n_enterprises`` and about ``n_records`` records across all record tables."""
    rng = np.random.default_rng(seed)
    n = int(n_enterprises)
    asof_d = (as_of - EPOCH).days
    lo = asof_d - 365 * years
    hi = asof_d + 30  # ~1/60 of records in the future

    # -- enterprises ----------------------------------------------------------------------------------------
    ids = np.arange(1, n + 1, dtype=np.int64)
    risk = rng.lognormal(0.0, 0.9, n)
    forms = np.array(["sales", "catering", "production", "canteen", "special"])
    form_i = _pick(rng, n, [0.45, 0.33, 0.09, 0.11, 0.02])
    tier_base = np.array([1, 2, 3, 3, 4])[form_i]
    tier = np.clip(tier_base + rng.integers(-1, 2, n), 1, 4).astype(np.int8)
    scales = np.array(["large", "medium", "small", "micro"])
    scale_i = _pick(rng, n, [0.07, 0.18, 0.35, 0.40])
    regions = np.array(["330102", "330105", "330106", "330108", "330110", "330111", "330122"])
    statuses = np.array(["active", "cancelled", "revoked", "suspended"])
    est = asof_d - rng.integers(-60, 365 * 20, n)  # a few established after as-of
    est_valid = rng.random(n) > 0.01
    key = (tier == 4) & (rng.random(n) < 0.5) | (rng.random(n) < 0.03)
    uscc = pc.binary_join_element_wise(
        "91330100SAMPLE", pc.utf8_lpad(pc.cast(pa.array(ids), pa.string()), 8, "0"), ""
    )
    enterprises = pa.Table.from_arrays(
        [
            pa.array(ids),
            uscc,
            _strings(forms, form_i),
            _strings(scales, scale_i),
            _strings(regions, rng.integers(0, len(regions), n)),
            _strings(statuses, _pick(rng, n, [0.93, 0.04, 0.01, 0.02])),
            pa.array(tier, pa.int8()),
            pa.array(est.astype(np.int32), pa.int32(), mask=~est_valid).cast(pa.date32()),
            pa.array(key),
            pa.nulls(n, pa.string()),  # food_categories: the sample does not model them
        ],
        schema=SCHEMAS["enterprises"],
    )

    # -- licences: one per enterprise plus some renewals -------------------------------------------------
    n_lic_extra = n // 5
    lic_owner = np.concatenate([np.arange(n), rng.integers(0, n, n_lic_extra)])
    m = len(lic_owner)
    issued = np.maximum(asof_d - rng.integers(-30, 365 * 6, m), est[lic_owner])
    expires = issued + 5 * 365
    lic_status = np.where(expires >= asof_d, 0, 1)
    lic_status = np.where(rng.random(m) < 0.01, 2, lic_status)
    kind_i = np.isin(form_i[lic_owner], [2, 4]).astype(np.int8)  # production/special → SC
    kind_i = np.where(kind_i == 1, 0, 1)
    licences = pa.Table.from_arrays(
        [
            pa.array(ids[lic_owner]),
            _strings(np.array(["SC", "JY"]), kind_i),
            _dates(issued),
            _dates(expires),
            _strings(np.array(["valid", "expired", "revoked", "cancelled"]), lic_status),
        ],
        schema=SCHEMAS["licences"],
    )

    rest = max(0, int(n_records) - m)
    weight = risk / risk.sum()
    uniform = np.full(n, 1.0 / n)

    def owners(k: int, w: np.ndarray) -> np.ndarray:
        return rng.choice(n, size=k, p=w)

    def when(k: int, o: np.ndarray) -> np.ndarray:
        # no record before the enterprise existed
        return np.maximum(rng.integers(lo, hi + 1, k), est[o])

    # -- inspections: everyone gets inspected, risky firms fail more ---------------------------------------
    k = int(rest * RECORD_SHARES["inspections"])
    o = owners(k, 0.5 * uniform + 0.5 * weight)
    r = risk[o]
    u = rng.random(k)
    p_fail = np.clip(0.04 * r, 0, 0.5)
    result_i = np.where(u < p_fail, 2, np.where(u < p_fail + 0.25, 1, 0))
    key_failed = np.where(result_i == 2, rng.poisson(0.8, k), 0).astype(np.int32)
    gen_failed = np.where(result_i >= 1, rng.poisson(2.0, k), 0).astype(np.int32)
    rect = (result_i == 2) & (rng.random(k) < 0.8) | (result_i == 1) & (rng.random(k) < 0.3)
    inspections = pa.Table.from_arrays(
        [
            pa.array(ids[o]),
            _dates(when(k, o)),
            _strings(
                np.array(["routine", "special", "random", "flight"]), _pick(rng, k, [0.6, 0.15, 0.2, 0.05])
            ),
            _strings(np.array(["pass", "basic", "fail"]), result_i),
            pa.array(key_failed),
            pa.array(gen_failed),
            pa.array(rect),
        ],
        schema=SCHEMAS["inspections"],
    )

    # -- sampling tests ------------------------------------------------------------------------------------
    k = int(rest * RECORD_SHARES["sampling_tests"])
    o = owners(k, 0.6 * uniform + 0.4 * weight)
    fail = rng.random(k) < np.clip(0.03 * risk[o], 0, 0.4)
    sampling = pa.Table.from_arrays(
        [
            pa.array(ids[o]),
            _dates(when(k, o)),
            _strings(
                np.array(["national", "provincial", "city", "county"]), _pick(rng, k, [0.1, 0.2, 0.35, 0.35])
            ),
            _strings(np.array(["pass", "fail"]), fail.astype(np.int8)),
        ],
        schema=SCHEMAS["sampling_tests"],
    )

    # -- penalties -----------------------------------------------------------------------------------------
    k = int(rest * RECORD_SHARES["penalties"])
    o = owners(k, weight)
    sev_i = _pick(rng, k, [0.4, 0.4, 0.15, 0.05])
    fine = np.round(np.exp(rng.normal(8.0, 1.2, k)) * (1 + 3 * sev_i), 2)
    conf = np.where(rng.random(k) < 0.3, np.round(np.exp(rng.normal(7.0, 1.0, k)), 2), 0.0)
    penalties = pa.Table.from_arrays(
        [
            pa.array(ids[o]),
            _dates(when(k, o)),
            _strings(np.array(["minor", "general", "heavy", "serious"]), sev_i),
            _strings(VIOLATION_TYPES, _pick(rng, k, VIOLATION_P)),
            pa.array(fine),
            pa.array(conf),
            pa.array((sev_i == 3) & (rng.random(k) < 0.2)),
            pa.array(rng.random(k) < 0.1),
        ],
        schema=SCHEMAS["penalties"],
    )

    # -- complaints ----------------------------------------------------------------------------------------
    k = int(rest * RECORD_SHARES["complaints"])
    o = owners(k, 0.5 * uniform + 0.5 * weight)
    complaints = pa.Table.from_arrays(
        [
            pa.array(ids[o]),
            _dates(when(k, o)),
            _strings(
                np.array(["12315", "12345", "letter", "visit", "online"]),
                _pick(rng, k, [0.4, 0.3, 0.05, 0.05, 0.2]),
            ),
            pa.array(rng.random(k) < np.clip(0.2 * risk[o], 0.05, 0.8)),
        ],
        schema=SCHEMAS["complaints"],
    )

    # -- list entries --------------------------------------------------------------------------------------
    k = int(rest * RECORD_SHARES["list_entries"])
    o = owners(k, weight)
    listed = when(k, o)
    serious = rng.random(k) < np.clip(0.05 * risk[o], 0.01, 0.5)
    removed = listed + rng.integers(30, 1100, k)
    removed_mask = rng.random(k) < 0.5  # True = still listed (null removed_on)
    list_entries = pa.Table.from_arrays(
        [
            pa.array(ids[o]),
            _strings(np.array(["abnormal", "serious"]), serious.astype(np.int8)),
            _dates(listed),
            pa.array(removed.astype(np.int32), pa.int32(), mask=removed_mask).cast(pa.date32()),
            pa.array(rng.random(k) < 0.1),
        ],
        schema=SCHEMAS["list_entries"],
    )

    return {
        "enterprises": enterprises,
        "licences": licences,
        "inspections": inspections,
        "sampling_tests": sampling,
        "penalties": penalties,
        "complaints": complaints,
        "list_entries": list_entries,
    }
