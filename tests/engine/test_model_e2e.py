"""End to end on a synthetic city: dataset → train → score → evaluate; rules + model beats rules alone."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from functools import lru_cache

import numpy as np

from foodrisk.engine import load_profile, score
from foodrisk.engine.compiler import shift_months
from foodrisk.engine.model import (
    ModelArtifact,
    evaluate,
    explain,
    explain_targets,
    feature_table,
    model_scores,
    outcomes,
)
from foodrisk.engine.model.synthetic import synth_dataset
from foodrisk.synth import generate_world

AS_OF = date(2026, 6, 30)
SPEC = load_profile("food_2016")


@lru_cache(maxsize=1)
def run():
    from foodrisk.engine.model import train_model

    w = generate_world(3000, years=5, seed=2024, as_of=AS_OF)
    ds = synth_dataset(w, SPEC)
    art = train_model(ds, SPEC, seed=0)
    ho = shift_months(AS_OF, -12)
    snap = w.to_snapshot(ho)
    labels = outcomes(w.to_snapshot(), ho, 12)
    card = evaluate(art, SPEC, snap, ho, labels)
    return w, ds, art, snap, ho, card


def test_combined_beats_rules_on_holdout():
    _, _, art, _, ho, card = run()
    m = card["metrics"]
    assert card["data_window"]["evaluated_as_of"] == ho.isoformat()
    assert card["data_window"]["holdout"] == [ho.isoformat(), ho.isoformat()]
    assert m["combined"]["auc"] > m["rules"]["auc"]
    assert m["model"]["auc"] > m["rules"]["auc"]
    assert card["checks"]["combined_auc_beats_rules"]
    for k in ("auc", "gini", "ks", "top_decile_lift"):
        assert m["combined"][k] is not None
    assert abs(m["combined"]["gini"] - (2 * m["combined"]["auc"] - 1)) < 1e-12
    assert "challenger_woe_logistic" in m and m["challenger_woe_logistic"]["auc"] > 0.6


def test_rank_ordering_lift_and_card_is_json():
    *_, card = run()
    g = card["rate_by_grade"]["combined"]
    assert g["monotone"]
    assert g["d_over_a"] >= 4
    assert card["top10_vs_random"]["combined"]["ratio"] >= 2.5
    cc = card["calibration_curve"]
    assert len(cc) == 10 and sum(b["n"] for b in cc) == card["holdout"]["n"]
    # calibrated: mean predicted close to the observed event rate over the hold-out
    pred = sum(b["mean_predicted"] * b["n"] for b in cc) / card["holdout"]["n"]
    assert abs(pred - card["holdout"]["event_rate"]) < 0.05
    assert card["stability"]["score_status"] in ("stable", "minor")
    text = json.dumps(card, ensure_ascii=False, allow_nan=False)
    assert "limitations" in json.loads(text)


def test_scoring_with_model_blends_and_explains_non_a():
    _, _, art, snap, ho, _ = run()
    art = ModelArtifact.from_json(art.to_json())
    ft = feature_table(snap, SPEC, ho)
    ms = model_scores(art, ft)
    spec = replace(SPEC, blend=art.blend)
    res = score(snap, spec, ho, model_scores=ms).scores
    rule = res["rule_score"].to_numpy(zero_copy_only=False)
    model = res["model_score"].to_numpy(zero_copy_only=False)
    total = res["total_score"].to_numpy(zero_copy_only=False)
    ok = ~np.isnan(model)
    w = art.blend
    expect = (w["rule"] * rule[ok] + w["model"] * model[ok]) / (w["rule"] + w["model"])
    assert np.allclose(total[ok], expect, atol=1e-3)
    targets = explain_targets(res)
    ex = explain(art, ft, targets)
    assert set(ex["enterprise_id"].to_pylist()) <= set(targets)
    assert ex.num_rows < ft.num_rows
