"""ONNX export through torch's dynamo exporter (opset 18), checked with onnxruntime.

Needs the packages ``onnx``, ``onnxscript`` and ``onnxruntime`` (dependencies of
Network Studio); without them the export stops with a message saying what to install.
The dimensions torch.export keeps dynamic (see `studio.export.pt2`) are dynamic
here too, named after what they are ("batch", "source_length",
"image_height"); inputs and outputs are named after the network's Input and
Output nodes, nodes and values after the project's layers (`onnx_names`: no
stack traces or paths of this machine are kept), and a layer of several
operators is one node, a local function (`onnx_groups`). The weights are stored
inside the one ``.onnx`` file unless they pass `EXTERNAL_DATA_BYTES` (protobuf
cannot hold 2 GB), in which case they go to ``NAME.onnx.data`` beside it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from studio.export.base import ExportError, Job, Runner, failure, writing
from studio.export import dims
from studio.export.onnx_groups import group
from studio.export.onnx_names import named_calls, tidy
from studio.export.pt2 import exported_program
from studio.system import NoRoomError, require_disk

SUFFIX = ".onnx"
DESCRIPTION = "ONNX (.onnx): for onnxruntime, TensorRT, OpenVINO and other runtimes"
OPSET = 18
EXTERNAL_DATA_BYTES = 1_500_000_000
PACKAGES = ("onnx", "onnxscript", "onnxruntime")


def missing_packages() -> list[str]:
    """The packages ONNX export needs that are not installed."""
    return [name for name in PACKAGES if importlib.util.find_spec(name) is None]


def write(job: Job) -> tuple[list[Path], Runner]:
    """Converts the model, saves it (one file when it fits), and opens it with onnxruntime."""
    missing = missing_packages()
    if missing:
        raise ExportError(f"ONNX export needs the package(s) {', '.join(missing)}, which are not installed: "
                          f"run  pip install {' '.join(PACKAGES)}. "
                          f"Nothing was written.")
    path, runner = _saved(job, _convert(job))
    refusal = _refuses_other_sizes(job, runner)
    if refusal:  # onnxruntime refuses what torch.export took: keep those sizes fixed
        for axis in job.axes:
            if axis.probe is not None and axis.label != "batch":
                axis.fix(refusal)
        for f in job.staging.iterdir():
            f.unlink()
        path, runner = _saved(job, _convert(job, settled=True))
    files = [path] + sorted(p for p in job.staging.iterdir() if p != path)
    return files, runner


def _saved(job: Job, program) -> tuple[Path, Runner]:
    """Saves the program with readable names (see `onnx_names`), and opens it with onnxruntime."""
    import onnx

    size = sum(t.numel() * t.element_size() for t in job.model.state_dict().values())
    external = size > EXTERNAL_DATA_BYTES
    path = job.staged(job.target)
    try:
        require_disk(job.staging, size, "the ONNX file")  # onnx writes with Python's files: no abort, but check first
    except NoRoomError as e:
        raise ExportError(str(e)) from None
    with writing(job.target):
        program.save(str(path), external_data=external)
        model = onnx.load(str(path))
        group(model, tidy(model))
        onnx.save(model, str(path), save_as_external_data=external, location=f"{path.name}.data")
    if external:
        job.notes.append(f"the weights ({size / 1e9:.1f} GB) are in {job.target.name}.data beside the model: "
                         f"keep the two files together")
    return path, _session(job, path)


def _refuses_other_sizes(job: Job, runner: Runner) -> str | None:
    """Why onnxruntime fails on the dynamic dimensions' other sizes (naming a layer it can), or None."""
    varied = dims.samples(job.project, job.network, job.axes)[1:]
    if not varied or not any(a.probe is not None and a.label != "batch" for a in job.axes):
        return None
    try:
        runner(*varied[0])
        return None
    except Exception as e:
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
    pools = [n for n in job.project.network(job.network).iter_nodes() if n.type.startswith("Adaptive")]
    if pools:
        return (f"{pools[0].type} '{pools[0].name}' (the ONNX exporter turns adaptive pooling into a pooling of "
                f"fixed window for the example's size); .pt2 and TorchScript keep it dynamic")
    return f"onnxruntime refuses other sizes ({first})"


def _convert(job: Job, settled: bool = False):
    """The ONNX program, with the dynamic dimensions torch.export keeps, named after the axes ("batch", "source_length")."""
    if not settled:
        exported_program(job)  # settles which axes torch.export keeps dynamic, and their ranges
    kwargs = dict(dynamo=True, opset_version=OPSET, input_names=job.input_names, verbose=False,
                  output_names=_output_names(job))
    shapes = dims.dynamic_shapes(job.axes, job.input_names, named=True)
    model = named_calls(job.model)
    try:
        return torch.onnx.export(model, job.samples[0], dynamic_shapes=shapes, **kwargs)
    except Exception as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        try:
            program = torch.onnx.export(model, job.samples[0], **kwargs)
        except Exception as e2:
            raise failure(f"ONNX cannot take network '{job.network}'", e2,
                          "Export to .pt2 or TorchScript instead.") from e2
        for axis in job.axes:
            if axis.probe is not None:
                axis.fix(f"the ONNX exporter failed with dynamic shapes ({reason})")
        return program


def _output_names(job: Job) -> list[str] | None:
    names = [n.name for n in job.project.network(job.network).iter_nodes() if n.role == "output"]
    return names if len(set(names)) == len(names) else None


def _session(job: Job, path: Path) -> Runner:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4  # a failed run raises; its log line on stderr would only repeat it
    try:
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as e:
        raise failure(f"onnxruntime cannot open the ONNX file written for {job.target}", e,
                      "Export to .pt2 or TorchScript instead.") from e
    names = [i.name for i in session.get_inputs()]

    def run(*inputs: torch.Tensor):
        feed = {name: x.detach().cpu().numpy() for name, x in zip(names, inputs)}
        return [torch.from_numpy(a) for a in session.run(None, feed)]

    run.session = session  # for callers that want the session itself (the bench)
    return run
