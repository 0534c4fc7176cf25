"""Quick-add: a small popup at the cursor to add a layer by typing its name.

Tab (or a double-click on empty canvas) opens it; typing filters the list
(names starting with the text first, then names containing it, then matches
in the doc line); Up/Down move; Enter adds the highlighted entry where the
popup was opened (`chosen(type)`); Escape closes it. `SearchPopup` is that
popup's search-and-pick behaviour, shared with the node finder.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, Qt, Signal
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from studio import catalog


def ranked(text: str, entries: list[tuple[str, str]]) -> list[str]:
    """Names of `entries` ((name, doc)) matching `text`, best first."""
    t = text.lower().strip()
    if not t:
        return [name for name, _ in entries]
    scored = []
    for i, (name, doc) in enumerate(entries):
        n = name.lower()
        score = 0 if n.startswith(t) else 1 if t in n else 2 if t in doc.lower() else None
        if score is not None:
            scored.append((score, i, name))
    return [name for _, _, name in sorted(scored)]


class SearchPopup(QFrame):
    """A popup with a search field over a list: Up/Down move, Enter or a click picks, Escape closes.

    Subclasses fill the list in `_filter(text)` and act on the picked item in `_pick(item)`.
    """

    def __init__(self, placeholder: str, parent=None):
        super().__init__(parent, Qt.WindowType.Popup)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.list = QListWidget()
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self._layout.setSpacing(4)
        self._layout.addWidget(self.edit)
        self._layout.addWidget(self.list)
        self.edit.textChanged.connect(self._filter)
        self.edit.installEventFilter(self)
        self.list.itemActivated.connect(self._picked)
        self.list.itemClicked.connect(self._picked)

    def popup(self, at: QPoint) -> None:
        """Shows the popup with its top-left corner at global position `at`."""
        self.move(at)
        self.show()
        self.edit.setFocus()

    def _filter(self, text: str) -> None:
        raise NotImplementedError

    def _pick(self, item: QListWidgetItem) -> None:
        raise NotImplementedError

    def _picked(self, item: QListWidgetItem) -> None:
        if not self.isVisible():  # a click can both activate and click an item: pick once
            return
        self.close()
        self._pick(item)

    def eventFilter(self, obj, event) -> bool:
        if obj is self.edit and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                row = self.list.currentRow() + (1 if key == Qt.Key.Key_Down else -1)
                self.list.setCurrentRow(max(0, min(self.list.count() - 1, row)))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                item = self.list.currentItem()
                if item is not None:
                    self._picked(item)
                return True
            if key == Qt.Key.Key_Escape:
                self.close()
                return True
        return super().eventFilter(obj, event)


class QuickAdd(SearchPopup):
    """The popup. Signal: chosen(str) with a type name or "Block:NAME"."""

    chosen = Signal(str)

    def __init__(self, blocks=(), parent=None):
        super().__init__("Add layer…", parent)
        self.entries = [(s.type, s.doc) for s in catalog.REGISTRY.values()] + \
                       [(f"Block:{b}", f"block {b}") for b in blocks]
        self.resize(260, 300)
        self._filter("")

    def _filter(self, text: str) -> None:
        self.list.clear()
        docs = dict(self.entries)
        for name in ranked(text, self.entries):
            item = QListWidgetItem(name)
            item.setToolTip(docs[name])
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def _pick(self, item: QListWidgetItem) -> None:
        self.chosen.emit(item.text())
