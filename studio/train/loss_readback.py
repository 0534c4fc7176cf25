"""Reading a run's step losses back from the device, and the NaN guard on them.

The batch loop keeps each step's losses on the device and reads a chunk of
them back at once (`read_back`) only when an event is due, so it waits for
the GPU no more often than that. Every loss read is checked: the batch a
`NonFiniteLoss` names is the first whose loss was not finite. With several
processes the read is also where they agree whether to stop.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from studio.train import distributed as ddp
from studio.train.failures import NonFiniteLoss


def read_back(pending: list[torch.Tensor], epoch: int, i: int, dist: Any, stop: bool,
              device: torch.device) -> tuple[torch.Tensor, bool]:
    """The losses of batches up to ``i`` (0-based), as float64 rows on the CPU, and whether to stop.

    Args:
        pending: each batch's losses (0-d, or 1-d in the recipe's ``loss_names`` order).
        epoch: the epoch (for the error).
        i: the index of the last pending batch.
        dist: the `distributed` state: with several processes, all of them make this call together.
        stop: whether this process was asked to stop.
        device: where the losses are.

    Returns:
        The ``(len(pending), losses)`` values, and whether every process agreed to stop
        (always False in a single process).

    Raises:
        NonFiniteLoss: a loss was NaN or infinite (here or in another process).
    """
    chunk = torch.stack(pending).reshape(len(pending), -1)
    agreed = bad_elsewhere = False
    if dist.active:
        flags = torch.stack([(~torch.isfinite(chunk)).any().float(),
                             torch.tensor(float(stop), device=device)])
        bad_elsewhere, agreed = (v > 0 for v in ddp.all_max(flags).tolist())
    values = chunk.to("cpu", torch.float64)  # the one wait for the device
    finite = torch.isfinite(values).all(dim=1)
    if not bool(finite.all()):
        first = int((~finite).nonzero()[0, 0])
        raise NonFiniteLoss(epoch, i + 2 - len(pending) + first, float(values[first, 0]))
    if bad_elsewhere:
        raise NonFiniteLoss(epoch, i + 1, math.nan, elsewhere=True)
    return values, agreed
