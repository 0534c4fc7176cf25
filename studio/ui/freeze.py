"""Freezing layers from the editor: which nodes on show are frozen, and toggling them (undoable).

A frozen layer is a mark on its node kept by the project (`Project.set_frozen`,
by node id, so a rename keeps it); a toggle is one edit, so Ctrl+Z undoes it.
Only nodes of a top-level network can be frozen: freezing a Block node
freezes every layer inside it, and nodes inside a block definition are shared
by all its instances.
"""

from __future__ import annotations

from studio.graph import Network, Project


def frozen_ids(project: Project, net: Network) -> set[str]:
    """Ids of the frozen nodes of `net` (none for a block definition's network)."""
    return project.frozen_ids(net.name) if project.networks.get(net.name) is net else set()


def toggle(editor, node_ids: list[str]) -> str:
    """Freezes the given nodes of the network on show, or unfreezes them when all are frozen.

    Returns a line for the status bar.
    """
    if editor.in_block():
        return "layers inside a block definition cannot be frozen one by one: freeze the Block node instead"
    ids = [i for i in node_ids if i in editor.network.nodes]
    if not ids:
        return "select the layers to freeze first"
    freeze = not set(ids) <= frozen_ids(editor.project, editor.network)
    editor.set_frozen(ids, freeze)
    what = editor.network.nodes[ids[0]].name if len(ids) == 1 else f"{len(ids)} nodes"
    if not freeze:
        return f"unfroze {what}: training updates its weights again"
    return f"froze {what}: training leaves its weights alone"
