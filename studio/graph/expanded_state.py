"""Blocks expanded in place, kept in the project so that reopening it shows them the same way.

Expanding a Block node in place (`studio.graph.inline.expand`) replaces it by
its layers, which the file keeps like any others; what lets the editor frame
them and put the block back (`collapse_back`) is the `Expanded` record. It
lives in the project's metadata under ``"expanded"``: ``{level: [record, ...]}``
where a level is ``"net:NAME"`` for a top-level network or ``"block:NAME"`` for
a block's definition. The editor writes it inside the same edit that expands
or collapses, so undo takes both back together; a file without it opens with
no block expanded, and a record whose layers are gone is dropped the next
time that level's records are written (docs/architecture.md, "Blocks").
"""

from __future__ import annotations

from studio.graph.inline import Expanded
from studio.graph.network import Network, Node
from studio.graph.project import Project

EXPANDED_KEY = "expanded"


def level_key(kind: str, name: str) -> str:
    """The metadata key of a level: kind "net" (a top-level network) or "block" (a block's definition)."""
    return f"{kind}:{name}"


def to_record(group: Expanded) -> dict:
    """An `Expanded` as JSON-native data."""
    n = group.node
    return {"node": {"id": n.id, "type": n.type, "name": n.name, "params": n.params, "pos": list(n.pos)},
            "layers": list(group.node_ids),
            "entries": [[nid, port, name] for (nid, port), name in group.entries.items()],
            "exits": [[nid, port, name] for (nid, port), name in group.exits.items()],
            "fingerprint": group.fingerprint}


def from_record(record) -> Expanded | None:
    """The `Expanded` a record holds, or None when it is not one (a hand-edited or damaged file)."""
    try:
        n = record["node"]
        node = Node(str(n["id"]), str(n["type"]), str(n["name"]), dict(n["params"]), tuple(map(float, n["pos"])))
        return Expanded(node, tuple(map(str, record["layers"])),
                        {(str(i), str(p)): str(name) for i, p, name in record["entries"]},
                        {(str(i), str(p)): str(name) for i, p, name in record["exits"]},
                        str(record["fingerprint"]))
    except (KeyError, TypeError, ValueError):
        return None


def remembered(project: Project, key: str) -> list[Expanded]:
    """The blocks recorded as expanded at level `key` (whether or not their layers are still there)."""
    levels = project.metadata.get(EXPANDED_KEY)
    records = levels.get(key) if isinstance(levels, dict) else None
    groups = [from_record(r) for r in records] if isinstance(records, list) else []
    return [g for g in groups if g is not None]


def remember(project: Project, key: str, network: Network, group: Expanded) -> None:
    """Records `group` as expanded in `network` (level `key`), dropping records whose layers are gone."""
    live = [g for g in remembered(project, key) if all(i in network.nodes for i in g.node_ids)]
    _write(project, key, live + [group])


def forget(project: Project, key: str, group: Expanded) -> None:
    """Drops the record of `group` (its block is back)."""
    _write(project, key, [g for g in remembered(project, key) if g.node.id != group.node.id])


def _write(project: Project, key: str, groups: list[Expanded]) -> None:
    levels = project.metadata.get(EXPANDED_KEY)
    levels = dict(levels) if isinstance(levels, dict) else {}
    if groups:
        levels[key] = [to_record(g) for g in groups]
    else:
        levels.pop(key, None)
    project.set_setting("metadata", EXPANDED_KEY, levels or None)
