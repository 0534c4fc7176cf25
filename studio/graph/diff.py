"""What differs between two versions of a project's architecture: `diff_projects(old, new)`.

Each network and each block definition is compared with its namesake. Nodes
are matched by id (a project keeps its ids as it is edited, and a run's copy
keeps them too), then the rest by name: a node deleted and re-added under the
same name reads as changed, not as removed and added. A matched node is
*changed* when its type, name or parameters differ (each parameter with its
old → new value); unmatched nodes are *added* (in ``new`` only) or *removed*
(in ``old`` only). Wires are compared through the node matching and named
``src.port -> dst.port`` by node names. A network or block present on one side
only is reported whole: every node added or removed.

Everything here is plain data (`GraphDiff.to_dict` is JSON-native), shared by
``studio diff`` and the GUI's run comparison.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from studio.graph.network import Network, Node
from studio.graph.project import Project

_MISSING = object()


@dataclass(frozen=True)
class NodeChange:
    """A node present in both versions whose type, name or parameters differ.

    Attributes:
        id: its id in the new version.
        name: its name in the new version (``old_name`` in the old one).
        type: its type in the new version (``old_type`` in the old one).
        params: parameter -> [old, new]; None stands for "not set".
    """

    id: str
    name: str
    type: str
    old_name: str
    old_type: str
    params: dict[str, list[Any]]


@dataclass(frozen=True)
class NodeInfo:
    """A node added or removed: id, name, type, parameters and canvas position."""

    id: str
    name: str
    type: str
    params: dict[str, Any]
    pos: tuple[float, float]


@dataclass
class GraphDiff:
    """The differences in one network or block definition (``kind`` "network" or "block")."""

    kind: str
    name: str
    added: list[NodeInfo] = field(default_factory=list)
    removed: list[NodeInfo] = field(default_factory=list)
    changed: list[NodeChange] = field(default_factory=list)
    wires_added: list[str] = field(default_factory=list)
    wires_removed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Whether nothing differs."""
        return not (self.added or self.removed or self.changed or self.wires_added or self.wires_removed)

    def to_dict(self) -> dict[str, Any]:
        """JSON-native: ``{"kind", "name", "added", "removed", "changed", "wires_added", "wires_removed"}``."""
        return asdict(self)


def diff_projects(old: Project, new: Project) -> list[GraphDiff]:
    """The differences between two projects' networks and blocks; only those that differ, networks first."""
    diffs = [_diff_named("network", name, old.networks.get(name), new.networks.get(name))
             for name in _union(old.networks, new.networks)]
    old_blocks = {n: b.network for n, b in old.blocks.items()}
    new_blocks = {n: b.network for n, b in new.blocks.items()}
    diffs += [_diff_named("block", name, old_blocks.get(name), new_blocks.get(name))
              for name in _union(old_blocks, new_blocks)]
    return [d for d in diffs if not d.empty]


def _union(a: dict, b: dict) -> list[str]:
    return list(a) + [k for k in b if k not in a]


def _diff_named(kind: str, name: str, old: Network | None, new: Network | None) -> GraphDiff:
    return diff_networks(old or Network(name), new or Network(name), kind, name)


def diff_networks(old: Network, new: Network, kind: str = "network", name: str | None = None) -> GraphDiff:
    """The differences between two versions of one network."""
    diff = GraphDiff(kind, name or new.name)
    pairs = match_nodes(old, new)  # new id -> old id
    matched_old = set(pairs.values())
    diff.added = [_info(n) for nid, n in new.nodes.items() if nid not in pairs]
    diff.removed = [_info(n) for nid, n in old.nodes.items() if nid not in matched_old]
    for new_id, old_id in pairs.items():
        change = _node_change(old.nodes[old_id], new.nodes[new_id])
        if change is not None:
            diff.changed.append(change)
    to_old = {new_id: old_id for new_id, old_id in pairs.items()}
    old_wires = {(e.src, e.src_port, e.dst, e.dst_port) for e in old.edges}
    new_wires = {(to_old.get(e.src, "+" + e.src), e.src_port, to_old.get(e.dst, "+" + e.dst), e.dst_port): e
                 for e in new.edges}
    diff.wires_added = sorted(_wire(new, (e.src, e.src_port, e.dst, e.dst_port))
                              for key, e in new_wires.items() if key not in old_wires)
    diff.wires_removed = sorted(_wire(old, w) for w in old_wires if w not in new_wires)
    return diff


def match_nodes(old: Network, new: Network) -> dict[str, str]:
    """New node id -> old node id: the same id first, then the same name among the rest."""
    pairs = {nid: nid for nid in new.nodes if nid in old.nodes}
    left_old = {n.name: nid for nid, n in old.nodes.items() if nid not in pairs}
    for nid, node in new.nodes.items():
        if nid not in pairs and node.name in left_old:
            pairs[nid] = left_old.pop(node.name)
    return pairs


def _node_change(old: Node, new: Node) -> NodeChange | None:
    params = {}
    for key in _union(old.params, new.params):
        a, b = old.params.get(key, _MISSING), new.params.get(key, _MISSING)
        if a != b:
            params[key] = [None if a is _MISSING else a, None if b is _MISSING else b]
    if not params and old.type == new.type and old.name == new.name:
        return None
    return NodeChange(new.id, new.name, new.type, old.name, old.type, params)


def _info(node: Node) -> NodeInfo:
    return NodeInfo(node.id, node.name, node.type, dict(node.params), tuple(node.pos))


def _wire(net: Network, wire: tuple[str, str, str, str]) -> str:
    src, src_port, dst, dst_port = wire
    return f"{net.nodes[src].name}.{src_port} -> {net.nodes[dst].name}.{dst_port}"


def describe(diff: GraphDiff) -> list[str]:
    """One line per difference: ``+ added fc4 (Linear) out_features=10``, ``~ changed fc1 (Linear): out_features 120 → 64``."""
    lines = [f"+ added {n.name} ({n.type}){_params_text(n.params)}" for n in diff.added]
    lines += [f"- removed {n.name} ({n.type})" for n in diff.removed]
    lines += [f"~ changed {change_text(c)}" for c in diff.changed]
    lines += [f"+ wire {w}" for w in diff.wires_added]
    lines += [f"- wire {w}" for w in diff.wires_removed]
    return lines


def change_text(change: NodeChange) -> str:
    """``fc1 (Linear): out_features 120 → 64``, with a rename and a new type when there are."""
    parts = []
    if change.old_name != change.name:
        parts.append(f"renamed from {change.old_name}")
    if change.old_type != change.type:
        parts.append(f"type {change.old_type} → {change.type}")
    parts += [f"{key} {_value(a)} → {_value(b)}" for key, (a, b) in change.params.items()]
    return f"{change.name} ({change.type}): " + ", ".join(parts)


def _params_text(params: dict[str, Any]) -> str:
    return " " + " ".join(f"{k}={_value(v)}" for k, v in params.items()) if params else ""


def _value(value: Any) -> str:
    return "(unset)" if value is None else str(value) if not isinstance(value, str) else value
