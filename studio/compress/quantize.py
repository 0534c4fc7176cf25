"""Post-training int8 quantization with onnxruntime's quantizer, on the network's ONNX export.

Why onnxruntime and not torch: ``torch.ao.quantization`` is deprecated, and
torchao's int8 paths target GPUs and ``torch.compile`` (on the CPU its
quantized tensors ran slower than float here); onnxruntime's quantizer writes
one ``.onnx`` file with int8 weights that its CPU kernels run (QLinearConv,
MatMulInteger), and onnxruntime is already what checks the ONNX export.

* static: weights int8 per output channel, activations uint8 with ranges
  calibrated on `CALIBRATION_SAMPLES` samples of the project's own training
  split (QDQ format, which onnxruntime fuses into integer kernels);
* dynamic: the weights of Linear, LSTM, GRU and attention layers int8, their
  activations quantized per batch at run time, no calibration needed;
  convolutions run in float (onnxruntime's ConvInteger ran 4.7× slower than
  the float LeNet-5) from float16 weights in the file.

"auto" quantizes a network without convolutions dynamically. One with
convolutions is quantized both ways and the faster file at batch 32 is kept,
unless the dynamic one is over `SIZE_SLACK` times the static one's size (its
convolutions hold the weights): onnxruntime's int8 convolutions pay on wide
layers (ResNet-18: 0.67× the float time) but lose on narrow ones (LeNet-5's
1→6 and 6→16 channels: 2.1× slower, and int8 max pooling 2.6× slower than
float), where int8 Linear layers with float convolutions ran 0.90×.

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
SIZE_SLACK = 1.1  # a dynamic file (float convolutions) up to this times the static one's size counts as as small
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
    chosen = chosen_mode(subject, mode)
    modes = ("static", "dynamic") if mode == "auto" and chosen == "static" else (chosen,)
    analysis = subject.report()
    with tempfile.TemporaryDirectory(prefix=".studio-quantize-", dir=out.parent) as tmp:
        fp32 = Path(tmp) / "model.onnx"
        report("exporting to ONNX", 0.05)
        export(subject.project, "onnx", fp32, weights=subject.state, network=subject.network)
        report("measuring the float model", 0.2)
        before = _figures(subject, fp32, analysis)
        tried = {}
        for i, m in enumerate(modes):
            report(f"quantizing ({m})", 0.3 + 0.6 * i / len(modes))
            _quantize(subject, fp32, Path(tmp) / f"{m}.onnx", m, Path(tmp))
            tried[m] = _figures(subject, Path(tmp) / f"{m}.onnx", analysis)
        kept = _kept(tried)
        write_atomic(out, (Path(tmp) / f"{kept}.onnx").read_bytes(), what="the int8 model")
    notes = [f"{kept} int8 quantization (onnxruntime); run {out.name} with onnxruntime"]
    if len(tried) > 1:
        notes.append("batch 32: " + ", ".join(f"{m} {f.latency32_ms:.3f} ms ({f.size_bytes:,} bytes)"
                                              for m, f in tried.items())
                     + f", float {before.latency32_ms:.3f} ms; kept {kept}"
                     + (" (convolutions in float: faster here)" if kept == "dynamic" else ""))
    return before, tried[kept], notes


def _kept(tried: dict[str, Figures]) -> str:
    """The faster at batch 32 of the files tried, a dynamic one only when about as small as the static one."""
    if len(tried) == 1:
        return next(iter(tried))
    static, dynamic = tried["static"], tried["dynamic"]
    small = dynamic.size_bytes <= SIZE_SLACK * static.size_bytes
    return "dynamic" if small and dynamic.latency32_ms < static.latency32_ms else "static"


def _quantize(subject: Subject, fp32: Path, int8: Path, mode: str, tmp: Path) -> None:
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.quantization.registry import IntegerOpsRegistry
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared, flat = tmp / "prepared.onnx", tmp / "flat.onnx"
    try:
        _inline_layers(fp32, flat)
        quant_pre_process(str(flat), str(prepared), skip_symbolic_shape=True)
        if mode == "dynamic":
            quantize_dynamic(str(prepared), str(int8), weight_type=QuantType.QInt8,
                             op_types_to_quantize=[op for op in IntegerOpsRegistry if op != "Conv"])
            _half_convolution_weights(int8)
        else:
            quantize_static(str(prepared), str(int8), _Calibration(subject, session(fp32)),
                            quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    except Exception as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
        raise StudioError(f"onnxruntime could not quantize network '{subject.network}' ({mode}): {first}. "
                          f"Try --quantize-mode {'dynamic' if mode == 'static' else 'static'}") from e


def _half_convolution_weights(path: Path) -> None:
    """Stores the float convolution weights of the ONNX file at `path` in float16, each through a Cast.

    onnxruntime folds the Cast when it loads the file, so the convolutions run in float as fast as
    before (a DequantizeLinear it would not fold: that ran 1.33× slower) from a file half their size.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(path))
    weights = {i.name: i for i in model.graph.initializer}
    for node in [n for n in model.graph.node if n.op_type in ("Conv", "ConvTranspose")]:
        name = node.input[1]
        if name not in weights or weights[name].data_type != TensorProto.FLOAT:
            continue
        weight = weights.pop(name)
        half = numpy_helper.from_array(numpy_helper.to_array(weight).astype(np.float16), name + "_fp16")
        model.graph.initializer.remove(weight)
        model.graph.initializer.append(half)
        model.graph.node.insert(0, helper.make_node("Cast", [half.name], [name], to=TensorProto.FLOAT,
                                                    name=name + "_cast"))
    onnx.save(model, str(path))


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
