"""Running one layer on the ``meta`` device: its outputs, parameters and FLOPs, or what is wrong.

`run_layer` is shape inference for one node: the layer is built on meta and
called on meta tensors, so the shapes are torch's own, never formulas of ours;
FLOPs are what the analysis's `flops.FlopCount` saw the call do. A failure
becomes a message that names the node, the port and the shapes. Input and
Output nodes make or check values rather than run anything.
`studio.graph.analysis` walks a network and calls this for each layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from studio import catalog
from studio.graph.flops import FlopCount
from studio.graph.network import Node
from studio.graph.report import NodeResult, format_shape

BATCH = 2  # two samples, so batch norm in training mode accepts the input
# Values one sample of any tensor may hold: past 2**31 torch needs 64-bit indexing, and no run would fit anyway.
MAX_SAMPLE_VALUES = 2 ** 31
# Meta runs a recurrent layer one step at a time (~2 ms a step): longer sequences are run at 2 and 3 steps and extended.
LONG_SEQUENCE = 8
DTYPES = {"float": torch.float32, "long": torch.long}


@dataclass
class Computed:
    """A node's meta output values (None when it failed) and its result; `label` names the node it was run for."""

    values: list[torch.Tensor] | None
    result: NodeResult
    label: str = ""


def run_layer(node: Node, params: dict, inputs: list[torch.Tensor], outs, label: str,
              counter: FlopCount) -> Computed:
    """One node (not a block) on its meta inputs, with its resolved parameters; `outs` are its output ports."""
    spec = catalog.get(node.type)
    if node.role == "input":
        shape, dtype = tuple(params["shape"]), params["dtype"]
        if not inputs and math.prod(shape) > MAX_SAMPLE_VALUES:
            return error(None, _too_big(label, "holds", shape))
        value = inputs[0] if inputs else torch.empty((BATCH, *shape), dtype=DTYPES[dtype], device="meta")
        return ok([value], ["out"], params, {}, 0, 0, 0)
    if node.role == "output":
        problem = _check_classes(params["classes"], inputs[0], label)
        return error(None, problem) if problem else ok(inputs, ["out"], params, {}, 0, 0, 0)
    problem = _check_inputs(spec, inputs, label)
    if problem:
        return error(*problem)
    shapes = [tuple(t.shape) for t in inputs]
    try:
        inferred = {p.name: p.infer(shapes) for p in spec.params if p.inferred}
    except IndexError:
        return error(None, f"{label} cannot infer its sizes from an input of shape {_shapes(inputs)}")
    resolved = {**params, **inferred}
    long = spec.category == "Recurrent" and inputs[0].dim() > 1 and inputs[0].shape[1] > LONG_SEQUENCE
    try:
        result = (_run_long if long else _run)(spec, resolved, inputs, label, counter)
    except _LayerFailed as e:
        return error(None, str(e))
    values, n_params, trainable, flops = result
    big = next((v for v in values if math.prod(v.shape[1:]) > MAX_SAMPLE_VALUES), None)
    if big is not None:
        return error(None, _too_big(label, "gives", tuple(big.shape[1:])))
    if len(values) != len(outs):
        return error(None, f"{label} gives {len(values)} outputs, but has {len(outs)} ports "
                           f"(input {_shapes(inputs)}); check its sizes")
    return ok(values, outs, resolved, inferred, n_params, trainable, flops)


def _run(spec, resolved: dict, inputs: list[torch.Tensor], label: str, counter: FlopCount):
    """Builds the layer on meta and calls it; (outputs, params, trainable, flops)."""
    before = counter.total
    try:
        if spec.is_function:
            args = [inputs] if spec.list_input else inputs
            out = spec.function(*args, **spec.kwargs_for_call(resolved))
            n_params = trainable = 0
        elif spec.runs_code:
            out, n_params, trainable = _run_code(spec, resolved, inputs)
        else:
            with torch.device("meta"):
                module = spec.make_module(resolved)
            if any(t.dtype == torch.long for t in inputs) and spec.dtype != "long" and any(True for _ in module.parameters()):
                raise _LayerFailed(f"{label} needs float values, got integer ids (add an Embedding before it)")
            n_params = sum(p.numel() for p in module.parameters())
            trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
            out = module(*inputs)
    except _LayerFailed:
        raise
    except Exception as e:  # torch's own message says what is wrong; add where and which shapes
        if spec.category == "Merge" and len(inputs) > 1:
            got = " and ".join(f"{_shape(t)} on '{p}'" for p, t in zip(spec.input_ports(resolved), inputs))
            raise _LayerFailed(f"{label} cannot combine its inputs: got {got}") from None
        raise _LayerFailed(f"{label}: {_torch_message(e)} (input {_shapes(inputs)})") from None
    values = list(out) if isinstance(out, (tuple, list)) else [out]
    flops = (counter.total - before) // BATCH
    return values, n_params, trainable, flops


def _run_long(spec, resolved: dict, inputs: list[torch.Tensor], label: str, counter: FlopCount):
    """`_run` for a recurrent layer over a long sequence, from runs over 2 and 3 steps.

    Its output sizes and FLOPs grow linearly with the number of steps, so two
    short runs give them exactly (10**6 steps took minutes and a gigabyte).
    """
    x, steps = inputs[0], inputs[0].shape[1]
    (short, n_params, trainable, f2), (longer, _, _, f3) = (
        _run(spec, resolved, [x.new_empty((x.shape[0], k, *x.shape[2:]))], label, counter) for k in (2, 3))
    values = [torch.empty([a + (b - a) * (steps - 2) for a, b in zip(s.shape, t.shape)], dtype=s.dtype,
                          device="meta") for s, t in zip(short, longer)]
    return values, n_params, trainable, f2 + (f3 - f2) * (steps - 2)


class _LayerFailed(Exception):
    pass


def _run_code(spec, resolved: dict, inputs: list[torch.Tensor]):
    """The user's own module (a "Module" node), built on the CPU and run on zeros: its code may
    look at values, which meta tensors do not have (and callers may have made meta the default device).
    (meta outputs, params, trainable)"""
    with torch.device("cpu"), torch.no_grad():
        module = spec.make_module(resolved)
        out = module(*(torch.zeros(t.shape, dtype=t.dtype) for t in inputs))
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    n_params = sum(p.numel() for p in module.parameters())
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return [torch.empty(o.shape, dtype=o.dtype, device="meta") for o in outs], n_params, trainable


def _check_classes(classes: int | None, value: torch.Tensor, label: str) -> str | None:
    """A message when an Output set to `classes` gets a tensor with no dimension of that size.

    Classes are dimension 1 (N, C, ...) as cross-entropy reads them, or the last
    one for token models (N, T, C).
    """
    if classes is None or value.dim() < 2 or classes in (value.shape[1], value.shape[-1]):
        return None
    return (f"{label} is set to {classes} classes but gets {_shape(value)} values per sample; "
            f"give the last layer $classes outputs (out_features: $classes)")


def _check_inputs(spec, inputs: list[torch.Tensor], label: str):
    """(port, message) when an input has the wrong rank or dtype for the spec."""
    ports = spec.input_ports(spec.defaults())
    for port, t in zip(ports, inputs):
        if spec.rank is not None:
            ranks = spec.rank if isinstance(spec.rank, tuple) else (spec.rank,)
            if t.dim() not in ranks:
                want = " or ".join(f"{r - 1}-D" for r in ranks)
                return port, (f"{label} expects a {want} input per sample, got {_shape(t)} "
                              f"({t.dim() - 1}-D) on port '{port}'")
        if spec.dtype == "long" and t.dtype != torch.long:
            return port, f"{label} needs integer ids (an Input with dtype long), got float values on port '{port}'"
    return None


def ok(values, outs, resolved, inferred, n_params, trainable, flops) -> Computed:
    """A node that ran: its values and result, outputs by port."""
    return Computed(values, NodeResult(
        outputs={p: tuple(v.shape[1:]) for p, v in zip(outs, values)},
        dtypes={p: "long" if v.dtype == torch.long else "float" for p, v in zip(outs, values)},
        resolved=resolved, inferred=inferred, params=n_params, trainable=trainable, flops=flops))


def error(port, message) -> Computed:
    """A node that failed, with the message (and the input port) that says why."""
    return Computed(None, NodeResult(status="error", message=message, port=port))


def _too_big(label: str, verb: str, shape: tuple[int, ...]) -> str:
    return (f"{label} {verb} {math.prod(shape):,} values per sample ({format_shape(shape)}); at most "
            f"{MAX_SAMPLE_VALUES:,} fit in one tensor: make it smaller")


def _shape(t: torch.Tensor) -> str:
    return "×".join(str(s) for s in t.shape[1:]) or "scalar"


def _shapes(inputs: list[torch.Tensor]) -> str:
    return ", ".join(_shape(t) for t in inputs)


def _torch_message(e: Exception) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text.rstrip(".")
