"""Evaluation metrics."""

from __future__ import annotations

import numpy as np
import pytest

from foodrisk.engine import metrics as m


def test_auc_gini_ks_on_known_example():
    y = [0, 0, 1, 1]
    s = [0.1, 0.4, 0.35, 0.8]
    assert m.auc(y, s) == pytest.approx(0.75)
    assert m.gini(y, s) == pytest.approx(0.5)
    assert m.ks(y, s) == pytest.approx(0.5)
    assert m.auc([0, 1], [1, 2]) == 1.0 and m.ks([0, 1], [1, 2]) == 1.0
    with pytest.raises(ValueError):
        m.auc([1, 1], [0.2, 0.3])


def test_top_decile_lift():
    y = np.array([1] * 10 + [0] * 90)
    s = np.arange(100)[::-1]  # events have the highest scores
    assert m.top_lift(y, s, 0.1) == pytest.approx(10.0)
    assert m.top_lift(y, -s, 0.1) == 0.0


def test_psi_and_rule_of_thumb():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, 20000)
    assert m.psi(a, rng.normal(0, 1, 20000)) < 0.01
    shifted = m.psi(a, rng.normal(1.0, 1, 20000))
    assert shifted > 0.25 and m.psi_status(shifted) == "major"
    assert [m.psi_status(v) for v in (0.05, 0.1, 0.25, 0.3)] == ["stable", "minor", "minor", "major"]
    assert m.psi_categorical(list("AABBCD"), list("AABBCD")) == pytest.approx(0.0)
    assert m.psi_categorical(list("AAAAAAAD"), list("DDDDDDDA")) > 0.25


def test_migration_matrix():
    mig = m.migration_matrix(list("AABCD"), list("ABBDC"))
    assert mig.matrix.tolist() == [[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]
    assert mig.stable_share == pytest.approx(0.4)
    assert mig.up_share == pytest.approx(0.4) and mig.down_share == pytest.approx(0.2)
    assert mig.as_dict()["grades"] == ["A", "B", "C", "D"]


def test_wilson_interval_and_event_rates():
    lo, hi = m.wilson_interval(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)
    lo, hi = m.wilson_interval(0, 20)
    assert lo == 0.0 and 0.15 < hi < 0.17
    assert m.wilson_interval(0, 0) == (0.0, 1.0)
    rates = m.event_rate_by_grade(list("AAAABBCD"), [0, 0, 0, 1, 0, 1, 1, 1])
    assert [r["rate"] for r in rates] == [0.25, 0.5, 1.0, 1.0]
    assert all(r["ci_low"] <= r["rate"] <= r["ci_high"] for r in rates)
    assert m.is_monotone(rates)
    assert not m.is_monotone(m.event_rate_by_grade(list("AB"), [1, 0]))
