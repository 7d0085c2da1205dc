"""Per-leaf path attributions of a LightGBM model ("Saabas" / treeinterpreter), precomputed once per model.

In every tree, a row's prediction is the value of the one leaf it falls into. Walking from the root to that
leaf, each split on feature f moves the expected value (the training-count-weighted mean of the leaf values
below a node) from the parent's to the child's; that step is credited to f. The root's expected value is the
tree's baseline. The steps telescope, so per tree ``baseline + Σ credits = leaf value`` exactly, and over all
trees the contributions add up to the raw score minus the summed baseline (which is the same expected value
that TreeSHAP reports as its bias term).

Why not TreeSHAP: LightGBM's ``pred_contrib`` costs ~100 s for 475k rows × 250 trees on 2 cores, while a
leaf's credits depend on the leaf alone, so they can be tabulated once (leaves × features) and looked up
from ``predict(pred_leaf=True)``, which costs about twice an ordinary prediction (it writes a leaf number
per tree and row).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PathTable:
    """Credits of every leaf of a model: for tree t, ``features[t]`` are the features it splits on and
    ``credit[t][k, leaf]`` is what a row in that leaf is credited to ``features[t][k]`` (a tree gives 0 to
    the features it does not split on)."""

    n_features: int
    features: tuple[np.ndarray, ...]  # per tree: int64 feature indices
    credit: tuple[np.ndarray, ...]  # per tree: float64 (len(features[t]), leaves of t)
    baseline: float  # Σ over the trees of the root's expected value


def _expected(node: dict, into: dict[int, float]) -> tuple[float, float]:
    """(training-count-weighted mean leaf value, count) of a subtree; every node's mean goes to
    ``into[id(node)]`` (the dump itself is left as it is)."""
    if "left_child" not in node:  # a leaf (a one-leaf tree is dumped as {"leaf_value": …} only)
        e, c = float(node["leaf_value"]), float(node.get("leaf_count", 0))
    else:
        el, cl = _expected(node["left_child"], into)
        er, cr = _expected(node["right_child"], into)
        # a subtree no training row reached (possible with bagging) has no weights: plain mean then
        e, c = ((el * cl + er * cr) / (cl + cr), cl + cr) if cl + cr > 0 else ((el + er) / 2, 0.0)
    into[id(node)] = e
    return e, c


def _credits(node: dict, expected: dict[int, float], path: dict[int, float], out: dict[int, dict[int, float]]) -> None:
    """Fill out[leaf_index] = {feature: credit} for every leaf below node (path: credits so far)."""
    if "left_child" not in node:
        out[int(node.get("leaf_index", 0))] = path
        return
    f = int(node["split_feature"])
    for child in (node["left_child"], node["right_child"]):
        step = dict(path)
        step[f] = step.get(f, 0.0) + (expected[id(child)] - expected[id(node)])
        _credits(child, expected, step, out)


def path_table(dump: dict) -> PathTable:
    """The credit tables of a model from ``booster.dump_model()`` (tree_info[].tree_structure: split_feature,
    left_child/right_child, leaf_index, leaf_value, leaf_count). Leaf values are written at full precision,
    internal_value is not (6 digits), which is one reason the expected values are recomputed from the leaves;
    the other is that the count-weighted mean makes the baseline TreeSHAP's expected value."""
    if dump.get("num_tree_per_iteration", 1) != 1:
        raise ValueError("path attributions support single-output (binary or regression) models only")
    features, credit, baseline = [], [], 0.0
    for tree in dump["tree_info"]:
        root = tree["tree_structure"]
        expected: dict[int, float] = {}
        baseline += _expected(root, expected)[0]
        leaves: dict[int, dict[int, float]] = {}
        _credits(root, expected, {}, leaves)
        used = sorted({f for c in leaves.values() for f in c})
        table = np.zeros((len(used), max(1, int(tree.get("num_leaves", 1)))))
        for leaf, c in leaves.items():
            for k, f in enumerate(used):
                table[k, leaf] = c.get(f, 0.0)
        features.append(np.array(used, dtype=np.int64))
        credit.append(table)
    return PathTable(int(dump["max_feature_idx"]) + 1, tuple(features), tuple(credit), baseline)


def path_contributions(table: PathTable, leaves: np.ndarray) -> np.ndarray:
    """(rows × features) credits of the rows whose leaf in each tree is ``leaves`` (rows × trees, what
    ``predict(pred_leaf=True)`` returns)."""
    by_tree = np.ascontiguousarray(leaves.T)  # one contiguous run of leaf numbers per tree
    out = np.zeros((table.n_features, by_tree.shape[1]))  # feature-major: a tree adds whole rows of it
    for t, (feats, credit) in enumerate(zip(table.features, table.credit, strict=True)):
        if len(feats):
            # one lookup per tree into its (features × ≤ 31 leaves) table; features are distinct within a
            # tree, so the fancy-indexed += adds each once (measured: ~25 % less than a take per feature)
            out[feats] += credit.take(by_tree[t], axis=1)
    return np.ascontiguousarray(out.T)  # row-major, as pred_contrib was: rows are ranked next
