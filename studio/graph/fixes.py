"""One-click fixes for the shape mistakes people make most, as a table of rules.

`RULES` maps a kind of problem to how to recognise it (a `match` function
reading the network and its analysis report, never the message's wording
alone) and what to offer: each offer is a description and an edit made of
network primitives, so the editor applies it as one undo step
(docs/architecture.md, "Where to add things"). `fixes_for` turns one
`Problem` into the `Fix`es that apply to it.

| kind | mistake | offers |
|---|---|---|
| flatten | a Linear gets a C×H×W image (no Flatten after the convolutions) | insert Flatten, or GlobalAvgPool, before it |
| classes | an Output set to N classes gets another width | set the last layer's width to $classes, or the Output's count to that width |
| channels | a merge (Add, Multiply...) gets inputs whose channel counts differ | set one branch's convolution to the other's channels |
| sequence | a sequence layer (LSTM, GRU, attention) gets an image or a vector | insert a Reshape to (steps, features) |
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Callable

from studio import catalog
from studio.catalog import BLOCK_TYPE
from studio.graph.analysis import Problem, Report, format_shape
from studio.graph.network import Edge, Network
from studio.graph.project import Project
from studio.graph.wiring import insert_on_wire


@dataclass(frozen=True)
class Fix:
    """One offer: `text` says what it does ("insert Flatten before 'fc1'"); `apply()` makes the edit."""

    kind: str
    text: str
    apply: Callable[[], object]


@dataclass(frozen=True)
class _Where:
    """What a rule matched: the network, the node to change or the wire to splice into, and sizes."""

    net: Network
    node: str
    edge: Edge | None = None
    value: object = None
    other: object = None


def _spec(net: Network, node_id: str):
    node = net.node(node_id)
    return None if node.type == BLOCK_TYPE else catalog.get(node.type)


def _in_shape(net: Network, report: Report, edge: Edge | None):
    res = report.nodes.get(edge.src) if edge is not None else None
    return res.outputs.get(edge.src_port) if res is not None and res.status == "ok" else None


def _back_to(net: Network, node_id: str, params: tuple[str, ...]) -> str | None:
    """The nearest node at or above `node_id` (through single-input layers) whose type has one of `params`."""
    seen = set()
    while node_id not in seen:
        seen.add(node_id)
        spec = _spec(net, node_id)
        if spec is not None and any(p.name in params and not p.inferred for p in spec.params):
            return node_id
        incoming = list(net.incoming(node_id).values())
        if len(incoming) != 1:
            return None
        node_id = incoming[0].src
    return None


# --- matchers: (project, network, report, problem) -> _Where | None ------------------------------------
def _match_flatten(project: Project, net: Network, report: Report, p: Problem) -> _Where | None:
    if net.node(p.node_id).role != "output":
        return None
    for node in net.iter_nodes():
        edge = net.incoming(node.id).get("in")
        shape = _in_shape(net, report, edge)
        if node.type == "Linear" and shape and len(shape) >= 2 and net.reaches(node.id, p.node_id) \
                and (len(shape) >= 3 or "1-D" in p.message):
            return _Where(net, node.id, edge, shape)
    return None


def _match_classes(project: Project, net: Network, report: Report, p: Problem) -> _Where | None:
    node = net.node(p.node_id)
    classes = node.params.get("classes")
    shape = _in_shape(net, report, net.incoming(node.id).get("in"))
    if node.role != "output" or classes is None or not shape or shape[-1] == classes or len(shape) > 2:
        return None
    last = _back_to(net, node.id, ("out_features",))
    top = project.networks.get(net.name) is net  # only a top-level network defines $classes
    return _Where(net, last, value="$classes" if top else classes, other=(node.id, shape[-1])) if last else None


def _match_channels(project: Project, net: Network, report: Report, p: Problem) -> _Where | None:
    spec = _spec(net, p.node_id)
    if spec is None or spec.category != "Merge":
        return None
    edges = [e for _, e in sorted(net.incoming(p.node_id).items())]
    shapes = [_in_shape(net, report, e) for e in edges]
    if len(edges) != 2 or None in shapes or len(shapes[0]) != len(shapes[1]) or len(shapes[0]) < 2 \
            or shapes[0][0] == shapes[1][0] or shapes[0][1:] != shapes[1][1:]:
        return None
    for i in (1, 0):  # change the second branch when it has a convolution, else the first
        conv = _back_to(net, edges[i].src, ("out_channels",))
        if conv is not None and not net.reaches(conv, edges[1 - i].src):
            return _Where(net, conv, value=shapes[1 - i][0])
    return None


def _match_sequence(project: Project, net: Network, report: Report, p: Problem) -> _Where | None:
    spec = _spec(net, p.node_id)
    if spec is None or spec.rank != 3 or p.port is None:
        return None
    edge = net.incoming(p.node_id).get(p.port)
    shape = _in_shape(net, report, edge)
    if not shape or len(shape) == 2:
        return None
    steps = [1, shape[0]] if len(shape) == 1 else [math.prod(shape[:-1]), shape[-1]]
    return _Where(net, p.node_id, edge, steps)


# --- edits ------------------------------------------------------------------------------------------------
def _insert(type_name: str):
    return lambda w: insert_on_wire(w.net, w.edge, type_name)


def _set(param: str):
    return lambda w: w.net.set_params(w.node, {param: w.value})


def _name(w: _Where) -> str:
    return w.net.node(w.node).name


RULES = {
    "flatten": (_match_flatten, (
        (lambda w: f"insert Flatten before '{_name(w)}' (it gets {format_shape(w.value)})", _insert("Flatten")),
        (lambda w: f"insert GlobalAvgPool before '{_name(w)}' (averages each channel)", _insert("GlobalAvgPool")),
    )),
    "classes": (_match_classes, (
        (lambda w: f"set '{_name(w)}' to {w.value} outputs", _set("out_features")),
        (lambda w: f"set '{w.net.node(w.other[0]).name}' to {w.other[1]} classes",
         lambda w: w.net.set_params(w.other[0], {"classes": w.other[1]})),
    )),
    "channels": (_match_channels, (
        (lambda w: f"set '{_name(w)}' to {w.value} output channels", _set("out_channels")),
    )),
    "sequence": (_match_sequence, (
        (lambda w: f"insert Reshape to {format_shape(tuple(w.value))} (steps × features) before '{_name(w)}'",
         lambda w: insert_on_wire(w.net, w.edge, "Reshape", {"shape": list(w.value)})),
    )),
}


def fixes_for(project: Project, net: Network, report: Report | None, problem: Problem) -> list[Fix]:
    """The fixes `RULES` offer for `problem` of network `net` (analysed as `report`); empty when none applies."""
    if report is None or problem.node_id is None or problem.node_id not in net.nodes:
        return []
    found = []
    for kind, (match, offers) in RULES.items():
        where = match(project, net, report, problem)
        if where is not None:
            found += [Fix(kind, text(where), partial(edit, where)) for text, edit in offers]
    return found
