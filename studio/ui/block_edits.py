"""Blocks shown in place on the canvas: expanding a Block node into its layers and back, ungrouping.

Each function is one undoable edit through `Editor.edit` on the network the
editor shows, composed of the primitives in `studio.graph.inline`. Which
blocks are expanded is kept in the project's metadata
(`studio.graph.expanded_state`), written by the same edit, so undo forgets
an expansion with the layers it made and a reopened project shows them the
same way. The window's Expand / Collapse / Ungroup actions
(`ui/block_actions.py`) call these; the editor draws a frame around each
group (`NetworkScene.show_groups`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.graph.expanded_state import forget, level_key, remember, remembered
from studio.graph.inline import Expanded, collapse_back, expand, ungroup

if TYPE_CHECKING:
    from studio.ui.editor import Editor


def _level_key(editor: Editor) -> str:
    kind, name, _ = editor.levels[-1]
    return level_key(kind, name)


def expanded_groups(editor: Editor) -> list[Expanded]:
    """The blocks of the network on show that are expanded in place now (kept in the project's metadata,
    `studio.graph.expanded_state`; undo or later edits may have taken some back)."""
    net = editor.network
    return [g for g in remembered(editor.project, _level_key(editor)) if g.node.id not in net.nodes
            and all(i in net.nodes for i in g.node_ids)]


def group_of(editor: Editor, node_id: str) -> Expanded | None:
    """The expanded block that layer `node_id` belongs to, or None."""
    return next((g for g in expanded_groups(editor) if node_id in g.node_ids), None)


def expand_block(editor: Editor, node_id: str) -> list[str]:
    """Shows a Block node's layers in its place, wired to its neighbours (one undo step); selects them."""
    net, key, project = editor.network, _level_key(editor), editor.project
    name = net.nodes[node_id].name if node_id in net.nodes else node_id

    def action():
        group = expand(project, net, node_id)
        remember(project, key, net, group)  # in the same step: undo forgets it too
        return group
    group = editor.edit(f"expand block {name}", action).result
    if group is None:
        return []
    editor.scene.select_nodes(group.node_ids)
    return list(group.node_ids)


def collapse_block_back(editor: Editor, node_id: str) -> str | None:
    """Puts back the Block node whose expanded layers include `node_id` (one undo step)."""
    group = group_of(editor, node_id)
    if group is None:
        editor.message.emit("that layer is not part of an expanded block")
        return None
    net, key, project = editor.network, _level_key(editor), editor.project

    def action():
        block_id = collapse_back(net, group)
        forget(project, key, group)
        return block_id
    nid = editor.edit(f"collapse block {group.node.name} back", action).result
    if nid:
        editor.scene.select_nodes([nid])
    return nid


def ungroup_block(editor: Editor, node_id: str) -> list[str]:
    """Replaces a Block node by its layers for good (one undo step); selects them."""
    net, project = editor.network, editor.project
    name = net.nodes[node_id].name if node_id in net.nodes else node_id
    ids = editor.edit(f"ungroup block {name}", lambda: ungroup(project, net, node_id)).result or []
    editor.scene.select_nodes(ids)
    return ids
