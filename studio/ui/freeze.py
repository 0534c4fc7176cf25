"""Freezing layers from the editor: which nodes on show are frozen, and toggling them (undoable).

The frozen list is ``project.training["frozen"]`` (see `studio.compile.freeze`):
node names, or ``network/node`` for one network only. The editor writes a
plain name when the project has one network and ``network/node`` when it has
several (freezing the generator's ``fc1`` must not freeze the
discriminator's). A toggle is one `SettingsCommand`, so Ctrl+Z undoes it.

Only nodes of a top-level network can be frozen: freezing a Block node
freezes every layer inside it, and nodes inside a block definition are shared
by all its instances. `frozen_ids` never raises: an entry naming no node (a
frozen node renamed or deleted since) is skipped for display and reported by
`dangling_entries`.
"""

from __future__ import annotations

from studio.compile.freeze import FROZEN_KEY
from studio.graph import Network, Project
from studio.ui.project_settings import change_training


def entries(project: Project) -> list[str]:
    """The frozen list as stored (an empty list when unset or malformed)."""
    value = project.training.get(FROZEN_KEY) or []
    return [e for e in value if isinstance(e, str)] if isinstance(value, list) else []


def _matches(entry: str, net: Network, name: str) -> bool:
    where, _, node = entry.rpartition("/")
    return node == name and where in ("", net.name)


def frozen_ids(project: Project, net: Network) -> set[str]:
    """Ids of the nodes of `net` (a top-level network) that the frozen list names."""
    if project.networks.get(net.name) is not net:
        return set()
    listed = entries(project)
    return {n.id for n in net.nodes.values() if any(_matches(e, net, n.name) for e in listed)}


def dangling_entries(project: Project) -> list[str]:
    """Entries that name no node of any network (training would refuse them)."""
    out = []
    for e in entries(project):
        where, _, node = e.rpartition("/")
        nets = [project.networks[where]] if where in project.networks else ([] if where else project.networks.values())
        if not any(node == n.name for net in nets for n in net.nodes.values()):
            out.append(e)
    return out


def toggle(editor, node_ids: list[str]) -> str:
    """Freezes the given nodes of the network on show, or unfreezes them when all are frozen.

    Returns a line for the status bar.
    """
    project, net = editor.project, editor.network
    if editor.in_block():
        return "layers inside a block definition cannot be frozen one by one: freeze the Block node instead"
    nodes = [net.nodes[i] for i in node_ids if i in net.nodes]
    if not nodes:
        return "select the layers to freeze first"
    frozen = frozen_ids(project, net)
    listed = entries(project)
    if all(n.id in frozen for n in nodes):
        names = {n.name for n in nodes}
        kept = [e for e in listed if not any(_matches(e, net, name) for name in names)]
        verb = "unfreeze"
    else:
        several = len(project.networks) > 1
        kept = list(listed)
        for n in nodes:
            if n.id not in frozen:
                kept.append(f"{net.name}/{n.name}" if several else n.name)
        verb = "freeze"
    what = nodes[0].name if len(nodes) == 1 else f"{len(nodes)} nodes"
    change_training(editor, f"{verb} {what}", {FROZEN_KEY: kept or None})
    if verb == "unfreeze":
        return f"unfroze {what}: training updates its weights again"
    return f"froze {what}: training leaves its weights alone"
