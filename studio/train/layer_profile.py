"""Measured time and memory per layer: `profile_network`, behind `studio summary --profile` and the Profile button.

Each network runs a forward and a backward pass on random inputs of its
shapes (a batch of `BATCH`, on the training device) through an
`fx.Interpreter` that times every fx node, and gradient hooks on every
node's output that note when its gradient arrives:

* forward time: the wall time of the node's own call (the interpreter's
  bookkeeping outside it is not counted);
* backward time: the time from the arrival of the node's output gradient
  to the next gradient event, which is when the autograd engine, one node at
  a time, has finished that node's backward and moved on;
* activation memory: the bytes of the node's output tensors on the batch
  (what a training step keeps for the backward pass, at most).

Why hooks and not `torch.profiler`: the profiler reports aten ops, which it
does not attribute to an fx node's function calls (Add, ReLU as functions),
nor backward ops to layers without matching sequence numbers by hand; the
hooks measure per node directly, with a device synchronisation on CUDA.
The median of `REPEATS` passes, after one warm-up, is kept. Layers inside a
block instance add up to its row. The `share` is the layer's part of the
whole forward + backward time.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict

import torch
from torch import fx

from studio.compile import compile_network
from studio.compile.fx import attribute_names, example_inputs
from studio.graph import Project
from studio.graph.analysis import Analyzer
from studio.system import size_text
from studio.train.devices import resolve_device

BATCH = 8
REPEATS = 3
COLUMNS = (("fwd ms", "forward_ms"), ("bwd ms", "backward_ms"), ("act. memory", "activation_bytes"),
           ("share", "share"))


class _Timed(fx.Interpreter):
    """Runs a GraphModule, timing each node with a path and hooking its outputs' gradients."""

    def __init__(self, module: fx.GraphModule, sync):
        super().__init__(module)
        self.sync = sync
        self.forward: dict[str, float] = defaultdict(float)
        self.memory: dict[str, int] = defaultdict(int)
        self.grad_events: list[tuple[float, str]] = []

    def run_node(self, n: fx.Node):
        path = _path_of(n)
        if path is None:
            return super().run_node(n)
        self.sync()
        start = time.perf_counter()
        value = super().run_node(n)
        self.sync()
        self.forward[path] += time.perf_counter() - start
        for t in _tensors(value):
            self.memory[path] += t.numel() * t.element_size()
            if t.requires_grad:
                t.register_hook(self._hook(path))
        return value

    def _hook(self, path: str):
        def noted(grad):
            self.sync()
            self.grad_events.append((time.perf_counter(), path))
        return noted


def _path_of(n: fx.Node) -> str | None:
    if n.op == "call_module":
        return n.target
    return n.meta.get("path") if n.op == "call_function" else None


def _tensors(value):
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _tensors(item)


def profile_network(project: Project, network: str | None = None, batch: int = BATCH,
                    device: str | None = None, repeats: int = REPEATS) -> dict[str, dict]:
    """Node id -> ``forward_ms``, ``backward_ms``, ``activation_bytes`` and ``share`` (top-level nodes)."""
    net = project.network(network)
    device = resolve_device(device or (project.training or {}).get("device", "auto"))
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    model = compile_network(project, net.name, Analyzer(project)).to(device).train()
    inputs = [t.to(device) for t in example_inputs(project, net.name, batch=batch)]
    runs = [_one_pass(model, inputs, sync) for _ in range(repeats + 1)][1:]
    owners = {name: node_id for node_id, name in attribute_names(net).items()}
    rows = {node_id: {"forward_ms": 0.0, "backward_ms": 0.0, "activation_bytes": 0} for node_id in net.nodes}
    for key, scale in (("forward_ms", 1e3), ("backward_ms", 1e3), ("activation_bytes", 1)):
        for path in set().union(*(r[key].keys() for r in runs)):
            node_id = owners.get(path.split(".")[0])
            if node_id is not None:
                rows[node_id][key] += statistics.median(r[key].get(path, 0) for r in runs) * scale
    total = sum(r["forward_ms"] + r["backward_ms"] for r in rows.values()) or 1.0
    for r in rows.values():
        r["forward_ms"], r["backward_ms"] = round(r["forward_ms"], 4), round(r["backward_ms"], 4)
        r["activation_bytes"] = int(r["activation_bytes"])
        r["share"] = round((r["forward_ms"] + r["backward_ms"]) / total, 4)
    return rows


def _one_pass(model: fx.GraphModule, inputs, sync) -> dict[str, dict[str, float]]:
    runner = _Timed(model, sync)
    out = runner.run(*inputs)
    loss = sum(t.float().mean() for t in _tensors(out) if t.requires_grad)
    backward: dict[str, float] = defaultdict(float)
    if isinstance(loss, torch.Tensor):
        sync()
        start = time.perf_counter()
        loss.backward()
        sync()
        events = [(start, None)] + sorted(runner.grad_events) + [(time.perf_counter(), None)]
        # the interval after a gradient event is that node's backward (the first one: the loss's own)
        for (t0, path), (t1, _) in zip(events[1:-1], events[2:]):
            backward[path] += t1 - t0
    model.zero_grad(set_to_none=True)
    return {"forward_ms": dict(runner.forward), "backward_ms": dict(backward), "activation_bytes": dict(runner.memory)}


def add_profile(data: dict, project: Project, batch: int = BATCH, device: str | None = None) -> dict:
    """`summary_data`'s dict with each layer's measured figures added (in place; also returned)."""
    for name, net_data in data["networks"].items():
        net = project.network(name)
        rows = profile_network(project, name, batch=batch, device=device)
        for node, layer in zip(net.iter_nodes(), net_data["layers"]):
            layer.update(rows[node.id])
        chosen = resolve_device(device or (project.training or {}).get("device", "auto"))
        net_data["profile"] = {"batch": batch, "device": str(chosen),
                               "method": "fx interpreter timing (forward), gradient hooks (backward)",
                               "forward_ms": round(sum(r["forward_ms"] for r in rows.values()), 4),
                               "backward_ms": round(sum(r["backward_ms"] for r in rows.values()), 4)}
    return data


def cell(key: str, value) -> str:
    """A profile figure as the table shows it."""
    if key == "activation_bytes":
        return size_text(value)
    return f"{value:.1%}" if key == "share" else f"{value:.3f}"
