"""Choosing where a run computes and which speed-ups it uses there.

`resolve_device("auto")` takes CUDA, then MPS, then the CPU; a named device
that is not there is refused with a message saying what is. bf16 autocast and
the channels-last layout are used on CUDA only, where they pay off: "auto"
turns them on there (channels-last only for 4-D inputs, i.e. images).
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any, ContextManager

import torch

from studio.errors import TrainingError


def resolve_device(name: str) -> torch.device:
    """The torch device for a config's ``device`` value.

    Raises:
        TrainingError: the device is named but not available here.
    """
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise TrainingError(
                f"training.device: '{name}' was asked for but CUDA is not available here; "
                f"use device 'auto' or 'cpu'"
            )
        index = device.index if device.index is not None else torch.cuda.current_device()
        if index >= torch.cuda.device_count():
            raise TrainingError(
                f"training.device: '{name}' does not exist; this machine has "
                f"{torch.cuda.device_count()} CUDA device(s), cuda:0 to "
                f"cuda:{torch.cuda.device_count() - 1}"
            )
        return torch.device("cuda", index)
    if device.type == "mps" and not _mps_available():
        raise TrainingError(
            "training.device: 'mps' was asked for but Apple's MPS is not available here; "
            "use device 'auto' or 'cpu'"
        )
    return device


def describe(device: torch.device) -> str:
    """A short name for events and logs: ``cuda:0`` or ``cpu``."""
    if device.type == "cuda":
        return f"cuda:{device.index if device.index is not None else 0}"
    return device.type


def use_mixed_precision(device: torch.device, setting: bool | str) -> bool:
    """Whether to train under bf16 autocast (CUDA only, where bf16 is supported)."""
    if device.type != "cuda" or setting is False:
        return False
    return torch.cuda.is_bf16_supported()


def use_channels_last(device: torch.device, setting: bool | str,
                      input_shape: tuple[int, ...] | None) -> bool:
    """Whether models and inputs should use the channels-last layout.

    Only 4-D batches (input shape C, H, W) have a channels-last layout; on a
    CPU it rarely helps, so "auto" means CUDA only.
    """
    if setting is False or input_shape is None or len(input_shape) != 3:
        return False
    return setting is True or device.type == "cuda"


def autocast(device: torch.device, enabled: bool) -> ContextManager[Any]:
    """The autocast context for a training or evaluation step."""
    if not enabled:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())
