"""Validation and shape inference: every node's output shapes, parameters, FLOPs and problems.

Each node is built on the ``meta`` device and called on meta tensors, so the
shapes are torch's own, never formulas of ours; FLOPs come from the formulas
of `torch.utils.flop_counter` (see `flops`). A failure is caught per node and
becomes a `Problem` that names the network, the node, the port and the
shapes; nodes below a failed node are marked "blocked" and add no problems of
their own.

A layer whose output goes nowhere is a warning (`Report.warnings`), not
an error: the network still compiles. `Analyzer.analyse` can also walk a
network as if its Input had another shape (the size it trains at), keeping
that walk incremental too.

After an edit only the edited nodes and what lies downstream of them are
walked again (`Report.computed` counts them), and a memo keyed on (type,
resolved parameters, input shapes) spares nodes whose inputs did not change
and every repeat of an identical layer.
Shapes in reports leave out the batch dimension.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from studio import catalog
from studio.catalog import BLOCK_TYPE, check_value, is_expression
from studio.errors import StudioError
from studio.graph import lazy_dynamo
from studio.graph.expressions import ExpressionError, evaluate
from studio.graph.flops import FlopCount
from studio.graph.network import Network, Node, check_block_params
from studio.graph.project import Project

BATCH = 2  # two samples, so batch norm in training mode accepts the input
# Values one sample of any tensor may hold: past 2**31 torch needs 64-bit indexing, and no run would fit anyway.
MAX_SAMPLE_VALUES = 2 ** 31
# Meta runs a recurrent layer one step at a time (~2 ms a step): longer sequences are run at 2 and 3 steps and extended.
LONG_SEQUENCE = 8
DTYPES = {"float": torch.float32, "long": torch.long}


@dataclass
class Problem:
    """One mistake: where it is and what is wrong.

    `severity` is "error" (the network cannot compile or a run would fail) or
    "warning" (it runs, but not as meant); a warning's line says so.
    """

    network: str
    node_id: str | None
    node: str | None
    message: str
    port: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        text = f"warning: {self.message}" if self.severity == "warning" else self.message
        return f"{self.network}/{self.node}: {text}" if self.node else f"{self.network}: {text}"


@dataclass
class NodeResult:
    """What analysis found for one node.

    Attributes:
        status: "ok", "error" or "blocked" (an input comes from a failed node).
        outputs: output port -> shape without the batch dimension.
        dtypes: output port -> "float" or "long".
        resolved: every constructor parameter, defaults and inferred ones included.
        inferred: the parameters the input shape decided.
        params, trainable: parameter counts; flops: per sample of the batch.
        inner: for a block, one report per repetition.
    """

    status: str = "ok"
    outputs: dict[str, tuple[int, ...]] = field(default_factory=dict)
    dtypes: dict[str, str] = field(default_factory=dict)
    resolved: dict = field(default_factory=dict)
    inferred: dict = field(default_factory=dict)
    params: int = 0
    trainable: int = 0
    flops: int = 0
    message: str | None = None
    port: str | None = None
    inner: list["Report"] = field(default_factory=list)


@dataclass
class Report:
    """The analysis of one network: a result per node id, the problems (errors) and warnings.

    `computed` counts the nodes walked anew (after an edit: what is downstream of it).
    """

    network: str
    nodes: dict[str, NodeResult]
    problems: list[Problem]
    computed: int = 0
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings do not count)."""
        return not self.problems

    @property
    def total_params(self) -> int:
        """Parameters of every node."""
        return sum(r.params for r in self.nodes.values())

    @property
    def trainable_params(self) -> int:
        """Parameters that training updates."""
        return sum(r.trainable for r in self.nodes.values())

    @property
    def flops(self) -> int:
        """FLOPs of one forward pass of one sample."""
        return sum(r.flops for r in self.nodes.values())


@dataclass
class _Computed:
    values: list[torch.Tensor] | None
    result: NodeResult
    label: str = ""


@dataclass
class _Walk:
    """One walk over a network: results and meta values per node id."""

    results: dict[str, NodeResult] = field(default_factory=dict)
    values: dict[str, list[torch.Tensor] | None] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    outputs: dict[str, torch.Tensor] = field(default_factory=dict)
    blocks_fp: tuple = ()
    scope: dict = field(default_factory=dict)


class _Tracker:
    """Collects the ids of nodes whose analysis an edit may have changed."""

    def __init__(self, net: Network):
        self.net = net
        self.dirty: set[str] = set()
        net.node_added.connect(self._node)
        net.params_changed.connect(self._node)
        net.node_renamed.connect(self._node)
        net.edge_added.connect(self._edge)
        net.edge_removed.connect(self._edge)

    def _node(self, node_id: str, *_) -> None:
        self.dirty.add(node_id)

    def _edge(self, edge) -> None:
        self.dirty.add(edge.dst)


class Analyzer:
    """Analyses the networks of one project, remembering results between calls.

    It listens to each network's events: after an edit, `analyse` walks again
    only the edited nodes and what lies downstream of them, and a per-node memo
    (keyed on type, resolved parameters and input shapes) spares even those
    whose inputs did not change.
    """

    def __init__(self, project: Project, cache_size: int = 20000):
        self.project = project
        self._cache: OrderedDict[Any, _Computed] = OrderedDict()
        self._cache_size = cache_size
        self._trackers: dict[str, _Tracker] = {}
        self._last: dict[str, _Walk] = {}
        self._inside: list[str] = []  # the blocks being walked, outermost first

    def analyse(self, network: str | None = None, input_shape: tuple[int, ...] | None = None) -> Report:
        """The report of one network (the first when None).

        Args:
            network: the network's name.
            input_shape: walk as if the network's one Input had this shape (no
                batch dimension), the project unchanged: the size it trains at.

        Raises:
            ValueError: `input_shape` given for a network without exactly one Input.
        """
        net = self.project.network(network)
        key = net.name if input_shape is None else (net.name, tuple(input_shape))
        feed = None if input_shape is None else _feed(net, tuple(input_shape))
        tracker = self._trackers.get(key)
        if tracker is None or tracker.net is not net:
            tracker = self._trackers[key] = _Tracker(net)
            self._last.pop(key, None)
        blocks_fp = tuple((b.name, b.network.revision, _freeze(b.params)) for b in self.project.blocks.values())
        previous = self._last.get(key)
        scope = network_scope(net)
        if previous is not None and previous.blocks_fp == blocks_fp and previous.scope == scope:
            dirty = net.downstream(tracker.dirty & net.nodes.keys())
        else:
            previous, dirty = None, set(net.nodes)
        tracker.dirty.clear()
        self._blocks_fp = blocks_fp
        lazy_dynamo.install()  # torch's meta kernels would import torch._dynamo (~1.2 s) on first use
        with FlopCount() as counter:
            self._counter = counter
            walk = self._walk(net, scope=scope, feed=feed, where=net.name, previous=previous, dirty=dirty)
        walk.blocks_fp, walk.scope = blocks_fp, scope
        self._last[key] = walk
        report = Report(net.name, walk.results, list(walk.problems), computed=len(dirty),
                        warnings=unused_nodes(net, net.name))
        if not net.outputs():
            report.problems.append(Problem(net.name, None, None, f"network '{net.name}' has no Output node; add one after the last layer"))
        if not net.inputs():
            report.problems.append(Problem(net.name, None, None, f"network '{net.name}' has no Input node"))
        return report

    # --- the walk -----------------------------------------------------------
    def _walk(self, net: Network, scope: dict, feed: dict[str, torch.Tensor] | None, where: str,
              previous: "_Walk | None" = None, dirty: set[str] | None = None) -> "_Walk":
        """Analyses `net` in order; `feed` gives Input values by name (inside a block).

        With `previous`, nodes outside `dirty` keep their earlier results.
        """
        walk = _Walk()
        results, values = walk.results, walk.values
        for node in net.iter_nodes():
            if previous is not None and node.id not in dirty:
                res, vals = previous.results[node.id], previous.values[node.id]
            else:
                res, vals = self._visit(net, node, results, values, feed, scope)
            results[node.id], values[node.id] = res, vals
            if res.status == "error":
                walk.problems.append(Problem(where, node.id, node.name, res.message, res.port))
        walk.outputs = {n.name: values[n.id][0] for n in net.nodes.values()
                        if n.role == "output" and values.get(n.id)}
        return walk

    def _visit(self, net, node, results, values, feed, scope):
        ins, outs = net.ports(node)
        inputs, blocked, problem = self._gather(net, node, ins, results, values, feed)
        if blocked:
            return NodeResult(status="blocked"), None
        if problem:
            return NodeResult(status="error", message=problem[1], port=problem[0]), None
        return self._node(node, inputs, outs, scope)

    def _gather(self, net, node, ins, results, values, feed):
        """The input tensors of a node, whether it is blocked, and an (port, message) problem."""
        if node.role == "input" and feed is not None and node.name in feed:
            return [feed[node.name]], False, None
        sources = net.input_sources(node)
        if any(src is not None and results[src[0]].status != "ok" for src in sources.values()):
            return None, True, None
        missing = [port for port in ins if sources[port] is None]
        if missing:
            return None, False, (missing[0], f"{node.type} '{node.name}': input '{missing[0]}' is not connected")
        return [values[src][index] for src, index in (sources[p] for p in ins)], False, None

    def _node(self, node: Node, inputs: list[torch.Tensor], outs, scope: dict):
        label = f"{node.type} '{node.name}'"
        try:
            params = self._resolve(node, scope)
        except (ExpressionError, ValueError, StudioError) as e:
            return NodeResult(status="error", message=f"{label}: {str(e).removeprefix(f'block {node.name!r}: ')}"), None
        if node.type == BLOCK_TYPE and params["block"] in self._inside:
            loop = " → ".join([*self._inside[self._inside.index(params["block"]):], params["block"]])
            return NodeResult(status="error", message=f"{label}: block '{params['block']}' contains itself "
                                                      f"({loop}); remove this node"), None
        key = (node.type, _freeze(params), tuple((tuple(t.shape), t.dtype) for t in inputs),
               self._blocks_fp if node.type == BLOCK_TYPE else None)
        hit = self._cache.get(key)
        if hit is None:
            if node.type == BLOCK_TYPE:
                self._inside.append(params["block"])
                try:
                    hit = self._block(node, params, inputs, label)
                finally:
                    self._inside.pop()
            else:
                hit = self._layer(node, params, inputs, outs, label)
            hit.label = label
            self._remember(key, hit)
        else:
            self._cache.move_to_end(key)
        if hit.result.message and hit.label != label:  # the same layer elsewhere: its message names this node
            return replace(hit.result, message=hit.result.message.replace(hit.label, label)), hit.values
        return hit.result, hit.values

    def _resolve(self, node: Node, scope: dict) -> dict:
        """Defaults + the node's params, with `$expressions` evaluated in the block scope."""
        if node.type == BLOCK_TYPE:  # computed values meet the limits typed ones do (repeat 1..1000)
            return check_block_params({k: _evaluated(v, scope) for k, v in node.params.items()}, node.name)
        spec = catalog.get(node.type)
        params = spec.with_defaults(node.params)
        for k, v in params.items():
            if is_expression(v):
                params[k] = check_value(spec.param(k), _evaluated(v, scope))
        return params

    # --- one layer -----------------------------------------------------------
    def _layer(self, node: Node, params: dict, inputs: list[torch.Tensor], outs, label: str) -> _Computed:
        spec = catalog.get(node.type)
        if node.role == "input":
            shape, dtype = tuple(params["shape"]), params["dtype"]
            if not inputs and math.prod(shape) > MAX_SAMPLE_VALUES:
                return _error(None, _too_big(label, "holds", shape))
            value = inputs[0] if inputs else torch.empty((BATCH, *shape), dtype=DTYPES[dtype], device="meta")
            return _ok([value], ["out"], params, {}, 0, 0, 0)
        if node.role == "output":
            problem = _check_classes(params["classes"], inputs[0], label)
            return _error(None, problem) if problem else _ok(inputs, ["out"], params, {}, 0, 0, 0)
        problem = _check_inputs(spec, inputs, label)
        if problem:
            return _error(*problem)
        shapes = [tuple(t.shape) for t in inputs]
        try:
            inferred = {p.name: p.infer(shapes) for p in spec.params if p.inferred}
        except IndexError:
            return _error(None, f"{label} cannot infer its sizes from an input of shape {_shapes(inputs)}")
        resolved = {**params, **inferred}
        long = spec.category == "Recurrent" and inputs[0].dim() > 1 and inputs[0].shape[1] > LONG_SEQUENCE
        try:
            result = (self._run_long if long else self._run)(spec, resolved, inputs, label)
        except _LayerFailed as e:
            return _error(None, str(e))
        values, n_params, trainable, flops = result
        big = next((v for v in values if math.prod(v.shape[1:]) > MAX_SAMPLE_VALUES), None)
        if big is not None:
            return _error(None, _too_big(label, "gives", tuple(big.shape[1:])))
        if len(values) != len(outs):
            return _error(None, f"{label} gives {len(values)} outputs, but has {len(outs)} ports "
                                f"(input {_shapes(inputs)}); check its sizes")
        return _ok(values, outs, resolved, inferred, n_params, trainable, flops)

    def _run(self, spec, resolved: dict, inputs: list[torch.Tensor], label: str):
        """Builds the layer on meta and calls it; (outputs, params, trainable, flops)."""
        before = self._counter.total
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
        flops = (self._counter.total - before) // BATCH
        return values, n_params, trainable, flops

    def _run_long(self, spec, resolved: dict, inputs: list[torch.Tensor], label: str):
        """`_run` for a recurrent layer over a long sequence, from runs over 2 and 3 steps.

        Its output sizes and FLOPs grow linearly with the number of steps, so two
        short runs give them exactly (10**6 steps took minutes and a gigabyte).
        """
        x, steps = inputs[0], inputs[0].shape[1]
        (short, n_params, trainable, f2), (longer, _, _, f3) = (
            self._run(spec, resolved, [x.new_empty((x.shape[0], k, *x.shape[2:]))], label) for k in (2, 3))
        values = [torch.empty([a + (b - a) * (steps - 2) for a, b in zip(s.shape, t.shape)], dtype=s.dtype,
                              device="meta") for s, t in zip(short, longer)]
        return values, n_params, trainable, f2 + (f3 - f2) * (steps - 2)

    # --- one block instance --------------------------------------------------
    def _block(self, node: Node, params: dict, inputs: list[torch.Tensor], label: str) -> _Computed:
        block = self.project.block(params["block"])
        repeat = params.get("repeat", 1)
        ins, outs = block.ports()
        if repeat > 1 and (len(ins) != 1 or len(outs) != 1):
            return _error(None, f"{label}: repeat needs a block with one input and one output "
                                f"('{block.name}' has {len(ins)} and {len(outs)})")
        scope = {**block.params, **{k: v for k, v in params.items() if k not in ("block", "repeat")}}
        reports, values = [], inputs
        for i in range(repeat):
            walk = self._walk(block.network, scope, dict(zip(ins, values)), f"{block.name}")
            report = Report(block.name, walk.results, walk.problems, warnings=unused_nodes(block.network, block.name))
            produced = walk.outputs
            reports.append(report)
            if report.problems:
                p = report.problems[0]
                step = f" (repetition {i + 1})" if repeat > 1 else ""
                failed = _error(p.port, f"{label}{step}, inside block '{block.name}': {p.message}")
                failed.result.inner = reports  # so the editor can show which inner node failed
                return failed
            missing = [o for o in outs if o not in produced]
            if missing:
                return _error(None, f"{label}: block '{block.name}' output '{missing[0]}' gets no value")
            values = [produced[o] for o in outs]
        result = _ok(values, outs, params, {}, sum(r.total_params for r in reports),
                     sum(r.trainable_params for r in reports), sum(r.flops for r in reports))
        result.result.inner = reports
        return result

    def _remember(self, key, computed: _Computed) -> None:
        self._cache[key] = computed
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


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


def network_scope(net: Network) -> dict:
    """The names a top-level network's layers may use: ``$classes``, from the first Output node that sets it."""
    for node in net.nodes.values():
        if node.role == "output" and node.params.get("classes") is not None:
            return {"classes": node.params["classes"]}
    return {}


def unused_nodes(net: Network, where: str) -> list[Problem]:
    """A warning for each layer whose output goes nowhere (Output nodes aside).

    A network with an unconnected input, or without an Output, already has
    an error that says what to wire; the loose ends are not reported again.
    """
    nodes = list(net.iter_nodes())
    if all(n.role != "output" for n in nodes) or any(_input_missing(net, n) for n in nodes):
        return []
    return [Problem(where, n.id, n.name, f"{n.type} '{n.name}' is unused: its output goes nowhere; "
                    f"connect it to the layers after it, or delete it", severity="warning")
            for n in nodes if n.role != "output" and not net.outgoing(n.id)]


def _input_missing(net: Network, node: Node) -> bool:
    """True when an input port that must be wired is not."""
    optional = () if node.type == BLOCK_TYPE else catalog.get(node.type).optional
    incoming = net.incoming(node.id)
    return any(p not in incoming and p not in optional for p in net.ports(node)[0])


def _feed(net: Network, shape: tuple[int, ...]) -> dict[str, torch.Tensor]:
    """The meta value of `net`'s one Input at `shape`, by the Input's name."""
    inputs = net.inputs()
    if len(inputs) != 1:
        raise ValueError(f"network '{net.name}' has {len(inputs)} Input nodes; a training size needs exactly one")
    dtype = DTYPES[inputs[0].params.get("dtype", "float")]
    return {inputs[0].name: torch.empty((BATCH, *shape), dtype=dtype, device="meta")}


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


def _ok(values, outs, resolved, inferred, n_params, trainable, flops) -> _Computed:
    return _Computed(values, NodeResult(
        outputs={p: tuple(v.shape[1:]) for p, v in zip(outs, values)},
        dtypes={p: "long" if v.dtype == torch.long else "float" for p, v in zip(outs, values)},
        resolved=resolved, inferred=inferred, params=n_params, trainable=trainable, flops=flops))


def _error(port, message) -> _Computed:
    return _Computed(None, NodeResult(status="error", message=message, port=port))


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


def _evaluated(value, scope: dict):
    """`value` with every `$expression` in it (or in its list items) evaluated."""
    if isinstance(value, list):
        return [_evaluated(v, scope) for v in value]
    return evaluate(value, scope) if is_expression(value) else value


def _freeze(params: dict) -> str:
    return json.dumps(params, sort_keys=True, default=str)


def format_shape(shape: tuple[int, ...]) -> str:
    """A shape as people write it: 6×28×28 (no batch)."""
    return "×".join(str(s) for s in shape) or "scalar"
