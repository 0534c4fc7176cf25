"""Post-training int8 quantization with onnxruntime's quantizer, on the network's ONNX export.

Why onnxruntime and not torch: ``torch.ao.quantization`` is deprecated, and
torchao's int8 paths target GPUs and ``torch.compile`` (on the CPU its
quantized tensors ran slower than float here); onnxruntime's quantizer writes
one ``.onnx`` file with int8 weights that its CPU kernels run (QLinearConv,
MatMulInteger), and onnxruntime is already what checks the ONNX export.

* static (networks with convolutions): weights int8 per output channel,
  activations uint8 with ranges calibrated on `CALIBRATION_SAMPLES` samples of
  the project's own training split (QDQ format, which onnxruntime fuses into
  integer kernels);
* dynamic (Linear, LSTM, GRU, attention: no convolution): weights int8,
  activations quantized per batch at run time, no calibration needed.

The float ONNX file is the "before" (its size and latency in onnxruntime),
the int8 file the "after"; both are measured on one thread.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

from studio.compress.measure import Figures, figures
from studio.compress.subject import Subject
from studio.errors import StudioError
from studio.export.formats import export
from studio.files import write_atomic

MODES = ("auto", "static", "dynamic")
CALIBRATION_SAMPLES = 512
CALIBRATION_BATCH = 32
CONVOLUTIONS = ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")


def chosen_mode(subject: Subject, mode: str) -> str:
    """`mode`, with "auto" made static for networks with convolutions and dynamic otherwise."""
    if mode != "auto":
        return mode
    types = {n.type for net in subject.project.all_networks() for n in net.iter_nodes()}
    return "static" if types & set(CONVOLUTIONS) else "dynamic"


def quantize(subject: Subject, out: Path, mode: str = "auto", progress=None) -> tuple[Figures, Figures, list[str]]:
    """Writes the int8 ONNX file at `out`; (figures of the float ONNX file, of the int8 one, notes)."""
    report = progress or (lambda step, fraction: None)
    mode = chosen_mode(subject, mode)
    analysis = subject.report()
    with tempfile.TemporaryDirectory(prefix=".studio-quantize-", dir=out.parent) as tmp:
        fp32, int8 = Path(tmp) / "model.onnx", Path(tmp) / "int8.onnx"
        report("exporting to ONNX", 0.05)
        export(subject.project, "onnx", fp32, weights=subject.state, network=subject.network)
        report(f"quantizing ({mode})", 0.3)
        _quantize(subject, fp32, int8, mode, Path(tmp))
        report("measuring the float model", 0.5)
        before = _figures(subject, fp32, analysis)
        report("measuring the int8 model", 0.75)
        after = _figures(subject, int8, analysis)
        write_atomic(out, int8.read_bytes(), what="the int8 model")
    notes = [f"{mode} int8 quantization (onnxruntime); run {out.name} with onnxruntime"]
    return before, after, notes


def _quantize(subject: Subject, fp32: Path, int8: Path, mode: str, tmp: Path) -> None:
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared, flat = tmp / "prepared.onnx", tmp / "flat.onnx"
    try:
        _inline_layers(fp32, flat)
        quant_pre_process(str(flat), str(prepared), skip_symbolic_shape=True)
        if mode == "dynamic":
            quantize_dynamic(str(prepared), str(int8), weight_type=QuantType.QInt8)
        else:
            quantize_static(str(prepared), str(int8), _Calibration(subject, session(fp32)),
                            quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    except Exception as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
        raise StudioError(f"onnxruntime could not quantize network '{subject.network}' ({mode}): {first}. "
                          f"Try --quantize-mode {'dynamic' if mode == 'static' else 'static'}") from e


def _inline_layers(path: Path, out: Path) -> None:
    """The ONNX file at `path` with its layers' functions (`studio.export.onnx_groups`) inlined into the graph:
    onnxruntime's quantizer quantizes the graph's own nodes only."""
    import onnx
    from onnx.inliner import inline_local_functions

    onnx.save(inline_local_functions(onnx.load(str(path))), str(out))


class _Calibration:
    """onnxruntime's CalibrationDataReader over the first training samples."""

    def __init__(self, subject: Subject, session):
        self.name = session.get_inputs()[0].name
        count = min(CALIBRATION_SAMPLES, len(subject.splits.train))
        loader = torch.utils.data.DataLoader(torch.utils.data.Subset(subject.splits.train, range(count)),
                                             batch_size=CALIBRATION_BATCH)
        self.batches = iter([x.numpy().astype(np.float32) for x, _ in loader])

    def get_next(self):
        batch = next(self.batches, None)
        return None if batch is None else {self.name: batch}

    def rewind(self):  # onnxruntime calls it on some versions; one pass is all it needs
        pass


def session(path: Path, threads: int = 1):
    """An onnxruntime CPU session on `path`, on `threads` threads."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def predictor(path: Path):
    """A callable running the ONNX file at `path` on a torch batch, returning a torch tensor."""
    s = session(path)
    name = s.get_inputs()[0].name
    return lambda x: torch.from_numpy(s.run(None, {name: x.numpy().astype(np.float32)})[0])


def _figures(subject: Subject, path: Path, analysis) -> Figures:
    return figures(predictor(path), subject.held_out, subject.sample, path.stat().st_size,
                   analysis.total_params, analysis.flops, subject.repeats)
