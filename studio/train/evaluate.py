"""Evaluating trained weights on a held-out split, alone or as an ensemble.

`evaluate(members, data, split, method)` loads each member (a project and a
weights file, `Member`), reads the data the first member's project trains on
(the same split a run makes: `studio.data.load_data` with the project's data
settings and seed), runs every member over the chosen split in eval mode and
returns the figures of `studio.train.eval_metrics`: for classifiers accuracy,
per-class precision / recall / F1, macro F1, the confusion matrix, ROC and PR
curves with their AUCs; for regression MSE, MAE and R². With several members
the result holds each member's figures (``members``) and the ensemble's
(``ensemble``: their mean probability or a vote); its top-level figures are
the ensemble's. Other tasks (language model, GAN, ...) report the recipe's own
evaluation on the split, one member at a time.

The split is ``test`` when the data has one (``data.test_split`` above 0, or a
source with its own test files), else ``val``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from studio.compile import compile_network
from studio.compile.weights import apply_weights, load_weights
from studio.errors import StudioError
from studio.graph import Project
from studio.train import checkpoint
from studio.train.config import TrainConfig
from studio.train.devices import resolve_device
from studio.train.eval_metrics import classifier_figures, combine, headline, regression_figures
from studio.train.loaders import eval_loader
from studio.train.losses import resolve_loss_name
from studio.train.project_run import data_for, models_for, optimiser_settings, training_copy

SPLITS = ("test", "val")
# Recipes whose network maps inputs to targets: evaluated by their predictions.
PREDICTING_RECIPES = ("supervised", "distillation")
_LOGIT_LOSSES = ("bce_logits", "cross_entropy", "auto")


@dataclass
class Member:
    """One set of trained weights to evaluate: the project they fit and the file.

    Attributes:
        project: the project the weights were trained from.
        weights: final.pt, best.pt, a checkpoint or a state_dict file.
        root: the project's folder (relative data paths start there); None: the current folder.
    """

    project: Project
    weights: str | Path
    root: Path | None = None


def evaluate(members: list[Member], data: dict | None = None, split: str | None = None,
             method: str = "mean") -> dict[str, Any]:
    """The test figures of `members` (see the module docstring).

    Args:
        members: one or more; all must do the same task on the same data.
        data: the data section to use instead of the first project's.
        split: "test", "val" or None (test when there is one).
        method: how an ensemble combines its members: "mean" or "vote".

    Raises:
        StudioError: bad weights, data or split, in a message that says which.
    """
    if not members:
        raise StudioError("nothing to evaluate: give at least one weights file (--weights CKPT)")
    first = members[0]
    training = first.project.training or {}
    splits = data_for(first.project, training, data if data is not None else first.project.data, first.root)
    dataset, split = pick_split(splits, split)
    recipe = training.get("recipe", "supervised")
    if recipe not in PREDICTING_RECIPES:
        if len(members) > 1:
            raise StudioError(f"an ensemble needs classifiers or regressors; the {recipe} recipe's networks "
                              "are evaluated one at a time (give one --weights)")
        return {"split": split, **recipe_figures(first, splits, dataset)}
    outputs = [predict(load_model(m), dataset, splits.task, _loss_name(m.project, splits.task)) for m in members]
    targets = _targets(dataset)
    result = _figures(splits, targets, outputs[0] if len(outputs) == 1 else combine(outputs, splits.task, method))
    if len(members) > 1:
        result["members"] = [{"weights": str(m.weights), **headline(_figures(splits, targets, out))}
                             for m, out in zip(members, outputs)]
        result["ensemble"] = {"method": method, **headline(result)}
    return {"split": split, **result}


def pick_split(splits, split: str | None) -> tuple[Any, str]:
    """The dataset of `split` ("test", "val", or None: test when there is one, else val)."""
    if split is not None and split not in SPLITS:
        raise StudioError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    test = splits.test if splits.test is not None and len(splits.test) else None
    if split == "test" and test is None:
        raise StudioError("the data has no test split: set data.test_split in the project "
                          "(studio train --set data.test_split=0.2, then train again) or use --split val")
    if split is None:
        split = "test" if test is not None else "val"
    dataset = test if split == "test" else splits.val
    if dataset is None or not len(dataset):
        raise StudioError(f"the {split} split of the data is empty; raise data.val_split or data.test_split")
    return dataset, split


def load_model(member: Member) -> torch.nn.Module:
    """The member's network as it trained (its input shape and class count), with its weights, in eval mode."""
    copy = training_copy(member.project, member.project.training or {})
    net = copy.network()
    model = compile_network(copy, net.name)
    apply_weights(model, load_weights(copy, member.weights, net.name), strict=True)
    return model.eval()


@torch.no_grad()
def predict(model: torch.nn.Module, dataset, task: str, loss_name: str, batch_size: int = 256) -> np.ndarray:
    """The model's output over `dataset`: class probabilities (N×K) for classifiers, else the values."""
    outs = []
    for batch in eval_loader(dataset, batch_size):
        out = model(batch[0])
        outs.append((out[0] if isinstance(out, (tuple, list)) else out).float())
    out = torch.cat(outs)
    if task != "classification":
        return out.numpy()
    return probabilities(out, loss_name).numpy()


def probabilities(out: torch.Tensor, loss_name: str) -> torch.Tensor:
    """Class probabilities from a classifier's output (scores, log-probabilities or one sigmoid unit)."""
    if out.dim() == 2 and out.shape[1] > 1:
        return torch.softmax(out, dim=1)
    if out.numel() != len(out):
        raise StudioError(f"the network gives {tuple(out.shape[1:])} scores per sample; evaluating a classifier "
                          "needs one score per class (or one for two classes)")
    p = out.reshape(-1)
    p = torch.sigmoid(p) if loss_name in _LOGIT_LOSSES else p.clamp(0, 1)
    return torch.stack([1 - p, p], dim=1)


def recipe_figures(member: Member, splits, dataset) -> dict[str, Any]:
    """A recipe's own evaluation of `member` on `dataset` (the scalars its evaluate() reports)."""
    from studio.train.recipes import RecipeContext, make_recipe

    training = member.project.training or {}
    config = TrainConfig.from_dict(optimiser_settings(training))
    device = resolve_device(config.device)
    models = models_for(member.project, training, member.root)
    for role, model in models.items():
        try:
            model.load_state_dict(checkpoint.load_weights(member.weights, role))
        except RuntimeError as exc:
            raise StudioError(f"{member.weights}: the weights do not fit network role '{role}' "
                              f"({str(exc).splitlines()[0]}); pick the run's final.pt") from None
        model.to(device).eval()
    recipe = make_recipe(config.recipe)
    recipe.setup(RecipeContext(models, models, splits, config, device, False, False, steps_per_epoch=1))
    figures = recipe.evaluate(eval_loader(dataset, config.batch_size), prefix="")
    return {"task": splits.task, "samples": len(dataset),
            **{k: v for k, v in figures.items() if isinstance(v, (int, float))}}


def _figures(splits, targets: np.ndarray, output: np.ndarray) -> dict[str, Any]:
    if splits.task == "classification":
        return classifier_figures(targets, output, splits.class_names)
    return regression_figures(targets, output)


def _targets(dataset) -> np.ndarray:
    return torch.cat([batch[1].reshape(len(batch[1]), -1) for batch in eval_loader(dataset, 1024)]).numpy()


def _loss_name(project: Project, task: str) -> str:
    return resolve_loss_name((project.training or {}).get("loss", "auto"), task)
