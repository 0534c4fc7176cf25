"""Test figures from predictions, computed with scikit-learn's metrics.

`classifier_figures(targets, probabilities, class_names)` gives accuracy,
macro F1, per-class precision / recall / F1 / support, the confusion matrix,
one-vs-rest ROC curves with their AUC (per class and the macro mean, as
``roc_auc_score(..., multi_class="ovr")`` defines it) and precision-recall
curves with their average precision. `regression_figures` gives MSE, MAE and
R². `combine` turns the outputs of several members into the ensemble's:
the mean of their probabilities (or values), or a majority vote.

Every result is JSON-native (floats, ints, lists); curves are rounded to
four decimals so a ``--json`` print stays readable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import metrics as skm

from studio.errors import StudioError

COMBINE_METHODS = ("mean", "vote")


def classifier_figures(targets: np.ndarray, probs: np.ndarray,
                       class_names: list[str] | None = None) -> dict[str, Any]:
    """Every figure of a classifier from its class probabilities (N×K) and the true classes (N)."""
    targets = np.asarray(targets).reshape(-1).astype(np.int64)
    labels = list(range(probs.shape[1]))
    preds = probs.argmax(axis=1)
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        targets, preds, labels=labels, zero_division=0)
    curves = [_class_curves(targets == k, probs[:, k]) for k in labels]
    aucs = [c["roc_auc"] for c in curves if c["roc_auc"] is not None]
    per_class = [{"class": k, "name": _name(class_names, k), "precision": float(precision[k]),
                  "recall": float(recall[k]), "f1": float(f1[k]), "support": int(support[k]),
                  "roc_auc": curves[k]["roc_auc"], "average_precision": curves[k]["average_precision"]}
                 for k in labels]
    return {"task": "classification", "samples": int(len(targets)),
            "accuracy": float(skm.accuracy_score(targets, preds)),
            "macro_f1": float(skm.f1_score(targets, preds, labels=labels, average="macro", zero_division=0)),
            # the macro one-vs-rest AUC: the mean over the classes the split holds (sklearn's "ovr" macro)
            "roc_auc": float(np.mean(aucs)) if aucs else None,
            "per_class": per_class,
            "confusion_matrix": skm.confusion_matrix(targets, preds, labels=labels).tolist(),
            "curves": [{"class": k, "roc": c["roc"], "pr": c["pr"]} for k, c in enumerate(curves)]}


def _class_curves(positive: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    """ROC and PR curve of one class against the rest; None where the split lacks positives or negatives."""
    if positive.all() or not positive.any():
        return {"roc_auc": None, "average_precision": None, "roc": None, "pr": None}
    fpr, tpr, _ = skm.roc_curve(positive, score)
    precision, recall, _ = skm.precision_recall_curve(positive, score)
    return {"roc_auc": float(skm.roc_auc_score(positive, score)),
            "average_precision": float(skm.average_precision_score(positive, score)),
            "roc": {"fpr": _rounded(fpr), "tpr": _rounded(tpr)},
            "pr": {"recall": _rounded(recall), "precision": _rounded(precision)}}


def regression_figures(targets: np.ndarray, values: np.ndarray) -> dict[str, Any]:
    """MSE, MAE and R² over every predicted value."""
    y, v = np.asarray(targets, dtype=np.float64).reshape(-1), np.asarray(values, dtype=np.float64).reshape(-1)
    if y.shape != v.shape:
        raise StudioError(f"the network gives {v.size} values for {y.size} targets; "
                          "its Output does not fit this data")
    return {"task": "regression", "samples": int(len(targets)),
            "mse": float(skm.mean_squared_error(y, v)), "mae": float(skm.mean_absolute_error(y, v)),
            "r2": float(skm.r2_score(y, v)) if len(y) > 1 else None}


def combine(outputs: list[np.ndarray], task: str, method: str = "mean") -> np.ndarray:
    """The ensemble's output from its members': the mean probability (or value), or a majority vote.

    A vote gives each class the share of members that chose it; ties go to the
    class with the higher mean probability (it adds less than one vote).
    """
    if method not in COMBINE_METHODS:
        raise StudioError(f"unknown ensemble method {method!r}; use one of {', '.join(COMBINE_METHODS)}")
    stacked = np.stack(outputs)
    mean = stacked.mean(axis=0)
    if method == "mean":
        return mean
    if task != "classification":
        raise StudioError("a vote needs classifiers; average the members of a regression instead (drop --vote)")
    votes = np.zeros_like(mean)
    for out in outputs:
        votes[np.arange(len(out)), out.argmax(axis=1)] += 1
    return (votes + 0.5 * mean) / (len(outputs) + 0.5)


def headline(figures: dict[str, Any]) -> dict[str, Any]:
    """The scalar figures of a result (for a member's line or a table)."""
    keys = ("accuracy", "macro_f1", "roc_auc") if figures.get("task") == "classification" \
        else tuple(k for k, v in figures.items() if isinstance(v, (int, float)) and k != "samples")
    return {k: figures.get(k) for k in keys}


def _name(names: list[str] | None, k: int) -> str:
    return str(names[k]) if names and k < len(names) else str(k)


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), 4) for v in values]
