"""Validation and shape inference: every node's output shapes, parameters, FLOPs and problems.

`Analyzer` walks a network in topological order; each layer is run on the
``meta`` device by `layer_run.run_layer` (shapes are torch's own, FLOPs come
from the formulas of `torch.utils.flop_counter`, see `flops`), and a block
instance by walking its network again. What it finds goes into the `report`
types. A failure is caught per node and becomes a `Problem` that names the
network, the node, the port and the shapes; nodes below a failed node are
marked "blocked" and add no problems of their own.

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
from studio.graph.layer_run import BATCH, DTYPES, Computed, error, ok, run_layer
from studio.graph.network import Network, Node, check_block_params
from studio.graph.project import Project
from studio.graph.report import NodeResult, Problem, Report, format_shape, unused_nodes

__all__ = ["Analyzer", "NodeResult", "Problem", "Report", "format_shape", "network_scope", "unused_nodes"]


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
        self._cache: OrderedDict[Any, Computed] = OrderedDict()
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
                hit = run_layer(node, params, inputs, outs, label, self._counter)
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

    # --- one block instance --------------------------------------------------
    def _block(self, node: Node, params: dict, inputs: list[torch.Tensor], label: str) -> Computed:
        block = self.project.block(params["block"])
        repeat = params.get("repeat", 1)
        ins, outs = block.ports()
        if repeat > 1 and (len(ins) != 1 or len(outs) != 1):
            return error(None, f"{label}: repeat needs a block with one input and one output "
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
                failed = error(p.port, f"{label}{step}, inside block '{block.name}': {p.message}")
                failed.result.inner = reports  # so the editor can show which inner node failed
                return failed
            missing = [o for o in outs if o not in produced]
            if missing:
                return error(None, f"{label}: block '{block.name}' output '{missing[0]}' gets no value")
            values = [produced[o] for o in outs]
        result = ok(values, outs, params, {}, sum(r.total_params for r in reports),
                    sum(r.trainable_params for r in reports), sum(r.flops for r in reports))
        result.result.inner = reports
        return result

    def _remember(self, key, computed: Computed) -> None:
        self._cache[key] = computed
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


def network_scope(net: Network) -> dict:
    """The names a top-level network's layers may use: ``$classes``, from the first Output node that sets it."""
    for node in net.nodes.values():
        if node.role == "output" and node.params.get("classes") is not None:
            return {"classes": node.params["classes"]}
    return {}


def _feed(net: Network, shape: tuple[int, ...]) -> dict[str, torch.Tensor]:
    """The meta value of `net`'s one Input at `shape`, by the Input's name."""
    inputs = net.inputs()
    if len(inputs) != 1:
        raise ValueError(f"network '{net.name}' has {len(inputs)} Input nodes; a training size needs exactly one")
    dtype = DTYPES[inputs[0].params.get("dtype", "float")]
    return {inputs[0].name: torch.empty((BATCH, *shape), dtype=dtype, device="meta")}


def _evaluated(value, scope: dict):
    """`value` with every `$expression` in it (or in its list items) evaluated."""
    if isinstance(value, list):
        return [_evaluated(v, scope) for v in value]
    return evaluate(value, scope) if is_expression(value) else value


def _freeze(params: dict) -> str:
    return json.dumps(params, sort_keys=True, default=str)

