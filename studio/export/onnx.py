"""ONNX export through torch's dynamo exporter (opset 18), checked with onnxruntime.

Needs the packages ``onnx``, ``onnxscript`` and ``onnxruntime`` (the ``export``
extra); without them the export stops with a message saying what to install.
Every input gets a dynamic batch dimension named "batch"; inputs and outputs
are named after the network's Input and Output nodes. The weights are stored
inside the one ``.onnx`` file unless they pass `EXTERNAL_DATA_BYTES` (protobuf
cannot hold 2 GB), in which case they go to ``NAME.onnx.data`` beside it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from studio.export.base import ExportError, Job, Runner, failure, writing
from studio.export.pt2 import dynamic_batch
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
                          f"run  pip install \"network-studio[export]\"  (or  pip install {' '.join(PACKAGES)}). "
                          f"Nothing was written.")
    program = _convert(job)
    size = sum(t.numel() * t.element_size() for t in job.model.state_dict().values())
    external = size > EXTERNAL_DATA_BYTES
    path = job.staged(job.target)
    try:
        require_disk(job.staging, size, "the ONNX file")  # onnx writes with Python's files: no abort, but check first
    except NoRoomError as e:
        raise ExportError(str(e)) from None
    with writing(job.target):
        program.save(str(path), external_data=external)
    if external:
        job.notes.append(f"the weights ({size / 1e9:.1f} GB) are in {job.target.name}.data beside the model: "
                         f"keep the two files together")
    files = [path] + sorted(p for p in job.staging.iterdir() if p != path)
    return files, _session(job, path)


def _convert(job: Job):
    outputs = _output_names(job)
    kwargs = dict(dynamo=True, opset_version=OPSET, input_names=job.input_names, verbose=False,
                  output_names=outputs)
    try:
        return torch.onnx.export(job.model, job.samples[0], dynamic_shapes=dynamic_batch(job), **kwargs)
    except Exception as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        try:
            program = torch.onnx.export(job.model, job.samples[0], **kwargs)
        except Exception as e2:
            raise failure(f"ONNX cannot take network '{job.network}'", e2,
                          "Export to .pt2 or TorchScript instead.") from e2
        job.dynamic_batch = False
        job.notes.append(f"the batch size is fixed at {job.samples[0][0].shape[0]} in this file: "
                         f"a dynamic batch failed ({reason})")
        return program


def _output_names(job: Job) -> list[str] | None:
    names = [n.name for n in job.project.network(job.network).iter_nodes() if n.type == "Output"]
    return names if len(set(names)) == len(names) else None


def _session(job: Job, path: Path) -> Runner:
    import onnxruntime

    try:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as e:
        raise failure(f"onnxruntime cannot open the ONNX file written for {job.target}", e,
                      "Export to .pt2 or TorchScript instead.") from e
    names = [i.name for i in session.get_inputs()]

    def run(*inputs: torch.Tensor):
        feed = {name: x.detach().cpu().numpy() for name, x in zip(names, inputs)}
        return [torch.from_numpy(a) for a in session.run(None, feed)]

    run.session = session  # for callers that want the session itself (the bench)
    return run
