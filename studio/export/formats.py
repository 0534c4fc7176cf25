"""The table of export formats and the one entry point, `export`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from studio.compile import compile_network
from studio.errors import StudioError
from studio.export import dims, onnx, pt2, python_source, state_dict, torchscript
from studio.export.base import (RTOL, ExportError, ExportResult, Job, Progress, Writer, commit,
                                max_difference, staging_folder)
from studio.compile.weights import apply_weights, load_weights
from studio.graph.analysis import Analyzer, Report
from studio.graph.footprint import BYTES, activation_values, weight_bytes
from studio.graph.project import Project
from studio.system import require_disk, require_memory

# Formats whose file records the shapes it was made at: they say which dimensions they fix.
TRACED = ("torchscript", "pt2", "onnx")


@dataclass(frozen=True)
class Format:
    """One export format: its default file suffix, a line for menus, and its writer."""

    name: str
    suffix: str
    description: str
    write: Writer


FORMATS: dict[str, Format] = {
    "torchscript": Format("torchscript", torchscript.SUFFIX, torchscript.DESCRIPTION, torchscript.write),
    "pt2": Format("pt2", pt2.SUFFIX, pt2.DESCRIPTION, pt2.write),
    "onnx": Format("onnx", onnx.SUFFIX, onnx.DESCRIPTION, onnx.write),
    "python": Format("python", python_source.SUFFIX, python_source.DESCRIPTION, python_source.write),
    "state_dict": Format("state_dict", state_dict.SUFFIX, state_dict.DESCRIPTION, state_dict.write),
}


def export(project: Project, format: str, path: str | Path, weights: str | Path | dict | None = None,
           network: str | None = None, progress: Progress | None = None) -> ExportResult:
    """Exports one network, reloads the file(s), compares outputs, and only then puts them in place.

    Args:
        project: the project; it is not changed.
        format: a key of `FORMATS`.
        path: the main file to write (its folder must exist).
        weights: a weights file (plain state_dict or run checkpoint) or a
            state_dict; None exports freshly initialised weights (noted).
        network: the network to export (the first one when None).
        progress: called as ``progress(step, fraction)``.

    Raises:
        ExportError: the export failed or disagreed with the live model; no
            file was left under the target name(s).
        StudioError: the network has problems, or the weights do not fit it.
    """
    if format not in FORMATS:
        raise ExportError(f"unknown export format '{format}': choose one of {', '.join(FORMATS)}")
    report = progress or (lambda step, fraction: None)
    target = Path(path).absolute()
    net = project.network(network)
    analyzer = Analyzer(project)
    _check_room(analyzer.analyse(net.name), format, target)
    with staging_folder(target) as staging:
        report("compiling", 0.0)
        model, notes = prepared_model(project, net.name, weights, analyzer)
        axes = dims.plan(project, net.name)
        job = Job(project, net.name, model, dims.samples(project, net.name, axes), target, staging, notes, axes)
        files, diff = _write_and_verify(job, format, report)
        report("saving", 0.95)
        final = commit(files, target.parent)
    report("done", 1.0)
    return ExportResult(final[0], format, final, diff, job.notes, dims.dynamic_names(job.axes))


def _write_and_verify(job: Job, format: str, report: Progress) -> tuple[list[Path], float]:
    """Writes `job` in `format` into its staging folder and checks the reloaded file; (files, difference)."""
    report(f"writing {FORMATS[format].description.split(':')[0]}", 0.2)
    files, runner = FORMATS[format].write(job)
    report("verifying", 0.7)
    job.samples = dims.samples(job.project, job.network, job.axes)  # the format may have fixed some
    if format in TRACED:
        job.notes += dims.notes(job.axes)
    return files, verify(job, runner)


def _check_room(report: Report, format: str, target: Path) -> None:
    """NoRoomError before anything is allocated or written when the export cannot fit.

    An export holds the weights about three times (the model, what a writer
    serialises, the reloaded copy it checks), runs sample batches of up to
    `dims.BATCHES` samples through two of them, and writes the weights once.
    """
    if report.problems:
        return  # compiling says what they are
    size = weight_bytes(report)
    running = 2 * activation_values(report) * max(dims.BATCHES) * BYTES
    what = f"exporting network '{report.network}' ({report.total_params:,} parameters) as {format}"
    require_memory(3 * size + running, what, "export a smaller network (or smaller inputs), or free memory")
    require_disk(target, size, f"the {format} export")


def prepared_model(project: Project, network: str, weights,
                   analyzer: Analyzer | None = None) -> tuple[torch.fx.GraphModule, list[str]]:
    """The compiled network in eval mode with `weights` loaded (strictly), and notes."""
    model = compile_network(project, network, analyzer)
    notes = []
    if weights is None:
        notes.append("no weights given: the export holds freshly initialised (untrained) weights")
    else:
        report = load_weights(project, weights, network)
        try:
            apply_weights(model, report, strict=True)
        except StudioError as e:
            raise ExportError(f"cannot export network '{network}' with {report.source}: {e}") from None
    return model.eval(), notes


def sample_inputs(project: Project, network: str) -> list[tuple[torch.Tensor, ...]]:
    """The inputs an export of `network` is checked on (see `studio.export.dims.samples`)."""
    return dims.samples(project, network, dims.plan(project, network))


def verify(job: Job, runner) -> float:
    """Largest difference between the live model and the reloaded export; ExportError beyond tolerance."""
    worst = 0.0
    for inputs in job.samples:
        shapes = "; ".join("×".join(str(s) for s in x.shape) for x in inputs)
        where = f"the exported file {job.target} (inputs {shapes})"
        with torch.inference_mode():
            expected = job.model(*inputs)
            try:
                got = runner(*inputs)
            except Exception as e:
                first = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
                raise ExportError(f"{where} fails to run: {first}. Nothing was written.") from e
        diff, scale = max_difference(expected, got, where)
        if not diff <= RTOL * scale:  # also catches NaN
            raise ExportError(f"{where} disagrees with the network: largest difference {diff:.3g} "
                              f"(allowed {RTOL * scale:.3g}). Nothing was written; try another format "
                              f"and report this as a bug.")
        worst = max(worst, diff)
    return worst


def default_path(project: Project, format: str, folder: str | Path = ".") -> Path:
    """A file name for an export: the project name with the format's suffix."""
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in project.name) or "model"
    return Path(folder) / f"{stem}{FORMATS[format].suffix}"

