"""Quiets the warnings libraries log about themselves, which a user of studio can do nothing about.

Importing torchao (quantization-aware training, and transformers imports it
too) logs "Failed to load .../_C_cutlass_90a.abi3.so" for its GPU kernels on a
CPU machine, torch logs deprecation notes about torchao's enums, transformers'
tracer makes torch.fx log that ``is_fx_tracing`` changed meaning, and every
ONNX export logged four lines about torchvision not being installed and
warned that torch's own pytree code uses a deprecated class. `quiet` raises
those loggers to ERROR and ignores that warning, in the `studio` command and
in each training process; ``--debug`` leaves them as they are.
"""

from __future__ import annotations

import logging
import warnings

LOGGERS = ("torchao", "torch.utils._pytree", "torch.fx._symbolic_trace", "torch.onnx._internal.exporter._registration")
# Python warnings raised inside torch about torch's own code.
WARNINGS = (r"`isinstance\(treespec, LeafSpec\)` is deprecated",)


def quiet() -> None:
    """Only errors from the loggers in `LOGGERS`; the warnings in `WARNINGS` ignored."""
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    for message in WARNINGS:
        warnings.filterwarnings("ignore", message=message)
