"""Python export: standalone source (one `nn.Module` class per network) plus its weights.

``PATH`` (``model.py``) gets `studio.compile.project_source`, which needs only
PyTorch; ``model.pt`` beside it the state_dict of the exported network
(``torch.load(..., weights_only=True)``), and ``model.safetensors`` too when
the ``safetensors`` package is installed. The check imports the written file
in a fresh namespace, builds the class, loads the weights and runs it.
"""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

import torch

from studio.compile import project_source
from studio.compile.source import top_class_names
from studio.export.base import ExportError, Job, Runner, failure, save_staged, writing
from studio.graph.code_nodes import user_folders
from studio.graph.footprint import tensor_bytes

SUFFIX = ".py"
DESCRIPTION = "Python source (.py) with its weights (.pt, .safetensors): needs only PyTorch"
_counter = itertools.count()


def class_name(job: Job) -> str:
    """The generated class of the exported network."""
    return top_class_names(job.project)[job.network]


def weight_paths(target: Path) -> tuple[Path, Path]:
    """(.pt, .safetensors) files written beside the source file."""
    return target.with_suffix(".pt"), target.with_suffix(".safetensors")


def write(job: Job) -> tuple[list[Path], Runner]:
    """Writes the source and the weights, then imports and runs the source."""
    if job.target.suffix != ".py":
        raise ExportError(f"cannot export Python source to {job.target}: give a file name ending in .py "
                          f"(the weights go beside it as .pt). Nothing was written.")
    pt, st = weight_paths(job.target)
    source = project_source(job.project)
    state = {k: v.detach().cpu().contiguous() for k, v in job.model.state_dict().items()}
    files = [save_staged(job.staged(job.target), job.target, source, "the Python source"),
             save_staged(job.staged(pt), pt, lambda f: torch.save(state, f), "the weights", size=tensor_bytes(state))]
    if save_safetensors(state, job.staged(st), st, job.notes):
        files.append(job.staged(st))
    model = _import(job, files[0])
    try:
        model.load_state_dict(torch.load(str(files[1]), map_location="cpu", weights_only=True))
    except Exception as e:
        raise failure(f"the weights written to {pt} do not fit the generated class", e,
                      "Report this as a bug; export TorchScript meanwhile.") from e
    model.eval()
    return files, model


def save_safetensors(state: dict, staged: Path, final: Path, notes: list[str]) -> bool:
    """Writes `state` as safetensors and checks it reads back equal; False (with a note) without the package."""
    try:
        from safetensors.torch import load_file, save
    except ImportError:
        notes.append("no .safetensors file: the safetensors package is not installed")
        return False
    with writing(final):
        data = save({k: v.clone() for k, v in state.items()})
    staged = save_staged(staged, final, data, "the safetensors weights")
    back = load_file(str(staged))
    if back.keys() != state.keys() or any(not torch.equal(back[k], v) for k, v in state.items()):
        raise ExportError(f"the weights written to {final} read back different. Nothing was written.")
    return True


def _import(job: Job, path: Path) -> torch.nn.Module:
    name = class_name(job)
    spec = importlib.util.spec_from_file_location(f"_studio_export_{next(_counter)}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        with user_folders(job.project):  # where the user's own classes ("Module" nodes) import from
            spec.loader.exec_module(module)
            cls = getattr(module, name)
            return cls()
    except Exception as e:
        raise failure(f"the Python source written for {job.target} does not run (class {name})", e,
                      "Report this as a bug; export TorchScript meanwhile.") from e
