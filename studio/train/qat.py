"""Quantization-aware training (``training.qat``) through torchao.

With ``qat: "int8"`` every ``nn.Linear`` of the networks being trained is
swapped for torchao's ``FakeQuantizedLinear`` before the run starts: the
forward pass rounds the activations (int8 per token, asymmetric) and the
weights (int8 per output channel, symmetric) as the int8 kernels will, and
the gradients pass straight through, so the weights learn to live with the
rounding. The swap keeps the parameter names, so checkpoints and ``final.pt``
hold plain float weights that every other command reads (``studio export``,
``studio compress --method quantize``). At the end the run converts a copy
(torchao's convert step: int8 weights in tensor subclasses) and saves its
state_dict as ``final_int8.pt``.

torchao's QAT fake-quantizes Linear (and Embedding) layers only: convolutions
train in float (the README says so). torchao is optional: a run that asks
for QAT without it is refused with a message naming the setting.
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from torch import nn

from studio.errors import TrainingError

SCHEMES = ("off", "int8")
CONVERTED_FILE = "final_int8.pt"


def _config(step: str):
    """torchao's QATConfig for int8 dynamic activations and int8 per-channel weights."""
    try:
        from torchao.quantization import Int8DynamicActivationIntxWeightConfig, PerAxis
        from torchao.quantization.qat import QATConfig
    except ImportError:
        raise TrainingError("training.qat: quantization-aware training needs the torchao package "
                            "(pip install torchao), or set qat to \"off\"") from None
    base = Int8DynamicActivationIntxWeightConfig(weight_dtype=torch.int8, weight_granularity=PerAxis(0))
    return QATConfig(base, step=step)


def _is_linear(module: nn.Module, fqn: str = "") -> bool:
    return type(module) is nn.Linear


def _quantize(model: nn.Module, step: str) -> None:
    from torchao.quantization import quantize_

    # Converting takes torchao's own filter: it finds the FakeQuantizedLinear layers (Linear subclasses).
    quantize_(model, _config(step), filter_fn=_is_linear if step == "prepare" else None)


def prepare(models: dict[str, nn.Module], scheme: str) -> None:
    """Fake-quantize the Linear layers of `models` in place (nothing when `scheme` is "off").

    Raises:
        TrainingError: torchao is missing, or no network has a Linear layer (named ``training.qat``).
    """
    if scheme == "off":
        return
    _config("prepare")  # torchao present?
    if not any(_is_linear(m) for model in models.values() for m in model.modules()):
        raise TrainingError("training.qat: the network has no Linear layer; torchao's quantization-aware "
                            "training fake-quantizes Linear layers only, so set qat to \"off\"")
    for model in models.values():
        _quantize(model, "prepare")


def converted(model: nn.Module) -> nn.Module:
    """A copy of a fake-quantized `model` with its Linear weights converted to int8 (torchao tensors)."""
    result = copy.deepcopy(model)
    _quantize(result, "convert")
    return result


def save_converted(models: dict[str, nn.Module], folder: Path) -> Path:
    """``final_int8.pt`` in `folder`: the converted state_dict (one per role when there are several)."""
    from studio.train import checkpoint as ckpt

    states = {role: converted(m).state_dict() for role, m in models.items()}
    return ckpt.atomic_save(states["model"] if list(states) == ["model"] else states, folder / CONVERTED_FILE)
