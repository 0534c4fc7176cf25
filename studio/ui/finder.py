"""Find a node (Ctrl+F): a small popup that searches every network and block of the project by name.

Typing lists the matches (`studio.graph.inline.find_nodes`: exact names
first, then names starting with the text, then the rest), each with its type
and the way down to it ("main › inception_a"); Up/Down move, Enter (or a
click) sends `chosen(Found)` and closes, Escape closes. The main window then
opens the blocks on the way and centres the node.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidgetItem

from studio.graph import Project
from studio.graph.inline import find_nodes
from studio.ui.quick_add import SearchPopup

ROLE = Qt.ItemDataRole.UserRole


class NodeFinder(SearchPopup):
    """The popup. Signal: chosen(Found)."""

    chosen = Signal(object)

    def __init__(self, project: Project, parent=None):
        super().__init__("Find a layer by name, in every block…", parent)
        self.project = project
        self.edit.setClearButtonEnabled(True)
        self.note = QLabel()
        self.note.setEnabled(False)  # drawn in the muted text colour
        self._layout.addWidget(self.note)
        self.resize(420, 320)
        self._filter("")

    def _filter(self, text: str) -> None:
        self.list.clear()
        found = find_nodes(self.project, text)
        for f in found:
            item = QListWidgetItem(f"{f.name}   {f.type} · {f.where}")
            item.setData(ROLE, f)
            item.setToolTip(f"{f.type} '{f.name}' in {f.where}")
            self.list.addItem(item)
        if found:
            self.list.setCurrentRow(0)
        self.note.setText("" if found or not text.strip() else f"no layer is called anything like “{text.strip()}”")
        self.note.setVisible(bool(self.note.text()))

    def _pick(self, item: QListWidgetItem) -> None:
        self.chosen.emit(item.data(ROLE))
