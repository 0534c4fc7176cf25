"""Files a run writes into its output folder, each written atomically.

    checkpoint_epoch{N}.pt   after each epoch: every model's state_dict, the
                             recipe's state (optimizers, schedules), the epoch,
                             the metrics history, the early-stopping state, the
                             config and the RNG states; only the newest
                             ``keep_checkpoints`` (2 by default) and the best
                             epoch's are kept
    last.pt                  the newest of those (a hard link, or a copy)
    best.pt                  state_dicts of the best epoch so far
    final.pt                 state_dict at the end; ``{role: state_dict}`` when
                             the recipe has more than one network
    metrics.jsonl            one JSON object per epoch
    test.json                the scalar metrics on the test split, when the
                             data has one and the run was not stopped
    result.json              the run's last event (`RunFinished` or
                             `RunFailed`, as `event_to_dict` writes it)

Every file is written to a temporary name in the same folder, then renamed
(`os.replace`), so a crash never leaves half a file under the real name. A
checkpoint is forced to the disk (fsync) when `SyncClock` says so, the first
and then one every `SYNC_EVERY_S` at most, and the newest when a run ends,
fails or stops; the others stay in the OS's cache, which a crash of the run or
of the app does not lose (only a power cut could lose those seconds). An fsync
per epoch cost a 1.6 s LeNet-5 run 4-15 % on a virtual machine: the flush
held up the training thread, not just the writer's.
Everything loads with ``torch.load(weights_only=True)``: only tensors, numbers,
strings, lists and dicts, nothing unpickled.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import torch

from studio.errors import TrainingError
from studio.files import append_atomic, temporary_prefix, write_atomic
from studio.graph.footprint import tensor_bytes

FORMAT = "studio-checkpoint"
VERSION = 1
_EPOCH_FILE = re.compile(r"^checkpoint_epoch(\d+)\.pt$")


def epoch_path(out_dir: Path, epoch: int) -> Path:
    """Where the checkpoint of ``epoch`` goes."""
    return Path(out_dir) / f"checkpoint_epoch{epoch}.pt"


def atomic_save(obj: Any, path: Path, sync: bool = True) -> Path:
    """``torch.save`` through `studio.files.write_atomic` (fsync'ed when ``sync``); WriteError on a full disk."""
    write_atomic(path, lambda f: torch.save(obj, f), sync=sync, what=f"the checkpoint {Path(path).name}",
                 size=tensor_bytes(obj))
    return Path(path)


def sync_files(paths: list[Path]) -> None:
    """Force files written with ``sync=False`` to the disk (those gone since are skipped)."""
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:  # pruned
            continue
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


SYNC_EVERY_S = 30.0


class SyncClock:
    """Whether the checkpoint written now must reach the disk.

    The first must, then one every ``every_s`` at most.
    """

    def __init__(self, every_s: float = SYNC_EVERY_S):
        self.every_s = every_s
        self._last: float | None = None

    def due(self) -> bool:
        now = time.monotonic()
        if self._last is not None and now - self._last < self.every_s:
            return False
        self._last = now
        return True


def snapshot(obj: Any) -> Any:
    """A copy of a state (dicts, lists, tensors) that later training steps cannot change."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return {k: snapshot(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(snapshot(v) for v in obj)
    return obj


class BackgroundWriter:
    """Runs checkpoint writes on a thread of its own, one at a time, while training goes on.

    Serialising and fsync-ing a checkpoint took 8 % of a short LeNet-5 run, and
    a large model's takes seconds a time during which the GPU idles. `submit`
    first waits for the job before it, so at most one snapshot waits in memory.
    A job's exception (a full disk) is raised again where its result is asked for.

    Serialising holds the GIL, which the training thread takes back between
    its kernels; with Python's default switch interval it waited up to 5 ms
    each time, and a LeNet-5 run writing its files trained at 0.97 of the
    speed of one writing none. While a job runs, the interval is
    `WRITE_SWITCH_S`: 0.99-1.00 of writing none (12 and 20 alternated runs).
    """

    def __init__(self):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="studio-checkpoint")
        self._pending: Future | None = None

    def submit(self, job: Callable[[], Any]) -> Any:
        """Start `job`; the result of the job before it (None if there was none)."""
        previous = self.wait()
        self._pending = self._pool.submit(_yielding_gil, job)
        return previous

    def poll(self) -> Any:
        """The pending job's result once it is done, else None."""
        return self.wait() if self._pending is not None and self._pending.done() else None

    def wait(self) -> Any:
        """Wait for the pending job; its result (None if there was none)."""
        pending, self._pending = self._pending, None
        return None if pending is None else pending.result()

    def close(self) -> None:
        """Let the pending job finish, then end the thread (its result is dropped)."""
        self._pool.shutdown(wait=True)


WRITE_SWITCH_S = 0.0005


def _yielding_gil(job: Callable[[], Any]) -> Any:
    """Run ``job`` with the GIL handed to a waiting thread within `WRITE_SWITCH_S`."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, WRITE_SWITCH_S))
    try:
        return job()
    finally:
        sys.setswitchinterval(before)


def atomic_link(src: Path, dst: Path) -> Path:
    """Make ``dst`` the same file as ``src`` (hard link, else copy), atomically."""
    dst = Path(dst)
    tmp = dst.with_name(f"{temporary_prefix(dst)}link.tmp")  # a killed run's is removed by the next write
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
        os.replace(tmp, dst)
    except OSError:  # a file system without hard links
        with open(src, "rb") as f:
            write_atomic(dst, lambda out: shutil.copyfileobj(f, out), sync=False, what=f"the copy {dst.name}")
    finally:
        tmp.unlink(missing_ok=True)
    return dst


def epoch_checkpoints(out_dir: Path) -> list[tuple[int, Path]]:
    """The epoch checkpoints in ``out_dir`` as (epoch, path), oldest first."""
    return sorted((int(m.group(1)), p) for p in Path(out_dir).iterdir()
                  if (m := _EPOCH_FILE.match(p.name)))


def prune(out_dir: Path, keep: int, upto: int | None = None, best: int = 0) -> None:
    """Delete all but the newest ``keep`` epoch checkpoints and that of epoch ``best`` (``keep`` 0 keeps all).

    Only checkpoints of epochs up to ``upto`` count: those after it were left by
    an earlier, longer run in the same folder, and must not push out this run's.
    """
    if keep <= 0:
        return
    found = [(e, p) for e, p in epoch_checkpoints(out_dir) if upto is None or e <= upto]
    for epoch, path in found[:-keep]:
        if epoch != best:
            path.unlink(missing_ok=True)


def files_summary(out_dir: Path) -> str:
    """The files a run left in ``out_dir``, in one line for its end-of-run message."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return f"{out_dir}: no files"
    parts = [name for name in ("final.pt", "best.pt") if (out_dir / name).exists()]
    epochs = [e for e, _ in epoch_checkpoints(out_dir)]
    if len(epochs) == 1:
        parts.append(f"the checkpoint of epoch {epochs[0]}")
    elif 1 < len(epochs) <= 4:
        parts.append(f"checkpoints of epochs {', '.join(map(str, epochs))}")
    elif epochs:
        parts.append(f"{len(epochs)} checkpoints (epochs {epochs[0]}-{epochs[-1]})")
    if epochs and (out_dir / "last.pt").exists():
        parts[-1] += " (resume from last.pt)"
    parts += [name for name in ("metrics.jsonl", "test.json") if (out_dir / name).exists()]
    return f"{out_dir}{os.sep}: {', '.join(parts) or 'no files'}"


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint written by a run.

    Raises:
        TrainingError: the file is missing, unreadable, or not a run checkpoint.
    """
    state = _load(path)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise TrainingError(
            f"{path}: not a training checkpoint (use a checkpoint_epochN.pt or last.pt "
            f"written by 'studio train')")
    if state.get("version", 0) > VERSION:
        raise TrainingError(
            f"{path}: checkpoint version {state['version']} is newer than this Network Studio "
            f"reads ({VERSION}); update Network Studio")
    return state


def load_weights(path: str | Path, role: str = "model") -> dict[str, torch.Tensor]:
    """The state_dict of network ``role`` from final.pt, best.pt or a checkpoint.

    Raises:
        TrainingError: the file is unreadable or holds no weights for ``role``.
    """
    state = _load(path)
    if isinstance(state, dict) and state.get("format") == FORMAT:
        state = state["models"]
    if isinstance(state, dict) and state and all(isinstance(v, torch.Tensor)
                                                 for v in state.values()):
        return state
    if isinstance(state, dict) and isinstance(state.get(role), dict):
        return state[role]
    roles = ", ".join(k for k, v in state.items() if isinstance(v, dict)) \
        if isinstance(state, dict) else ""
    raise TrainingError(f"{path}: holds no weights for network role '{role}'"
                        + (f"; it has: {roles}" if roles else ""))


def _load(path: str | Path) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise TrainingError(f"{path}: no such checkpoint file") from None
    except Exception as exc:  # torch raises several kinds for corrupt or unsafe files
        raise TrainingError(f"{path}: cannot be read as a weights-only checkpoint ({exc})"
                            ) from exc


# --- metrics.jsonl ----------------------------------------------------------------

def append_metrics(path: Path, record: dict[str, Any]) -> None:
    """Append one epoch's record as a line of JSON (NaN and inf become null); never half a line."""
    append_atomic(path, json.dumps(jsonable(record)) + "\n", what="the metrics")


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as strict JSON to ``path``, atomically (`studio.files.write_atomic`)."""
    write_atomic(path, json.dumps(jsonable(data), indent=1), what=Path(path).name)


def rewrite_metrics(path: Path, history: list[dict[str, Any]]) -> None:
    """Replace the file with ``history`` (a resumed run drops epochs it redoes)."""
    text = "".join(json.dumps(jsonable(record)) + "\n" for record in history)
    write_atomic(path, text, sync=False, what="the metrics")


def jsonable(value: Any) -> Any:
    """``value`` with non-finite floats as None and tuples as lists: strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value
