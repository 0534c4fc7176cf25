"""Explanations of a classifier's answer on one image, with Captum: where in the input it looked.

Three methods (`METHODS`), each Captum's own implementation:

- ``gradcam``: `captum.attr.LayerGradCam` at a convolution node (by default
  the network's last ``Conv2d``), upsampled to the input's size;
- ``saliency``: `captum.attr.Saliency`, the absolute input gradient;
- ``integrated_gradients``: `captum.attr.IntegratedGradients` from an all-zero
  (the mean, once normalised) baseline.

Every method explains the class the network predicts. `heat_map` turns the
attribution into an H×W map in [0, 1] (channels summed as absolute values),
and `overlay` blends it, coloured by `COLOURS`, over the input image.

`Explainer(project, weights, root)` loads a trained project once (its
training copy, as `studio.train.project_run` builds it, and the data's
validation split, the split the confusion matrix counts) and explains its
samples: `Explainer.explain(sample, method, node)`; `Explainer.cell_samples`
lists the samples of one cell of the confusion matrix. The network runs on
the training device (``training.device``, CUDA first when it is "auto");
the samples stay on the CPU and go over one at a time. `studio explain` and
the training dock's Explain tab use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from studio.compile.fx import attribute_names
from studio.compile.weights import apply_weights, load_weights
from studio.errors import StudioError
from studio.graph import Project
from studio.train.evaluate import PREDICTING_RECIPES
from studio.train.metrics import denormalised, is_image_shape

METHODS = ("gradcam", "saliency", "integrated_gradients")
IG_STEPS = 32
# The heat colour map, "hot": dark red (little) through red and orange to yellow (most), as positions 0..1.
# No blue or green in it: a blue or green image (sky, grass) must not hide it; see `overlay`.
COLOURS = np.array([(0.45, 0.0, 0.0), (0.9, 0.1, 0.0), (1.0, 0.55, 0.0), (1.0, 0.95, 0.2)])


class ExplainError(StudioError):
    """An explanation that cannot be made: not a classifier, not a convolution, no such sample."""


def _first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


def attribution(model: nn.Module, x: torch.Tensor, target: int, method: str,
                layer: nn.Module | None = None) -> torch.Tensor:
    """Captum's attribution of class ``target`` for one input ``x`` (C×H×W): a tensor of x's shape, or 1×h×w for Grad-CAM."""
    from captum.attr import IntegratedGradients, LayerGradCam, Saliency  # late: ~1 s to import

    def forward(inputs: torch.Tensor) -> torch.Tensor:
        return _first(model(inputs)).float()

    inputs = x.unsqueeze(0).float().requires_grad_(True)
    if method == "gradcam":
        return LayerGradCam(forward, layer).attribute(inputs, target=target, relu_attributions=True)[0].detach()
    if method == "saliency":
        return Saliency(forward).attribute(inputs, target=target, abs=True)[0].detach()
    if method == "integrated_gradients":
        return IntegratedGradients(forward).attribute(inputs, baselines=torch.zeros_like(inputs), target=target,
                                                      n_steps=IG_STEPS)[0].detach()
    raise ExplainError(f"unknown explanation method {method!r}; use one of {', '.join(METHODS)}")


def heat_map(attr: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    """An H×W map in [0, 1] of ``attr`` (C×h×w): absolute values summed over channels, resized to ``size``."""
    heat = attr.detach().float().abs().sum(dim=0, keepdim=True)
    if tuple(heat.shape[-2:]) != tuple(size):
        heat = nn.functional.interpolate(heat[None], size=size, mode="bilinear", align_corners=False)[0]
    heat = heat[0].nan_to_num(0.0)
    top = float(heat.max())
    return (heat / top).numpy() if top > 0 else heat.numpy()


def colour(heat: np.ndarray) -> np.ndarray:
    """H×W×3 colours in [0, 1] for a heat map in [0, 1] (`COLOURS`, interpolated)."""
    stops = np.linspace(0.0, 1.0, len(COLOURS))
    return np.stack([np.interp(heat, stops, COLOURS[:, c]) for c in range(3)], axis=-1)


def base_colours(image: np.ndarray) -> np.ndarray:
    """H×W×3 colours in [0, 1] of a C×H×W image: its own colours with 3 or more channels (RGB first), else grey."""
    rgb = image[:3].transpose(1, 2, 0) if image.shape[0] >= 3 else image.mean(axis=0)[..., None]
    return np.clip(rgb, 0.0, 1.0)


def overlay(image: np.ndarray, heat: np.ndarray, side: int = 256) -> Image.Image:
    """``image`` (C×H×W in [0, 1]; in colour when RGB) with ``heat`` (H×W in [0, 1]) coloured over it, about ``side`` pixels."""
    # Transparent where the network did not look: the image shows as it is there (a tinted
    # background hid blue images), and the heat's own colours mark where it looked.
    alpha = 0.85 * heat[..., None]
    rgb = (1 - alpha) * base_colours(image) + alpha * colour(heat)
    picture = Image.fromarray((np.clip(rgb, 0.0, 1.0) * 255 + 0.5).astype(np.uint8), "RGB")
    scale = max(1, round(side / max(heat.shape)))
    return picture.resize((heat.shape[1] * scale, heat.shape[0] * scale), Image.Resampling.NEAREST)


@dataclass
class Explanation:
    """One sample explained: its heat map (H×W in [0, 1]), its image (C×H×W in [0, 1]) and the classes."""

    sample: int
    method: str
    node: str | None
    heat: np.ndarray
    image: np.ndarray
    pred: int
    true: int

    def picture(self, side: int = 256) -> Image.Image:
        """The heat map over the image (`overlay`)."""
        return overlay(self.image, self.heat, side)


def conv_nodes(project: Project, model: nn.Module, network: str | None = None) -> dict[str, str]:
    """Node name -> its module's name in ``model``, for every ``Conv2d`` node of the network, in graph order."""
    net = project.network(network)
    names = attribute_names(net)
    modules = dict(model.named_modules())
    return {node.name: names[node.id] for node in net.iter_nodes()
            if isinstance(modules.get(names[node.id]), nn.Conv2d)}


class Explainer:
    """A trained classifier of a project and its validation split, ready to explain samples.

    Args:
        project: the project (its first network is the classifier).
        weights: a weights file written by a run (``final.pt``, ``last.pt``, ...).
        root: the folder the data settings' relative paths start from.
        device: where the network runs (a torch device name; None: the training device setting).

    Raises:
        ExplainError: the project is not an image classifier, or its data has no validation samples.
        StudioError: the weights do not fit, the data cannot be read.
    """

    def __init__(self, project: Project, weights: str | Path, root: Path | None = None, device: str | None = None):
        from studio.train.devices import resolve_device
        from studio.train.project_run import data_for, models_for, training_copy

        training = dict(project.training or {})
        if training.get("recipe", "supervised") not in PREDICTING_RECIPES:  # a distilled student classifies too
            raise ExplainError(f"explanations need a classifier; project '{project.name}' trains with the "
                               f"{training['recipe']} recipe")
        self.project = training_copy(project, training)
        self.model = models_for(project, training, root)["model"]
        apply_weights(self.model, load_weights(self.project, weights))
        self.device = resolve_device(device or training.get("device", "auto"))
        self.model.to(self.device).eval()
        self.data = data_for(project, training, dict(project.data or {}), root)
        if self.data.task != "classification" or not is_image_shape(tuple(self.data.input_shape)):
            raise ExplainError(f"explanations need a classifier of images (C×H×W); project '{project.name}' "
                               f"has {self.data.task} data of shape {list(self.data.input_shape)}")
        self.samples = self.data.val
        self.convolutions = conv_nodes(self.project, self.model)
        self._predictions: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.samples)

    def image(self, sample: int) -> np.ndarray:
        """Sample ``sample``'s image, normalisation undone, C×H×W in [0, 1]."""
        return denormalised(self._x(sample), self.data.mean, self.data.std).clamp(0, 1).numpy()

    def label(self, sample: int) -> int:
        """The true class of sample ``sample``."""
        return int(self.samples[self._checked(sample)][1])

    def predictions(self) -> torch.Tensor:
        """The predicted class of every validation sample (computed once)."""
        if self._predictions is None:
            loader = torch.utils.data.DataLoader(self.samples, batch_size=256)
            with torch.no_grad():
                self._predictions = torch.cat([_first(self.model(x.to(self.device))).argmax(dim=-1).cpu()
                                               for x, _ in loader])
        return self._predictions

    def cell_samples(self, true: int, pred: int, limit: int = 64) -> list[int]:
        """The validation samples of class ``true`` predicted as ``pred`` (a confusion-matrix cell), at most ``limit``."""
        labels = torch.as_tensor([int(self.samples[i][1]) for i in range(len(self.samples))])
        hits = ((labels == true) & (self.predictions() == pred)).nonzero().flatten()
        return hits[:limit].tolist()

    def explain(self, sample: int, method: str, node: str | None = None) -> Explanation:
        """Explain the predicted class of validation sample ``sample`` with ``method`` (Grad-CAM at ``node``)."""
        x = self._x(sample).to(self.device)
        layer, node = self._layer(node) if method == "gradcam" else (None, None)
        with torch.no_grad():
            pred = int(_first(self.model(x[None])).argmax(dim=-1)[0])
        attr = attribution(self.model, x, pred, method, layer).cpu()
        return Explanation(sample=sample, method=method, node=node, heat=heat_map(attr, tuple(x.shape[-2:])),
                           image=self.image(sample), pred=pred, true=self.label(sample))

    def _layer(self, node: str | None) -> tuple[nn.Module, str]:
        if not self.convolutions:
            raise ExplainError(f"Grad-CAM needs a Conv2d node; network '{self.project.network().name}' has none: "
                               f"use --method saliency or integrated_gradients")
        node = node or list(self.convolutions)[-1]
        if node not in self.convolutions:
            raise ExplainError(f"node '{node}' is not a convolution of network '{self.project.network().name}'; "
                               f"Grad-CAM works at one of: {', '.join(self.convolutions)}")
        return self.model.get_submodule(self.convolutions[node]), node

    def _checked(self, sample: int) -> int:
        if not 0 <= sample < len(self.samples):
            raise ExplainError(f"sample {sample} is out of range: the validation split has {len(self.samples)} "
                               f"samples (0 to {len(self.samples) - 1})")
        return sample

    def _x(self, sample: int) -> torch.Tensor:
        return torch.as_tensor(self.samples[self._checked(sample)][0]).float()
