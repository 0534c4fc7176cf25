"""The RBM recipe: contrastive divergence (CD-k) for a network's `RBM` node.

Role "model": a network holding an `RBM` node (Input → RBM → Output; the RBM's
input is the flattened sample, e.g. digits at Input shape [64] or [784]). The
recipe trains the first RBM it finds. Samples are binarised: pixel values in
0..1 (set ``data.normalize`` to false) are thresholded at 0.5.

One step: the CD-k loss of the RBM (``F(v) - F(v_k)``, free energies of the
data and of the end of a k-step Gibbs chain started at the data; its gradient
is the CD-k update) through the config's optimizer, then the reconstruction
error of the batch (mean squared difference between v and one mean-field pass
down and up, per unit), which is what ``train_step`` returns as ``loss``.

Evaluation reports ``<prefix>loss`` and ``<prefix>recon_error`` (the same
figure); on the validation split also ``recon_error``, ``filters`` (the first
16 hidden units' weights as images, each scaled to 0..1), ``samples_inputs``
(a few binarised validation samples) and ``samples_images`` (their
reconstructions), images as C×H×W nested lists.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from studio.catalog.rbm import RBM
from studio.errors import TrainingError
from studio.train.metrics import is_image_shape
from studio.train.recipes.base import RecipeContext
from studio.train.recipes.single import SingleOptimizer

THRESHOLD = 0.5
FILTERS = 16
SAMPLES = 8


class RbmRecipe(SingleOptimizer):
    """CD-k training of the RBM node of the network in role "model"."""

    roles = ("model",)
    tasks = ("classification", "regression")
    loss_names = ("loss",)

    def metric_names(self, data: Any) -> list[str]:
        return ["train_loss", "val_loss", "val_recon_error", "recon_error", "lr", "samples_per_s"]

    def setup(self, ctx: RecipeContext) -> None:
        self.rbm = find_rbm(ctx.raw_models["model"])
        if ctx.data.mean is not None:
            raise TrainingError("the rbm recipe binarises pixel values in 0..1; set data.normalize to false")
        self.setup_model(ctx, trained=self.rbm)

    def train_step(self, batch: Any) -> torch.Tensor:
        v = self._visible(batch[0])
        self.optimizer.zero_grad(set_to_none=True)
        self.optimise(self.rbm.cd_loss(v))
        with torch.no_grad():  # reported: the reconstruction after the step, not the free-energy gap
            return recon_error(self.rbm, v)

    def _visible(self, x: torch.Tensor) -> torch.Tensor:
        v = binarise(x.to(self.device, non_blocking=True))
        if v.shape[1] != self.rbm.visible:
            raise TrainingError(f"the RBM has {self.rbm.visible} visible units but samples have {v.shape[1]} "
                                "values; connect the RBM to the Input (its visible size follows)")
        return v

    @torch.no_grad()
    def evaluate(self, loader: DataLoader, prefix: str = "val_",
                 with_samples: bool = False) -> dict[str, Any]:
        """Reconstruction error over ``loader``; on validation, filters and reconstructions."""
        total, count, first = torch.zeros((), device=self.device), 0, None
        for batch in loader:
            v = self._visible(batch[0])
            total += recon_error(self.rbm, v) * len(v)
            count += len(v)
            if first is None:
                first = v[:SAMPLES]
        if not count:
            return {}
        error = float(total) / count
        metrics: dict[str, Any] = {prefix + "loss": error, prefix + "recon_error": error}
        if with_samples:
            shape = self._image_shape()
            metrics["recon_error"] = error
            if shape is not None:
                metrics["filters"] = _images(_unit_range(self.rbm.weight[:FILTERS]), shape)
                metrics["samples_inputs"] = _images(first, shape)
                metrics["samples_images"] = _images(self.rbm.reconstruct(first), shape)
        return metrics

    def _image_shape(self) -> tuple[int, int, int] | None:
        """How a visible vector reads as an image: the data's C×H×W, else a square grey image."""
        shape = tuple(self.ctx.data.input_shape)
        if is_image_shape(shape) and math.prod(shape) == self.rbm.visible:
            return shape
        side = math.isqrt(self.rbm.visible)
        return (1, side, side) if side * side == self.rbm.visible else None


def find_rbm(model: nn.Module) -> RBM:
    """The first `RBM` submodule of ``model``."""
    for module in model.modules():
        if isinstance(module, RBM):
            return module
    raise TrainingError("the rbm recipe trains an RBM node, and this network has none; add an RBM node "
                        "after the Input")


def binarise(x: torch.Tensor) -> torch.Tensor:
    """Samples flattened to (N, values) and thresholded at 0.5: 1.0 above, 0.0 otherwise."""
    return (x.reshape(len(x), -1).float() > THRESHOLD).float()


def recon_error(rbm: RBM, v: torch.Tensor) -> torch.Tensor:
    """Mean squared difference per unit between ``v`` and its mean-field reconstruction (0-d)."""
    return (rbm.reconstruct(v) - v).pow(2).mean().detach()


def _unit_range(w: torch.Tensor) -> torch.Tensor:
    low = w.min(1, keepdim=True).values
    high = w.max(1, keepdim=True).values
    return (w - low) / (high - low).clamp_min(1e-8)


def _images(v: torch.Tensor, shape: tuple[int, int, int]) -> list:
    return torch.round(v.float().cpu().reshape(len(v), *shape) * 1e4).div(1e4).tolist()
