"""Find a node (Ctrl+F): a small popup that searches every network and block of the project by name.

Typing lists the matches (`studio.graph.inline.find_nodes`: exact names
first, then names starting with the text, then the rest), each with its type
and the way down to it ("main › inception_a"); Up/Down move, Enter (or a
click) sends `chosen(Found)` and closes, Escape closes. The main window then
opens the blocks on the way and centres the node.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from studio.graph import Project
from studio.graph.inline import find_nodes

ROLE = Qt.ItemDataRole.UserRole


class NodeFinder(QFrame):
    """The popup. Signal: chosen(Found)."""

    chosen = Signal(object)

    def __init__(self, project: Project, parent=None):
        super().__init__(parent, Qt.WindowType.Popup)
        self.project = project
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("Find a layer by name, in every block…")
        self.edit.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.note = QLabel()
        self.note.setEnabled(False)  # drawn in the muted text colour
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.edit)
        layout.addWidget(self.list)
        layout.addWidget(self.note)
        self.resize(420, 320)
        self.edit.textChanged.connect(self._filter)
        self.edit.installEventFilter(self)
        self.list.itemActivated.connect(self._choose)
        self.list.itemClicked.connect(self._choose)
        self._filter("")

    def popup(self, at: QPoint) -> None:
        """Shows the popup with its top-left corner at global position `at`."""
        self.move(at)
        self.show()
        self.edit.setFocus()

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

    def eventFilter(self, obj, event) -> bool:
        if obj is self.edit and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                row = self.list.currentRow() + (1 if key == Qt.Key.Key_Down else -1)
                self.list.setCurrentRow(max(0, min(self.list.count() - 1, row)))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if self.list.currentItem() is not None:
                    self._choose(self.list.currentItem())
                return True
            if key == Qt.Key.Key_Escape:
                self.close()
                return True
        return super().eventFilter(obj, event)

    def _choose(self, item: QListWidgetItem) -> None:
        self.close()
        self.chosen.emit(item.data(ROLE))
