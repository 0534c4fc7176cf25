"""Quiets the warnings libraries log about themselves, which a user of studio can do nothing about.

Importing torchao (quantization-aware training, and transformers imports it
too) logs "Failed to load .../_C_cutlass_90a.abi3.so" for its GPU kernels on a
CPU machine, torch logs deprecation notes about torchao's enums, and
transformers' tracer makes torch.fx log that ``is_fx_tracing`` changed
meaning. `quiet` raises those loggers to ERROR in the `studio` command and
in each training process; ``--debug`` leaves them as they are.
"""

from __future__ import annotations

import logging

LOGGERS = ("torchao", "torch.utils._pytree", "torch.fx._symbolic_trace")


def quiet() -> None:
    """Only errors from the loggers in `LOGGERS`."""
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
