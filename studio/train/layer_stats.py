"""Per-layer histograms of weights, gradients and activations, taken every N steps of a run.

`LayerProbe(models, every)` watches every leaf module of the models being
trained. On a step it is due for (`due`), the trainer calls `attach` before
the recipe's training step (forward hooks record each layer's output) and
`collect` after it, when the step's gradients are still in ``.grad`` (every
recipe clears them at the start of its step, not the end). `collect` returns
a `LayersMeasured` event: per layer a histogram of its weights, of their
gradients and of its output, the gradient norm per layer and in total, a
state (``"ok"``, ``"vanishing"`` below `VANISHING`, ``"exploding"`` above
`EXPLODING` or not finite) and, on CUDA, the memory allocated and its peak.

Hooks exist only on due steps, so the steps between cost one integer
comparison. Every figure is computed on the device and read back in one
transfer per measurement: the probe waits for the device once per N steps.
A histogram is a dict ``{"min", "max", "num", "sum", "sum_squares",
"counts"}`` over the finite values (`BINS` equal buckets from min to max) and
``"non_finite"``, the count of NaN and infinite values, the form
TensorBoard's raw histograms take (`studio.train.tensorboard`).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from studio.train.events import LayersMeasured

BINS = 30
VANISHING = 1e-7
EXPLODING = 1e3
# Past this many values, an activation's histogram is made from an even sample of them.
MAX_VALUES = 1 << 20
_HEAD = 6  # min, max, finite count, all count, sum, sum of squares; then the BINS counts


def _stats(t: torch.Tensor) -> torch.Tensor:
    """min, max, finite count, count, sum, sum of squares and `BINS` counts of ``t``, on its device, no wait."""
    t = t.detach().reshape(-1)
    if t.numel() > MAX_VALUES:
        t = t[:: t.numel() // MAX_VALUES + 1]
    t = t.float()
    finite = torch.isfinite(t)
    safe = torch.where(finite, t, torch.zeros((), device=t.device))
    lo = torch.where(finite, t, torch.full((), math.inf, device=t.device)).amin()
    hi = torch.where(finite, t, torch.full((), -math.inf, device=t.device)).amax()
    width = (hi - lo).clamp_min(1e-30)
    index = ((safe - lo) / width * BINS).long().clamp_(0, BINS - 1)
    counts = torch.zeros(BINS, device=t.device).scatter_add_(0, index, finite.float())
    head = torch.stack([lo, hi, finite.sum().float(), torch.tensor(float(t.numel()), device=t.device),
                        safe.sum(), (safe * safe).sum()])
    return torch.cat([head, counts])


def _histogram(row: list[float]) -> dict[str, Any]:
    lo, hi, finite, count, total, squares = row[:_HEAD]
    empty = finite == 0
    return {"min": 0.0 if empty else lo, "max": 0.0 if empty else hi, "num": int(finite),
            "sum": total, "sum_squares": squares, "counts": [int(c) for c in row[_HEAD:]],
            "non_finite": int(count - finite)}


def grad_state(norm: float | None) -> str:
    """``"vanishing"``, ``"exploding"`` (above `EXPLODING` or not finite) or ``"ok"``; None (no gradient) is ``"ok"``."""
    if norm is None:
        return "ok"
    if not math.isfinite(norm) or norm > EXPLODING:
        return "exploding"
    return "vanishing" if norm < VANISHING else "ok"


class LayerProbe:
    """Measures the leaf modules of ``models`` (role -> module) every ``every`` steps."""

    def __init__(self, models: dict[str, nn.Module], every: int):
        self.every = every
        several = len(models) > 1
        self.layers = [(f"{role}.{name}" if several else name, role, name, module)
                       for role, model in models.items()
                       for name, module in model.named_modules()
                       if name and not any(True for _ in module.children())]
        self._outputs: dict[str, torch.Tensor] = {}
        self._handles: list[Any] = []

    def due(self, step: int) -> bool:
        """Whether 1-based training step ``step`` is measured: the first, then every ``every``-th."""
        return (step - 1) % self.every == 0

    def attach(self) -> None:
        """Hook every layer's forward for the coming step (the first call of each counts)."""
        self._outputs = {}
        for name, _, _, module in self.layers:
            self._handles.append(module.register_forward_hook(self._hook(name)))

    def _hook(self, name: str):
        def record(module: nn.Module, inputs: Any, output: Any) -> None:
            out = output[0] if isinstance(output, (tuple, list)) and output else output
            if name not in self._outputs and isinstance(out, torch.Tensor) and out.is_floating_point():
                self._outputs[name] = _stats(out)
        return record

    def detach(self) -> None:
        """Remove the hooks `attach` made."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def collect(self, epoch: int, batch: int, step: int) -> LayersMeasured:
        """The event for the step just taken (hooks removed); its gradients are read from ``.grad``."""
        self.detach()
        rows, where = [], {}
        for name, _, _, module in self.layers:
            params = list(module.parameters(recurse=False))
            grads = [p.grad for p in params if p.grad is not None]
            for kind, tensors in (("weights", params), ("grads", grads)):
                if tensors:
                    where[(name, kind)] = len(rows)
                    rows.append(_stats(torch.cat([t.detach().reshape(-1) for t in tensors])))
            if name in self._outputs:
                where[(name, "activations")] = len(rows)
                rows.append(self._outputs[name])
        self._outputs = {}
        values = torch.stack(rows).to("cpu", torch.float64).tolist() if rows else []  # the one wait
        layers = [self._layer(name, role, path, where, values) for name, role, path, _ in self.layers]
        layers = [layer for layer in layers if len(layer) > 3]
        squares = [layer["grads"]["sum_squares"] + (math.inf if layer["grads"]["non_finite"] else 0.0)
                   for layer in layers if "grads" in layer]
        total = math.sqrt(sum(squares)) if squares else None
        return LayersMeasured(epoch=epoch, batch=batch, step=step, layers=layers, grad_norm=total,
                              grad_state=grad_state(total), memory=_memory(self.layers))

    @staticmethod
    def _layer(name: str, role: str, path: str, where: dict, values: list[list[float]]) -> dict[str, Any]:
        layer: dict[str, Any] = {"name": name, "role": role, "path": path}
        for kind in ("weights", "grads", "activations"):
            if (name, kind) in where:
                layer[kind] = _histogram(values[where[(name, kind)]])
        if "grads" in layer:
            g = layer["grads"]
            norm = math.inf if g["non_finite"] else math.sqrt(g["sum_squares"])
            layer.update(grad_norm=norm, grad_state=grad_state(norm))
        return layer


def _memory(layers: list) -> dict[str, int]:
    """Memory allocated on the CUDA device of the first parameter, and its peak; empty elsewhere."""
    device = next((p.device for *_, m in layers for p in m.parameters(recurse=False)), None)
    if device is None or device.type != "cuda":
        return {}
    return {"allocated": int(torch.cuda.memory_allocated(device)),
            "peak": int(torch.cuda.max_memory_allocated(device))}


_WORSE = {"ok": 0, "vanishing": 1, "exploding": 2}


def flagged_nodes(project: Any, event: LayersMeasured) -> dict[str, dict[str, str]]:
    """Network name -> {node id: "vanishing" or "exploding"} for the nodes whose layers' gradients are flagged.

    A layer inside a block flags the block's node; a node with several layers
    takes the worst state of them.
    """
    from studio.compile.fx import attribute_names  # late: the probe itself needs no graph

    flagged: dict[str, dict[str, str]] = {}
    for layer in event.layers:
        state = layer.get("grad_state", "ok")
        if state == "ok":
            continue
        net = project.networks.get(layer["role"]) or project.network()
        ids = {attr: nid for nid, attr in attribute_names(net).items()}
        nid = ids.get(layer["path"].split(".")[0])
        if nid is not None:
            nodes = flagged.setdefault(net.name, {})
            if _WORSE[state] > _WORSE[nodes.get(nid, "ok")]:
                nodes[nid] = state
    return flagged
