"""The process torchrun starts: ``python -m studio.train.worker --spec spec.json``.

A spec is JSON, so nothing crosses into the workers unpickled:

    {
      "models":   {"builder": "studio.some.module:function", "kwargs": {...}},
      "data":     {"settings": {"source": "digits"}, "input_shape": [1, 8, 8], "root": null}
                  or {"builder": "module:function", "kwargs": {...}},
      "training": {... the "training" section ...},
      "out_dir":  "runs/mnist",
      "resume_from": null,
      "progress": true,
      "result_path": "runs/mnist/spec.result.json"
    }

A builder is named ``module:function`` and is called with its ``kwargs``; the
models builder returns ``{role: nn.Module}`` (identical in every worker: seed
it, DDP then copies rank 0's weights anyway), the data builder a `DataSplits`.
Only functions inside the ``studio`` package, or the project's own ``tests``
package, can be named: a spec can never point the workers at other code.

Each worker joins the process group from torchrun's environment (NCCL with one
GPU per worker when CUDA is there and the device is not "cpu", else gloo),
trains with `run_training` (rank 0 shows the progress bar). Rank 0 writes the
run's last event (`RunFinished` or `RunFailed`) as JSON to ``result_path``,
which `studio.train.distributed.launch_spec` reads back. A worker exits 0 when
the run finished or failed in every process at once (a NaN loss) with a
result file to say so, and 1 otherwise, printing why on stderr.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable

import torch
import torch.distributed as dist

from studio.errors import StudioError, TrainingError
from studio.files import write_atomic
from studio.train.checkpoint import jsonable
from studio.train.events import RunFailed, RunFinished, event_to_dict

_BUILDER = re.compile(r"^(studio|tests)(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
_ROOT = Path(__file__).resolve().parents[2]


def resolve_builder(name: str) -> Callable[..., Any]:
    """The function a spec names as ``module:function``, inside studio or tests only.

    Raises:
        TrainingError: the name is malformed, outside those packages, or not found.
    """
    if not isinstance(name, str) or not _BUILDER.match(name):
        raise TrainingError(
            f"spec: builder {name!r} must be 'module:function' with the module inside the "
            f"studio or tests package")
    module_name, func_name = name.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise TrainingError(f"spec: builder {name!r}: cannot import {module_name} ({exc})") from exc
    # A stray installed "tests" package must not stand in for the project's own.
    if module_name.split(".")[0] == "tests" and not _inside(module, _ROOT):
        raise TrainingError(f"spec: builder {name!r} is not in this project's tests folder")
    func = getattr(module, func_name, None)
    if not callable(func):
        raise TrainingError(f"spec: builder {name!r}: {module_name} has no function {func_name}")
    return func


def _inside(module: Any, root: Path) -> bool:
    path = getattr(module, "__file__", None)
    paths = [path] if path else list(getattr(module, "__path__", []))
    return bool(paths) and all(Path(p).resolve().is_relative_to(root) for p in paths)


def build_models(spec: dict[str, Any]) -> dict[str, torch.nn.Module]:
    """The models dict from a spec's "models" entry."""
    entry = spec["models"]
    models = resolve_builder(entry["builder"])(**entry.get("kwargs", {}))
    if not isinstance(models, dict) or not all(isinstance(m, torch.nn.Module)
                                               for m in models.values()):
        raise TrainingError(f"spec: builder {entry['builder']} must return {{role: nn.Module}}")
    return models


def build_data(spec: dict[str, Any]) -> Any:
    """The `DataSplits` from a spec's "data" entry (a builder or load_data settings)."""
    entry = spec["data"]
    if "builder" in entry:
        return resolve_builder(entry["builder"])(**entry.get("kwargs", {}))
    from studio.data import load_data  # only workers that read a real source need it

    shape = entry.get("input_shape")
    return load_data(entry.get("settings", {}), input_shape=tuple(shape) if shape else None,
                     root=entry.get("root"))


def _init_process_group(training: dict[str, Any]) -> dict[str, Any]:
    """Join torchrun's group; the training section with this worker's device."""
    training = dict(training)
    local = int(os.environ.get("LOCAL_RANK", "0"))
    gpu = torch.cuda.is_available() and training.get("device", "auto") not in ("cpu", "mps")
    if gpu:
        torch.cuda.set_device(local)
        training["device"] = f"cuda:{local}"
    dist.init_process_group(backend="nccl" if gpu else "gloo")
    return training


def run_spec(spec: dict[str, Any]) -> int:
    """Train one worker's share of the run the spec describes; the exit code."""
    from studio.train.run import run_training

    training = _init_process_group(spec.get("training", {}))
    try:
        rank = dist.get_rank()
        show = spec.get("progress", True) and rank == 0
        result = run_training(build_models(spec), build_data(spec), training, spec.get("out_dir"),
                              progress=show, resume_from=spec.get("resume_from"))
    finally:
        # DDP wrappers still alive when the group goes would abort the process on exit.
        gc.collect()
        dist.destroy_process_group()
    result_path = spec.get("result_path")
    # Rank 0's result is the run's; on other machines each node's first process
    # writes its own (a result path per node), so every node's command ends with an outcome.
    if (rank == 0 or os.environ.get("LOCAL_RANK") == "0") and result_path:
        write_result(result_path, result)
    if not isinstance(result, RunFailed):
        return 0
    # A NaN stops every rank together: rank 0 reports it (to the launcher when
    # it reads the result file), and every rank ends normally. Anything else
    # (out of memory, say) may have hit this rank alone: say so and exit 1, so
    # that torchrun stops the others.
    if result.kind == "non_finite":
        if rank == 0 and not result_path:
            print(result.message, file=sys.stderr)
        return 0 if result_path else 1
    if rank != 0 or not result_path:
        print(f"[rank {rank}] {result.message}", file=sys.stderr)
    return 1


def write_result(path: str | Path, result: RunFinished | RunFailed) -> None:
    """Write the run's last event as JSON (atomically) for the launching process."""
    write_atomic(path, json.dumps(jsonable(event_to_dict(result))), what="the run's result")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m studio.train.worker``."""
    parser = argparse.ArgumentParser(prog="python -m studio.train.worker")
    parser.add_argument("--spec", required=True, help="the run's spec JSON")
    args = parser.parse_args(argv)
    try:
        spec = json.loads(Path(args.spec).read_text(encoding="utf-8"))
        return run_spec(spec)
    except StudioError as exc:
        print(f"worker: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError) as exc:
        print(f"worker: cannot use spec {args.spec}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
