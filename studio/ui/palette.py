"""The palette: every layer type grouped by category, a search box, and drag-to-add.

Typing in the search box filters as you type (by type name, category and
doc). Each entry's tooltip is its type's doc line. Dragging an entry starts a
real QDrag whose MIME data (`LAYER_MIME`) holds the type name; the canvas adds
the layer where it is dropped. The project's blocks appear under "Blocks"
(as "Block:NAME"). Double-clicking an entry sends `activated(type)`.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from studio import catalog
from studio.ui import theme
from studio.ui.view import LAYER_MIME

ROLE = Qt.ItemDataRole.UserRole


def _swatch(colour: QColor) -> QIcon:
    pm = QPixmap(12, 12)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(colour)
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(1, 1, 10, 10, 3, 3)
    p.end()
    return QIcon(pm)


class _Tree(QTreeWidget):
    """The tree; its drags carry the type name."""

    def mimeTypes(self):
        return [LAYER_MIME]

    def mimeData(self, items):
        what = [i.data(0, ROLE) for i in items if i.data(0, ROLE)]
        if not what:
            return None
        mime = QMimeData()
        mime.setData(LAYER_MIME, what[0].encode("utf-8"))
        mime.setText(what[0])
        return mime


class Palette(QWidget):
    """Layer types to drag onto the canvas. Signal: activated(str type or "Block:NAME")."""

    activated = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.tree = _Tree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setIndentation(12)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._blocks_group: QTreeWidgetItem | None = None
        self._fill()
        self.search.textChanged.connect(self.filter)
        self.tree.itemDoubleClicked.connect(self._double_clicked)

    def _fill(self) -> None:
        for category, specs in catalog.categories().items():
            group = QTreeWidgetItem(self.tree, [category])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            group.setIcon(0, _swatch(theme.category_colour(category)))
            for spec in specs:
                item = QTreeWidgetItem(group, [spec.type])
                item.setData(0, ROLE, spec.type)
                item.setToolTip(0, f"<b>{spec.type}</b><br>{spec.doc}")
                item.setData(0, Qt.ItemDataRole.UserRole + 1, f"{spec.type} {category} {spec.doc}".lower())
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
        self.tree.expandAll()

    def set_blocks(self, names) -> None:
        """Lists the project's blocks under "Blocks"."""
        if self._blocks_group is not None:
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(self._blocks_group))
            self._blocks_group = None
        if not names:
            return
        group = self._blocks_group = QTreeWidgetItem(self.tree, ["Blocks"])
        group.setFlags(Qt.ItemFlag.ItemIsEnabled)
        group.setIcon(0, _swatch(theme.category_colour("Block")))
        for name in names:
            item = QTreeWidgetItem(group, [name])
            item.setData(0, ROLE, f"Block:{name}")
            item.setToolTip(0, f"an instance of block '{name}'")
            item.setData(0, Qt.ItemDataRole.UserRole + 1, f"{name} block")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
        group.setExpanded(True)
        self.filter(self.search.text())

    def filter(self, text: str) -> None:
        """Shows only entries whose name, category or doc contains every word of `text`."""
        words = text.lower().split()
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            shown = 0
            for j in range(group.childCount()):
                child = group.child(j)
                hay = child.data(0, Qt.ItemDataRole.UserRole + 1) or ""
                hide = not all(w in hay for w in words)
                child.setHidden(hide)
                shown += not hide
            group.setHidden(shown == 0)
            if words:
                group.setExpanded(True)

    def visible_types(self) -> list[str]:
        """The entries the filter leaves visible."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            for j in range(group.childCount()):
                if not group.child(j).isHidden() and not group.isHidden():
                    out.append(group.child(j).data(0, ROLE))
        return out

    def item_for(self, type_name: str) -> QTreeWidgetItem | None:
        """The entry of `type_name`."""
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            for j in range(group.childCount()):
                if group.child(j).data(0, ROLE) == type_name:
                    return group.child(j)
        return None

    def _double_clicked(self, item, _col) -> None:
        if item.data(0, ROLE):
            self.activated.emit(item.data(0, ROLE))
