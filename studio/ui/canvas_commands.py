"""The Edit and View menus' commands on the open project's canvas (`MainWindow.commands`).

Each command works on the window's `editor` and `view` (both None while no
project is open, when every command does nothing) and reports through the
window's status bar (`MainWindow.status`). Kept apart from `main_window`
so that module is about the window: its docks, menus and open project.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, Slot
from PySide6.QtWidgets import QApplication

from studio.ui import clipboard, dialogs
from studio.ui.node_item import READABLE_ZOOM
from studio.ui.quick_add import QuickAdd


class CanvasCommands(QObject):
    """Copy, paste, delete, layout, zoom and quick-add for `window` (see the module docstring)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.quick_add: QuickAdd | None = None  # the last quick-add popup

    @property
    def editor(self):
        return self.window.editor

    @property
    def view(self):
        return self.window.view

    def selected(self) -> list[str]:
        """The ids of the selected nodes (none without a project)."""
        return self.editor.scene.selected_node_ids() if self.editor else []

    # --- clipboard and selection -------------------------------------------------------------
    @Slot()
    def copy(self) -> None:
        """Copies the selected nodes and the wires between them."""
        ids = self.selected()
        if ids:
            QApplication.clipboard().setMimeData(clipboard.to_mime(clipboard.copy_data(self.editor.network, ids)))

    @Slot()
    def cut(self) -> None:
        """Copies, then deletes the selection."""
        self.copy()
        if self.selected():
            self.editor.delete_selection()

    @Slot()
    def paste(self) -> None:
        """Pastes nodes from the clipboard."""
        if self.editor is None:
            return
        data = clipboard.from_mime(QApplication.clipboard().mimeData())
        if data is None:
            self.window.status("the clipboard holds no layers")
            return
        self.editor.paste(data)

    @Slot()
    def duplicate(self) -> None:
        """Duplicates the selection."""
        if self.editor:
            self.editor.duplicate()

    @Slot()
    def delete(self) -> None:
        """Deletes the selection."""
        if self.editor:
            self.editor.delete_selection()

    @Slot()
    def select_all(self) -> None:
        """Selects every node."""
        if self.editor:
            self.editor.scene.select_nodes(self.editor.network.nodes)

    @Slot()
    def rename_selected(self) -> None:
        """Renames the selected node in place."""
        if self.view:
            self.view.start_rename()

    @Slot()
    def collapse(self) -> None:
        """Asks a name and collapses the selection into a new block."""
        if not self.editor or not self.selected():
            self.window.status("select the nodes to put into a block first")
            return
        taken = set(self.editor.project.blocks)
        i = 1
        while f"block{i}" in taken:
            i += 1
        name = dialogs.ask_text(self.window, "Collapse into block", "Block name:", f"block{i}")
        if name:
            self.editor.collapse(name)

    def focus_node(self, node_id: str) -> None:
        """Selects a node of the network on show and centres the canvas on it."""
        item = self.editor.scene.nodes.get(node_id) if self.editor else None
        if item is None:
            return
        self.editor.scene.select_nodes([node_id])
        self.view.centerOn(item)

    # --- view and layout ------------------------------------------------------------------------
    @Slot()
    def fit_all(self) -> None:
        """Shows every node."""
        if self.view:
            self.view.fit_all()

    def zoom_by(self, factor: float) -> None:
        """Zooms the canvas in (factor > 1) or out."""
        if self.view:
            self.view.zoom_by(factor)

    @Slot()
    def first_view(self) -> None:
        """A just-opened project: every node at a readable zoom, and the keys go to the canvas."""
        if self.view:
            self.view.fit_all(min_zoom=READABLE_ZOOM)
            self.view.setFocus()  # shortcuts work at once, without a click on the canvas

    @Slot()
    def auto_layout(self, direction: str | None = None) -> None:
        """Lays the network out in layers and shows it at a readable zoom (undo restores positions and zoom)."""
        if self.editor:
            stack, before = self.editor.undo_stack, self.view.view_state()
            index = stack.index()
            self.editor.auto_layout(direction)
            if stack.index() == index + 1:
                self.view.fit_all(min_zoom=READABLE_ZOOM)
                self.view.keep_view_with(stack, index, before)

    @Slot(bool)
    def flow_right(self, right: bool) -> None:
        """Lays the network out again, left to right (or top to bottom)."""
        self.auto_layout("right" if right else "down")

    @Slot()
    def align_to_grid(self) -> None:
        """Snaps nodes to the grid (undoable)."""
        if self.editor:
            self.editor.align_to_grid()

    # --- adding layers --------------------------------------------------------------------------
    @Slot()
    def open_quick_add(self) -> None:
        """Opens the quick-add popup at the canvas centre."""
        if self.view:
            centre = self.view.viewport().rect().center()
            self.quick_add_at(self.view.mapToScene(centre), self.view.viewport().mapToGlobal(centre))

    def quick_add_at(self, scene_pos: QPointF, global_pos) -> None:
        """Opens the quick-add popup at `global_pos`; the chosen layer lands at `scene_pos`."""
        # Quick-add over a wire, or with exactly one wire selected, splices the layer into that wire.
        selected = self.editor.scene.selected_edges()
        on_wire = self.editor.wire_at(scene_pos) or (selected[0] if len(selected) == 1 else None)
        self.quick_add = QuickAdd(list(self.editor.project.blocks), self.window)
        self.quick_add.chosen.connect(lambda what: self.add(what, scene_pos, on_wire))
        self.quick_add.popup(global_pos)

    def add(self, what: str, pos: QPointF, on_wire=None) -> None:
        """Adds a layer type, or "Block:name", at `pos` (spliced into `on_wire` if given)."""
        if what.startswith("Block:"):
            self.editor.add_block_node(what[6:], (pos.x(), pos.y()), on_wire)
        else:
            self.editor.add_node(what, pos, on_wire)

    @Slot(str)
    def add_at_centre(self, what: str) -> None:
        """Adds a layer from the palette at the canvas centre."""
        if self.view:
            self.add(what, self.view.mapToScene(self.view.viewport().rect().center()))
