"""The problems list: every mistake analysis found, one line each; click one to go to its node.

The list is only as tall as its lines (`wanted_height`; studio/ui/dock_sizes.py sizes its dock).

Lines read like `studio check`'s: "main/fc1: Linear 'fc1' expects ...", with an
error or a warning icon (a warning: the network runs, but not as meant). Clicking
a line sends `node_chosen(level, node_id)`; the main window selects and
centres that node (going back up out of a block first when needed).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QStyle

ROLE = Qt.ItemDataRole.UserRole
MAX_ROWS = 6  # the list grows with its lines up to this many, then scrolls


class ProblemsList(QListWidget):
    """Problems of the project on show. Signal: node_chosen(int level, str node id)."""

    node_chosen = Signal(int, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)

    def show_problems(self, problems: list[tuple[int, object]]) -> None:
        """Lists (level, Problem) pairs; level 0 is the top network, higher ones the open block."""
        self.clear()
        icons = {"error": self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical),
                 "warning": self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)}
        for level, p in problems:
            item = QListWidgetItem(icons[p.severity], str(p))
            item.setData(ROLE, (level, p.node_id))
            item.setToolTip(p.message)
            self.addItem(item)
        if not problems:
            item = QListWidgetItem("No problems: every layer has a shape.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.addItem(item)

    def wanted_height(self) -> int:
        """The height that shows every line (at most `MAX_ROWS`) and no empty space."""
        rows = min(max(self.count(), 1), MAX_ROWS)
        row = max([self.sizeHintForRow(i) for i in range(rows)] + [self.fontMetrics().height() + 8, 22])
        return rows * row + 2 * self.frameWidth() + 4

    def _clicked(self, item: QListWidgetItem) -> None:
        data = item.data(ROLE)
        if data and data[1]:
            self.node_chosen.emit(data[0], data[1])
