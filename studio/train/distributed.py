"""Data-parallel training through torch's own launcher and DistributedDataParallel.

`launch_spec(spec, nproc, spec_path)` writes a run's spec as JSON and returns
its last event (`RunFinished` or `RunFailed`, like `run_training`);
`launch(argv, nproc)` underneath starts ``python -m torch.distributed.run
--nproc_per_node N --standalone -m studio.train.worker ARGV...``: torchrun
spawns N workers, each of which (see `studio.train.worker`) joins the process
group from the environment torchrun sets (gloo on CPUs, NCCL on GPUs, one GPU
per worker), wraps its models in `DistributedDataParallel` and reads its share
of the training split through a `DistributedSampler`. ``config.batch_size`` stays the
global batch: each worker takes ``batch_size / N``. Only rank 0 evaluates,
writes checkpoints, metrics.jsonl and final weights, and sends events; the
decisions every rank must share (stop, NaN, early stop, the plateau metric)
travel as small tensors through collectives.

For several machines, pass torchrun's rendezvous flags as ``torchrun_args``
(e.g. ``["--nnodes", "2", "--rdzv-backend", "c10d", "--rdzv-endpoint", "host:29400"]``)
in place of ``--standalone``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch
import torch.distributed as dist
from torch import nn

from studio.files import write_atomic
from studio.train.events import RunFailed, RunFinished, event_from_dict

WORKER_MODULE = "studio.train.worker"


@dataclass(frozen=True)
class DistInfo:
    """This process's place among the processes training together."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Whether this process writes files and sends events (rank 0)."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        """Whether several processes train together."""
        return self.world_size > 1


def current() -> DistInfo:
    """The `DistInfo` of this process (world size 1 without a process group)."""
    if not (dist.is_available() and dist.is_initialized()):
        return DistInfo()
    local = int(os.environ.get("LOCAL_RANK", "0"))
    return DistInfo(dist.get_rank(), dist.get_world_size(), local)


def wrap(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` in DistributedDataParallel (on ``device``; it is moved there first)."""
    if not any(p.requires_grad for p in model.parameters()):
        return model  # DDP refuses a module with nothing to train
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def all_max(values: torch.Tensor) -> torch.Tensor:
    """Element-wise maximum over all processes (in place; also returned)."""
    dist.all_reduce(values, op=dist.ReduceOp.MAX)
    return values


def all_mean(values: torch.Tensor) -> torch.Tensor:
    """Element-wise mean over all processes (in place; also returned)."""
    dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values.div_(dist.get_world_size())


def from_main(values: torch.Tensor) -> torch.Tensor:
    """Rank 0's ``values`` on every process (in place; also returned)."""
    dist.broadcast(values, src=0)
    return values


def main_decision(watched: float | None, stop: bool, device: torch.device) -> tuple[float | None, bool]:
    """Rank 0's watched metric (None: not reported) and early-stop decision, on every process."""
    shared = torch.tensor([math.nan if watched is None else float(watched), float(stop)],
                          device=device, dtype=torch.float64)
    value, flag = from_main(shared).tolist()
    return (None if math.isnan(value) else value), flag > 0


# --- launching ----------------------------------------------------------------------

def launch_command(argv: Sequence[str], nproc: int,
                   torchrun_args: Sequence[str] | None = None) -> list[str]:
    """The command line `launch` runs."""
    rendezvous = list(torchrun_args) if torchrun_args is not None else ["--standalone"]
    return [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
            *rendezvous, "-m", WORKER_MODULE, *argv]


def launch(argv: Sequence[str], nproc: int, *, torchrun_args: Sequence[str] | None = None,
           env: dict[str, str] | None = None, timeout: float | None = None) -> int:
    """Run the training worker in ``nproc`` processes under torchrun; its exit code.

    Args:
        argv: the worker's arguments, e.g. ``["--spec", "run/spec.json"]``.
        nproc: processes on this machine (GPUs to use, or CPU workers).
        torchrun_args: rendezvous flags in place of ``--standalone``.
        env: extra environment variables for the workers.
        timeout: seconds before the whole group is killed (None: no limit).
    """
    return subprocess.run(launch_command(argv, nproc, torchrun_args),
                          env=_worker_env(nproc, env), timeout=timeout).returncode


def launch_spec(spec: dict[str, Any], nproc: int, spec_path: str | Path,
                **kwargs: Any) -> RunFinished | RunFailed:
    """Train the run ``spec`` describes (see `studio.train.worker`) in ``nproc`` processes.

    Writes the spec as JSON to ``spec_path``, `launch`es the workers (keyword
    arguments go to `launch`) and returns rank 0's last event, read back from
    ``<spec_path stem>.result.json`` beside it, like `run_training` does.
    """
    spec_path = Path(spec_path)
    result_path = spec_path.with_name(spec_path.stem + ".result.json")
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    result_path.unlink(missing_ok=True)
    spec = {**spec, "result_path": str(result_path)}
    write_atomic(spec_path, json.dumps(spec, indent=2), what="the run's spec")
    code = launch(["--spec", str(spec_path)], nproc, **kwargs)
    return _read_result(result_path, code, nproc)


def _read_result(path: Path, code: int, nproc: int) -> RunFinished | RunFailed:
    result = None
    if path.exists():
        result = event_from_dict(json.loads(path.read_text(encoding="utf-8")))
    if isinstance(result, RunFailed) or (result is not None and code == 0):
        return result
    return RunFailed(
        f"training in {nproc} processes failed (exit code {code}); the messages above say "
        f"why", kind="error")


def _worker_env(nproc: int, extra: dict[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    # The workers must import this very `studio`, installed or from a checkout.
    root = str(Path(__file__).resolve().parents[2])
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([root, *[p for p in paths if p != root]])
    # torchrun would set 1 thread and warn; share the cores out instead.
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // max(1, nproc))))
    env.update(extra or {})
    return env
