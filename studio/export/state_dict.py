"""State-dict export: the weights alone, as ``.pt`` (``torch.save``) or ``.safetensors``.

The file holds ``{parameter name: tensor}`` with the compiled GraphModule's
names, which are also those of the generated Python class; it loads with
``torch.load(path, weights_only=True)``. The check loads it into a freshly
compiled model and runs that.
"""

from __future__ import annotations

from pathlib import Path

import torch

from studio.compile import compile_network
from studio.export.base import ExportError, Job, Runner, failure, save_staged
from studio.export.python_source import save_safetensors
from studio.graph.footprint import tensor_bytes

SUFFIX = ".pt"
DESCRIPTION = "weights only (.pt or .safetensors): a state_dict for the project or the generated Python class"


def write(job: Job) -> tuple[list[Path], Runner]:
    """Saves the weights, then loads them into a fresh model."""
    state = {k: v.detach().cpu().contiguous() for k, v in job.model.state_dict().items()}
    path = job.staged(job.target)
    if job.target.suffix == ".safetensors":
        if not save_safetensors(state, path, job.target, job.notes):
            raise ExportError(f"cannot write {job.target}: the safetensors package is not installed; "
                              f"pip install safetensors, or use a .pt file name. Nothing was written.")
        from safetensors.torch import load_file

        loaded = load_file(str(path))
    else:
        save_staged(path, job.target, lambda f: torch.save(state, f), "the weights", size=tensor_bytes(state))
        loaded = torch.load(str(path), map_location="cpu", weights_only=True)
    fresh = compile_network(job.project, job.network)
    try:
        fresh.load_state_dict(loaded)
    except Exception as e:
        raise failure(f"the weights written to {job.target} do not load into the network", e,
                      "Report this as a bug.") from e
    fresh.eval()
    return [path], fresh
