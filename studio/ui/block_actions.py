"""The main window's block actions: find a node, expand a block in place or collapse it back, ungroup, flat view.

`BlockCommands` (`MainWindow.blocks`) holds the actions' slots; the edits themselves are `ui/block_edits.py`'s
(`expand_block`, `collapse_block_back`, `ungroup_block`, each one undo step through the editor).

    Find Layer…                 Ctrl+F        popup over the canvas; Enter opens the blocks on the way
    Expand / Collapse Block     Ctrl+Shift+E  a Block node's layers in its place, or the block back
    Collapse Back into Block                  the expanded block the selected layer belongs to, back
    Ungroup Block               Ctrl+Shift+G  a Block node's layers in its place, for good
    Flat View                   Ctrl+Shift+V  the whole network with every block opened, read-only
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPoint, Slot

from studio.catalog import BLOCK_TYPE
from studio.errors import StudioError
from studio.ui import block_edits
from studio.ui.finder import NodeFinder
from studio.ui.flat_view import FlatView


class BlockCommands(QObject):
    """The block commands of `window` (its `editor`, `view`, `commands`, `status` and `act_` actions)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.finder: NodeFinder | None = None
        self.flat_view: FlatView | None = None

    def menu_actions(self, node_id: str) -> list:
        """The block actions that apply to the node `node_id` of the canvas's context menu."""
        node = self.window.editor.network.nodes.get(node_id)
        actions = []
        if node is not None and node.type == BLOCK_TYPE:
            self.window.act_expand.setText("E&xpand Block in Place")
            actions += [self.window.act_expand, self.window.act_ungroup]
        if block_edits.group_of(self.window.editor, node_id) is not None:
            actions.append(self.window.act_collapse_back)
        return actions

    def _block_node(self) -> str | None:
        """The selected Block node, or the selected layer of an expanded block."""
        ids = self.window.commands.selected()
        if len(ids) == 1:
            return ids[0]
        inside = [i for i in ids if block_edits.group_of(self.window.editor, i) is not None]
        return inside[0] if inside else None

    @Slot()
    def toggle_expanded(self) -> None:
        """Expands the selected Block node in place, or collapses the expanded block of the selection back."""
        nid = self._block_node() if self.window.editor else None
        if nid is None:
            self.window.status("select a block (or a layer of an expanded block) first")
        elif self.window.editor.network.nodes[nid].type == BLOCK_TYPE:
            block_edits.expand_block(self.window.editor, nid)
        else:
            block_edits.collapse_block_back(self.window.editor, nid)

    @Slot()
    def collapse_back_selected(self) -> None:
        """Puts back the expanded block that the selection belongs to."""
        nid = self._block_node() if self.window.editor else None
        if nid is not None:
            block_edits.collapse_block_back(self.window.editor, nid)

    @Slot()
    def ungroup_selected(self) -> None:
        """Replaces the selected Block node by its layers (undoable)."""
        nid = self._block_node() if self.window.editor else None
        if nid is None or self.window.editor.network.nodes[nid].type != BLOCK_TYPE:
            self.window.status("select a block to ungroup first")
            return
        block_edits.ungroup_block(self.window.editor, nid)

    @Slot()
    def open_finder(self) -> None:
        """Opens the find popup at the top of the canvas."""
        if self.window.view is None:
            return
        self.finder = NodeFinder(self.window.editor.project, self.window)
        self.finder.chosen.connect(self._found)
        vp = self.window.view.viewport()
        self.finder.popup(vp.mapToGlobal(QPoint(max(0, (vp.width() - self.finder.width()) // 2), 8)))

    def _found(self, found) -> None:
        if self.window.editor is None:
            return
        self.window.editor.show_levels(found.levels)
        self.window.commands.focus_node(found.node_id)
        self.window.view.setFocus()

    @Slot()
    def open_flat_view(self) -> None:
        """Opens a read-only window with the top network's every block opened."""
        if self.window.editor is None:
            return
        try:
            self.flat_view = FlatView(self.window.editor.project, self.window.editor.levels[0][1], self.window)
        except StudioError as e:
            self.window.status(f"flat view: {e}")
            return
        self.flat_view.show()
