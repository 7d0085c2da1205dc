"""foodrisk.engine.model — a supervised risk model beside the rule score (pure library, no Django).

    from foodrisk.engine.model import build_dataset, train_model, model_scores, explain, evaluate
    ds = build_dataset(snapshot_at, spec, dates, label_snapshot=today, labels_until=today_date)
    art = train_model(ds, spec)                      # LightGBM, monotone, calibrated; JSON artifact
    ms = model_scores(art, feature_table(snap, spec, as_of))
    result = score(snap, spec_with_blend, as_of, model_scores=ms)

See docs/model.md.
"""

from .catalogue import CATALOGUE, FEATURES, catalogue_table, compile_features
from .dataset import (
    DEFAULT_KINDS,
    OUTCOME_KINDS,
    TRAINING_TARGETS,
    Dataset,
    LabelSpec,
    build_dataset,
    feature_labels,
    feature_matrix,
    feature_table,
    month_dates,
    outcomes,
)
from .evaluate import calibration_curve, evaluate, stability, top_vs_random
from .predict import (
    MODEL_SCORE_SCHEMA,
    artifact_features,
    contributions,
    explain,
    explain_targets,
    model_scores,
)
from .train import (
    ARTIFACT_FORMAT,
    DEFAULT_PARAMS,
    ModelArtifact,
    Split,
    apply_calibrator,
    default_monotone,
    fit_calibrator,
    psi_against,
    time_split,
    train_model,
)
from .validate import DEFAULT_GRADE_SHARES, ValidatedFit, fit_validated, grade_of, grade_thresholds

__all__ = [
    "CATALOGUE",
    "DEFAULT_GRADE_SHARES",
    "FEATURES",
    "ValidatedFit",
    "artifact_features",
    "catalogue_table",
    "compile_features",
    "contributions",
    "fit_validated",
    "grade_of",
    "grade_thresholds",
    "ARTIFACT_FORMAT",
    "DEFAULT_KINDS",
    "TRAINING_TARGETS",
    "DEFAULT_PARAMS",
    "MODEL_SCORE_SCHEMA",
    "OUTCOME_KINDS",
    "Dataset",
    "LabelSpec",
    "ModelArtifact",
    "Split",
    "apply_calibrator",
    "build_dataset",
    "calibration_curve",
    "default_monotone",
    "evaluate",
    "explain",
    "explain_targets",
    "feature_labels",
    "feature_matrix",
    "feature_table",
    "fit_calibrator",
    "model_scores",
    "month_dates",
    "outcomes",
    "psi_against",
    "stability",
    "time_split",
    "top_vs_random",
    "train_model",
]
