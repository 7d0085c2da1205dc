"""Per-leaf path attributions (engine/model/attribution.py): the credits of a hand-computed tree, equality
with TreeSHAP where the two must agree (every tree splits on one feature), additivity on a real booster."""

from __future__ import annotations

import numpy as np
import pytest

from foodrisk.engine.model.attribution import path_contributions, path_table


def _leaf(i: int, value: float, count: int) -> dict:
    return {"leaf_index": i, "leaf_value": value, "leaf_count": count}


def _split(feature: int, left: dict, right: dict) -> dict:
    return {"split_feature": feature, "internal_value": 0.0, "left_child": left, "right_child": right}


DUMP = {
    "num_tree_per_iteration": 1,
    "max_feature_idx": 2,
    "tree_info": [
        # E(right) = (2·6 + 4·4) / 10 = 2.8; E(root) = (−1·30 + 2.8·10) / 40 = −0.05
        {"num_leaves": 3, "tree_structure": _split(0, _leaf(0, -1.0, 30), _split(1, _leaf(1, 2.0, 6), _leaf(2, 4.0, 4)))},
        {"num_leaves": 1, "tree_structure": {"leaf_value": 0.5}},  # no split: all baseline
        # f0 twice on one path: E(right) = (3 + 5·2) / 3, E(root) = (1 + 13) / 4 = 3.5
        {"num_leaves": 3, "tree_structure": _split(0, _leaf(0, 1.0, 1), _split(0, _leaf(1, 3.0, 1), _leaf(2, 5.0, 2)))},
    ],
}


def test_credits_of_a_hand_computed_model():
    table = path_table(DUMP)
    assert table.baseline == pytest.approx(-0.05 + 0.5 + 3.5, abs=1e-12)
    leaves = np.array([[0, 0, 0], [1, 0, 2], [2, 0, 1]])
    got = path_contributions(table, leaves)
    want = np.array(
        [
            [-0.95 + (1.0 - 3.5), 0.0, 0.0],  # left in both trees: only f0 moved them
            [2.85 + (5.0 - 3.5), 2.0 - 2.8, 0.0],  # the two f0 steps of tree 3 add up to leaf − root
            [2.85 + (3.0 - 3.5), 4.0 - 2.8, 0.0],
        ]
    )
    assert np.allclose(got, want, atol=1e-12)
    leaf_values = np.array([[-1.0, 0.5, 1.0], [2.0, 0.5, 5.0], [4.0, 0.5, 3.0]])
    assert np.allclose(got.sum(axis=1) + table.baseline, leaf_values.sum(axis=1), atol=1e-12)
    with pytest.raises(ValueError):
        path_table({**DUMP, "num_tree_per_iteration": 3})


def test_equal_to_treeshap_when_each_tree_splits_on_one_feature():
    """With one feature per tree, the only attribution of a tree's output is to that feature, so SHAP and
    path attributions must agree exactly — an independent check of the tables (multi-level trees, the same
    feature repeated along a path, missing values)."""
    import lightgbm as lgb

    rng = np.random.default_rng(7)
    X = rng.normal(size=(3000, 4))
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) ** 2 + rng.normal(size=len(X)) > 0.5).astype(int)
    params = {"objective": "binary", "num_leaves": 6, "min_data_in_leaf": 20, "feature_fraction": 0.25,
              "bagging_fraction": 0.7, "bagging_freq": 1, "verbose": -1, "num_threads": 1, "seed": 1}
    b = lgb.train(params, lgb.Dataset(X, y), 40)
    table = path_table(b.dump_model())
    assert all(len(f) <= 1 for f in table.features) and any(len(c[0]) > 2 for c in table.credit)
    got = path_contributions(table, b.predict(X, pred_leaf=True))
    shap = b.predict(X, pred_contrib=True)
    assert np.abs(got - shap[:, :-1]).max() < 1e-9
    assert abs(table.baseline - shap[0, -1]) < 1e-9
    assert np.abs(got.sum(axis=1) + table.baseline - b.predict(X, raw_score=True)).max() < 1e-9
