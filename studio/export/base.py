"""What every export format shares: the job, the result, atomic files and the output check.

An export runs in three steps. The format *writes* its files into a hidden
staging folder beside the target (``.NAME.XXXX.export``, with the final file
names, so files that refer to each other, like ``model.onnx`` and
``model.onnx.data``, stay consistent); it *reloads* what it wrote and returns a
callable running it; the outputs of that callable on the sample inputs are
*compared* with those of the live model. Only when they agree are the files
moved into place with `os.replace`; otherwise (or on any error: an unwritable
folder, a full disk, an operator the format cannot take) the staging folder is
deleted and `ExportError` says what happened, where, and what to do. A file
that existed under the target name before a failed export is left as it was.

Tolerance: an export passes when the largest absolute difference over every
output is at most ``RTOL * max(1, max|live output|)`` with ``RTOL = 1e-4``,
i.e. 1e-4 relative to the output's scale, and 1e-4 absolute for outputs
smaller than one. Float32 re-orderings by a runtime (onnxruntime's fused
kernels, for instance) stay far below it (measured: 1e-7 to 1e-6); a wrong
weight or a dropped operation is far above it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from torch import fx

from studio import files
from studio.errors import StudioError
from studio.export.dims import Axis
from studio.graph.project import Project
from studio.system import disk_full, free_disk

RTOL = 1e-4

Progress = Callable[[str, float], None]
"""``progress(step, fraction)``: a short description of the current step and 0..1 done."""


class ExportError(StudioError):
    """An export that failed; nothing was left under the target name."""


@dataclass
class ExportResult:
    """A finished, verified export.

    Attributes:
        path: the main file (the one the user named).
        format: the key of `FORMATS` ("torchscript", "pt2", ...).
        files: every file written, the main one first.
        max_abs_diff: the largest absolute difference between the live model's
            outputs and the reloaded export's, over every sample input.
        notes: things the user should know (tracing instead of scripting, a
            dimension the file fixes and what fixes it, no weights given, ...).
        dynamic: the input dimensions the file keeps dynamic, checked at two
            sizes ("batch", "source_length (2..64)", "image_height").
    """

    path: Path
    format: str
    files: list[Path]
    max_abs_diff: float
    notes: list[str] = field(default_factory=list)
    dynamic: list[str] = field(default_factory=list)


@dataclass
class Job:
    """One export as a format sees it.

    Attributes:
        project, network: what is exported (network is the resolved name).
        model: the compiled GraphModule with the weights, in eval mode, on the CPU.
        samples: input tuples to check on: the example (batch 2), then (when
            anything is dynamic) batch 3 with the dynamic dimensions at other
            sizes; a format traces with the first.
        target: the path the user asked for.
        staging: the hidden folder the format writes into.
        notes: append lines the user should see.
        axes: the input dimensions meant to be dynamic (`studio.export.dims`);
            a format whose file fixes one calls its `fix`, and the check then
            keeps it at the example size.
    """

    project: Project
    network: str
    model: fx.GraphModule
    samples: list[tuple[torch.Tensor, ...]]
    target: Path
    staging: Path
    notes: list[str] = field(default_factory=list)
    axes: list[Axis] = field(default_factory=list)

    def staged(self, final: Path) -> Path:
        """Where a file that will end up at `final` is written now."""
        return self.staging / Path(final).name

    @property
    def input_names(self) -> list[str]:
        """The names of the model's inputs (its placeholders), in order."""
        return [n.target for n in self.model.graph.nodes if n.op == "placeholder"]


# A format writes its files and returns (staged files, runner of the reloaded export).
Runner = Callable[..., Any]
Writer = Callable[[Job], "tuple[list[Path], Runner]"]


# --- files -------------------------------------------------------------------

def write_error(path: Path, e: BaseException) -> ExportError:
    """The message for a failed write: what, where, what to do (disk full: how much is needed and free)."""
    if not isinstance(e, OSError):  # torch's C++ writers raise RuntimeError, sometimes wrapping the OS error
        reason = _first_line(e)
        if "space" in reason.lower():
            return ExportError(disk_full(path, "the export", None, free_disk(path.parent), reason))
    return ExportError(str(files.write_error(path, "the export", e)))


def save_staged(staged: Path, final: Path, content, what: str, size: int | None = None) -> Path:
    """Writes `staged`, the file that will become `final` (`studio.files.write_atomic`); ExportError naming `final`."""
    try:
        return files.write_atomic(staged, content, what=what, size=size, shown=final)
    except files.WriteError as e:
        raise ExportError(str(e)) from None


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turns any failure while writing `path` into an ExportError naming it."""
    try:
        yield
    except StudioError:
        raise
    except Exception as e:
        raise write_error(path, e) from e


@contextmanager
def staging_folder(target: Path) -> Iterator[Path]:
    """A hidden folder beside `target`, removed with all it holds when the block ends."""
    folder = target.parent
    if not folder.is_dir():
        raise ExportError(f"cannot export to {target}: the folder {folder} does not exist; "
                          f"create it first or choose another one.")
    files.remove_stale(target, ".export")  # left by an export that was killed
    try:
        staging = Path(tempfile.mkdtemp(prefix=files.temporary_prefix(target), suffix=".export", dir=folder))
    except OSError as e:
        raise write_error(target, e) from None
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def commit(staged: list[Path], target_folder: Path) -> list[Path]:
    """Moves staged files into `target_folder` (same file system: atomic renames).

    If one rename fails, the files already moved are removed again, so the
    export is all or nothing.
    """
    done: list[Path] = []
    for src in staged:
        dst = files.real_path(target_folder / src.name)  # through a symbolic link: its file, the link stays
        try:
            os.replace(src, dst)
        except OSError as e:
            for moved in done:
                _remove(moved)
            raise write_error(dst, e) from None
        done.append(dst)
    return done


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# --- comparing outputs -------------------------------------------------------

def flat_outputs(value: Any) -> list[torch.Tensor]:
    """A model's output (a tensor, a tuple or list of them, numpy arrays) as a flat list of tensors."""
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in flat_outputs(v)]
    if isinstance(value, torch.Tensor):
        return [value.detach()]
    try:
        return [torch.as_tensor(value)]
    except Exception:
        raise ExportError(f"the reloaded export returned {type(value).__name__}, not tensors") from None


def max_difference(expected: Any, got: Any, where: str) -> tuple[float, float]:
    """(largest absolute difference, the scale it is judged against); ExportError on a shape mismatch."""
    a, b = flat_outputs(expected), flat_outputs(got)
    if len(a) != len(b):
        raise ExportError(f"{where} returns {len(b)} output(s), the network {len(a)}; "
                          f"the export is broken. Nothing was written.")
    diff, scale = 0.0, 1.0
    for i, (x, y) in enumerate(zip(a, b)):
        if tuple(x.shape) != tuple(y.shape):
            raise ExportError(f"{where}: output {i} has shape {tuple(y.shape)}, the network's {tuple(x.shape)}. "
                              f"Nothing was written.")
        x, y = x.double(), y.to(x.device).double()
        if x.numel():
            diff = max(diff, float((x - y).abs().max()))
            scale = max(scale, float(x.abs().max()))
    return diff, scale


def _first_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:300]


def failure(what: str, e: BaseException, advice: str) -> ExportError:
    """An ExportError for a step that raised: what failed, torch's reason, what to do."""
    return ExportError(f"{what}: {_first_line(e)}. {advice} Nothing was written.")
