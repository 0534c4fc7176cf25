"""TorchScript export: `torch.jit.script` of the compiled GraphModule, `torch.jit.trace` where scripting fails.

The file loads with ``torch.jit.load`` in any PyTorch, without Python source.
Torch 2.13 deprecates TorchScript in favour of `torch.export` and says so with
DeprecationWarnings; they are left visible.
"""

from __future__ import annotations

from pathlib import Path

import torch

from studio.export.base import Job, Runner, failure, save_staged, writing
from studio.files import to_bytes

SUFFIX = ".pt"
DESCRIPTION = "TorchScript (.pt): runs with torch.jit.load, in Python or C++ (LibTorch)"


def write(job: Job) -> tuple[list[Path], Runner]:
    """Scripts (or traces) the model, saves it, and reloads it."""
    try:
        module = torch.jit.script(job.model)
    except Exception as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        try:
            module = torch.jit.trace(job.model, job.samples[0], check_trace=False)
        except Exception as e2:
            raise failure(f"TorchScript cannot take network '{job.network}' (scripting: {reason}; tracing)", e2,
                          "Export to .pt2 or ONNX instead.") from e2
        job.notes.append(f"torch.jit.script failed ({reason}); the model was traced instead, so any "
                         f"branch that depends on the data is fixed to the one the sample took")
        for axis in job.axes:
            if axis.probe is not None and axis.label != "batch":
                axis.fix("tracing records the sizes of the example")
    with writing(job.target):  # into memory: torch's file writer aborts the process when the disk is full
        data = to_bytes(lambda buffer: torch.jit.save(module, buffer))
    path = save_staged(job.staged(job.target), job.target, data, "the TorchScript file")
    try:
        loaded = torch.jit.load(str(path), map_location="cpu")
    except Exception as e:
        raise failure(f"the TorchScript file written for {job.target} cannot be loaded back", e,
                      "Export to .pt2 instead.") from e
    loaded.eval()
    return [path], loaded
