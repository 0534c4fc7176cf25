"""Merging equal block definitions made by the importer (`studio.export.import_blocks`).

Definitions with the same nodes and wiring (`_structure`) are merged into
one; numbers that differ between them (channels, strides) become the
definition's ``$`` parameters, set by each instance. The one kept, whose
values become the defaults, is the one first in the module (by path), so
that the same model written another way (the generated code) gives the same
definition.
"""

from __future__ import annotations

from typing import Any

from studio import catalog
from studio.catalog import BLOCK_TYPE
from studio.export.import_block_names import natural
from studio.graph.network import Network
from studio.graph.project import Project


def merge_equal(h, names: list[str]) -> None:
    """Merges the definitions among `names` that have the same structure (`h`: the Hierarchy)."""
    groups: dict[Any, list[str]] = {}
    for name in names:
        groups.setdefault(_structure(h.project.block(name).network), []).append(name)
    for names in groups.values():
        if len(names) > 1:
            _merge_group(h, names)


def _merge_group(h, names: list[str]) -> None:
    """One definition for several of equal structure; numbers that differ become its $ parameters."""
    names = sorted(names, key=lambda n: natural(h.made[n].path))
    keep = h.project.block(names[0])
    nets = [h.project.block(n).network for n in names]
    varying = _varying(nets)
    keys: dict[tuple[str, str], str] = {}
    by_values: dict[tuple, str] = {}  # values that always go together share one parameter
    defaults: dict[str, Any] = {}
    for (node_name, param), values in varying.items():
        key = by_values.get(tuple(values))
        if key is None:
            key = by_values[tuple(values)] = _parameter_name(node_name, param, defaults)
            defaults[key] = values[0]
        keys[(node_name, param)] = key
        keep.network.set_params(keep.network.by_name(node_name).id, {param: f"${key}"})
    h.project.set_block_params(keep.name, defaults)
    for i, name in enumerate(names):
        args = {key: varying[where][i] for where, key in keys.items()}
        for net, nid in _instances(h.project, name):
            net.set_params(nid, {"block": keep.name, **args})
        if i:
            _rehome(h, name, keep.name, nets[i], keep.network)
            h.project.remove_block(name)


def _instances(project: Project, block: str) -> list[tuple[Network, str]]:
    return [(net, n.id) for net in project.all_networks() for n in net.nodes.values()
            if n.type == BLOCK_TYPE and n.params.get("block") == block]


def _rehome(h, old: str, new: str, old_net: Network, new_net: Network) -> None:
    """The flat nodes located in definition `old` now in `new` (the node of the same name)."""
    ids = {n.id: new_net.by_name(n.name).id for n in old_net.nodes.values()}
    for chain in h.where.values():
        for step in chain:
            if step[0] == old:
                step[0], step[1] = new, ids[step[1]]


def _structure(net: Network) -> Any:
    """What two definitions must share to merge: node names, types and non-numeric settings, and wiring."""
    nodes = []
    for node in sorted(net.nodes.values(), key=lambda n: n.name):
        params = _resolved(node)
        fixed = tuple(sorted((k, repr(v)) for k, v in params.items() if not _numeric(v)))
        numeric = tuple(sorted(k for k, v in params.items() if _numeric(v)))
        nodes.append((node.name, node.type, fixed, numeric))
    name = {n.id: n.name for n in net.nodes.values()}
    edges = tuple(sorted((name[e.src], e.src_port, name[e.dst], e.dst_port) for e in net.edges))
    return tuple(nodes), edges


def _resolved(node) -> dict:
    """A node's settings with the defaults filled in (an Input's shape left out: it only describes)."""
    if node.role == "input":
        return {}
    if node.type == BLOCK_TYPE:
        return dict(node.params)
    return catalog.get(node.type).with_defaults(node.params)


def _numeric(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _varying(nets: list[Network]) -> dict[tuple[str, str], list]:
    """(node name, parameter) -> its values in each definition, for the numbers that differ."""
    out = {}
    for node in nets[0].nodes.values():
        for param, value in _resolved(node).items():
            values = [_resolved(net.by_name(node.name))[param] for net in nets]
            if _numeric(value) and any(v != value for v in values):
                out[(node.name, param)] = values
    return out


def _parameter_name(node: str, param: str, taken: dict) -> str:
    name = param if param not in taken and param not in ("block", "repeat") else f"{node}_{param}"
    base, i = name, 2
    while name in taken:
        name, i = f"{base}{i}", i + 1
    return name
