"""Measured time and memory per layer: `profile_network`, behind `studio summary --profile` and the Profile button.

Each network runs a forward and a backward pass on random inputs of its
shapes (a batch of `BATCH`, on the training device) under `torch.profiler`
(CPU activity, and CUDA activity on a GPU, with ``profile_memory``). An
`fx.Interpreter` runs every layer's call inside a `record_function` scope
named after the layer (`SCOPE` + its fx path), so the profiler's own events
say which layer each op belongs to:

* forward time: the scope's total time (its ops and their children): CPU
  time on the CPU, the time of the kernels it launched on a GPU;
* backward time: the autograd engine's ``evaluate_function`` events of the
  layer's ops, found by the autograd sequence number each forward op shares
  with its backward; a parameter's gradient accumulation (no sequence
  number) counts to the layer whose backward ran just before it on the same
  thread, which is the one that produced that gradient;
* activation memory: the bytes the scope leaves allocated (its outputs and
  what its ops save for the backward pass, such as BatchNorm's batch
  statistics; buffers freed inside the call do not count), from the
  profiler's memory records.

The median of `REPEATS` passes, after one warm-up, is kept. Layers inside a
block instance add up to its row. The `share` is the layer's part of the
whole forward + backward time. Ops outside the layers (the loss standing in
for one, the interpreter's own work) are not counted.

On a GPU the times are the kernels' own (checked on an H200 with torch 2.11:
the layers held 97 of the 101 µs of kernel time in a conv-BN-ReLU-Linear
step, the rest the loss's): a small network's step is bound by launching
them, which these figures do not show. The profiler repeats each scope on
the device's timeline as a CUDA event; only the CPU one is read.
"""

from __future__ import annotations

import os
import statistics
from collections import defaultdict

import torch
from torch import fx
from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile, record_function

from studio.compile import compile_network
from studio.compile.fx import attribute_names, example_inputs
from studio.graph import Project
from studio.graph.analysis import Analyzer
from studio.system import size_text
from studio.train.devices import resolve_device

# Kineto (the profiler's engine) prints two lines on stderr per profile at its default level;
# read when it starts, so set before the first profile (a user's own setting wins)
os.environ.setdefault("KINETO_LOG_LEVEL", "6")

BATCH = 8
REPEATS = 3
SCOPE = "studio.layer:"   # the profiler scope of one layer's forward call: SCOPE + its fx path
BACKWARD = "autograd::engine::evaluate_function: "
COLUMNS = (("fwd ms", "forward_ms"), ("bwd ms", "backward_ms"), ("act. memory", "activation_bytes"),
           ("share", "share"))


class _Scoped(fx.Interpreter):
    """Runs a GraphModule with each layer's call inside a profiler scope named after its path."""

    def run_node(self, n: fx.Node):
        path = _path_of(n)
        if path is None:
            return super().run_node(n)
        with record_function(SCOPE + path):
            return super().run_node(n)


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
    model = compile_network(project, net.name, Analyzer(project)).to(device).train()
    inputs = [t.to(device) for t in example_inputs(project, net.name, batch=batch)]
    runs = [_one_pass(model, inputs, device) for _ in range(repeats + 1)][1:]
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


def _synchronize(device: torch.device) -> None:
    """Waits for the device's queued work, so the profile holds all of it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def _one_pass(model: fx.GraphModule, inputs, device: torch.device) -> dict[str, dict[str, float]]:
    """One profiled forward + backward: path -> seconds (forward, backward) and bytes (activations)."""
    gpu = device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if gpu else [])
    _synchronize(device)
    with profile(activities=activities, profile_memory=True) as prof:
        out = _Scoped(model).run(*inputs)
        loss = sum(t.float().mean() for t in _tensors(out) if t.requires_grad)
        if isinstance(loss, torch.Tensor):
            loss.backward()
        _synchronize(device)
    model.zero_grad(set_to_none=True)
    return attribute(prof.events(), gpu)


def attribute(events, gpu: bool = False) -> dict[str, dict[str, float]]:
    """The profiler's events of one pass, summed per layer path (see the module docstring).

    Returns ``{"forward_ms": {path: s}, "backward_ms": {path: s}, "activation_bytes": {path: bytes}}``
    (times in seconds: `profile_network` scales them).
    """
    spent = (lambda e: e.device_time_total) if gpu else (lambda e: e.cpu_time_total)  # microseconds
    kept = (lambda e: e.device_memory_usage) if gpu else (lambda e: e.cpu_memory_usage)
    forward, backward, memory = defaultdict(float), defaultdict(float), defaultdict(int)
    owner: dict[int, str] = {}  # autograd sequence number -> the layer whose forward op made it
    for e in events:
        # on a GPU the profiler repeats each scope on the device's timeline: the CPU one holds the ops
        if e.name.startswith(SCOPE) and e.device_type == DeviceType.CPU:
            path = e.name[len(SCOPE):]
            forward[path] += spent(e) * 1e-6
            memory[path] += kept(e)
            owner.update((op.sequence_nr, path) for op in _within(e) if op.sequence_nr >= 0)
    steps = sorted((e for e in events if e.name.startswith(BACKWARD)), key=lambda e: (e.thread, e.time_range.start))
    last, thread = None, None
    for e in steps:
        if e.thread != thread:
            last, thread = None, e.thread
        path = owner.get(e.sequence_nr) if e.sequence_nr >= 0 else last
        last = path if e.sequence_nr >= 0 else last
        if path is not None:
            backward[path] += spent(e) * 1e-6
    return {"forward_ms": dict(forward), "backward_ms": dict(backward), "activation_bytes": dict(memory)}


def _within(event):
    """The ops under a profiler event, at any depth."""
    for child in event.cpu_children:
        yield child
        yield from _within(child)


def add_profile(data: dict, project: Project, batch: int = BATCH, device: str | None = None) -> dict:
    """`summary_data`'s dict with each layer's measured figures added (in place; also returned)."""
    for name, net_data in data["networks"].items():
        net = project.network(name)
        rows = profile_network(project, name, batch=batch, device=device)
        for node, layer in zip(net.iter_nodes(), net_data["layers"]):
            layer.update(rows[node.id])
        chosen = resolve_device(device or (project.training or {}).get("device", "auto"))
        net_data["profile"] = {"batch": batch, "device": str(chosen),
                               "method": "torch.profiler: a record_function scope per layer (forward), "
                                         "autograd sequence numbers (backward), memory records (activations)",
                               "forward_ms": round(sum(r["forward_ms"] for r in rows.values()), 4),
                               "backward_ms": round(sum(r["backward_ms"] for r in rows.values()), 4)}
    return data


def cell(key: str, value) -> str:
    """A profile figure as the table shows it."""
    if key == "activation_bytes":
        return size_text(value)
    return f"{value:.3f}" if key != "share" else f"{value:.1%}"
