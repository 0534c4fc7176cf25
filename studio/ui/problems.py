"""The problems list: every mistake analysis found, one line each; click one to go to its node.

The list is only as tall as its lines (`wanted_height`; studio/ui/dock_sizes.py sizes its dock).

Lines read like `studio check`'s: "main/fc1: Linear 'fc1' expects ...", with an
error or a warning icon (a warning: the network runs, but not as meant). Clicking
a line sends `node_chosen(level, node_id)`; the main window selects and
centres that node (going back up out of a block first when needed).

A problem that `studio.graph.fixes` knows how to fix is followed by one
link-styled line per offer ("Fix: insert Flatten before 'fc1'"); clicking it
(or Enter on it) sends `fix_chosen(fix)`, and the editor applies the fix as
one undo step.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPalette, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QStyle

ROLE = Qt.ItemDataRole.UserRole
FIX_ROLE = Qt.ItemDataRole.UserRole + 1
MAX_ROWS = 6  # the list grows with its lines up to this many, then scrolls


class ProblemsList(QListWidget):
    """Problems of the project on show. Signals: node_chosen(int level, str node id), fix_chosen(Fix)."""

    node_chosen = Signal(int, str)
    fix_chosen = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        blank = QPixmap(self.iconSize() if self.iconSize().isValid() else QSize(size, size))
        blank.fill(Qt.GlobalColor.transparent)
        self._indent = QIcon(blank)  # lines a fix up under its problem's text

    def show_problems(self, problems: list[tuple[int, object]], fixes: list[list] | None = None) -> None:
        """Lists (level, Problem) pairs; level 0 is the top network, higher ones the open block.

        `fixes`, when given, holds the `Fix`es offered for each problem, in the same order.
        """
        self.clear()
        icons = {"error": self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical),
                 "warning": self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)}
        for i, (level, p) in enumerate(problems):
            item = QListWidgetItem(icons[p.severity], str(p))
            item.setData(ROLE, (level, p.node_id))
            item.setToolTip(p.message)
            self.addItem(item)
            for fix in (fixes[i] if fixes else ()):
                self.addItem(self._fix_item(fix))
        if not problems:
            item = QListWidgetItem("No problems: every layer has a shape.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.addItem(item)

    def _fix_item(self, fix) -> QListWidgetItem:
        item = QListWidgetItem(self._indent, f"Fix: {fix.text}")
        item.setData(FIX_ROLE, fix)
        item.setForeground(self.palette().color(QPalette.ColorRole.Link))
        font = item.font()
        font.setUnderline(True)
        item.setFont(font)
        item.setToolTip(f"Click to {fix.text} (one step: Ctrl+Z undoes it)")
        return item

    def fix_items(self) -> list[QListWidgetItem]:
        """The "Fix: …" lines on show."""
        return [self.item(i) for i in range(self.count()) if self.item(i).data(FIX_ROLE) is not None]

    def wanted_height(self) -> int:
        """The height that shows every line (at most `MAX_ROWS`) and no empty space."""
        rows = min(max(self.count(), 1), MAX_ROWS)
        row = max([self.sizeHintForRow(i) for i in range(rows)] + [self.fontMetrics().height() + 8, 22])
        return rows * row + 2 * self.frameWidth() + 4

    def _clicked(self, item: QListWidgetItem) -> None:
        fix = item.data(FIX_ROLE)
        if fix is not None:
            self.fix_chosen.emit(fix)
            return
        data = item.data(ROLE)
        if data and data[1]:
            self.node_chosen.emit(data[0], data[1])
