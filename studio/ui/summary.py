"""The summary table: per layer its name, type, output shape, parameters and FLOPs, then totals.

Rows follow the network's topological order (the same rows as `studio
summary`); clicking a row sends `node_chosen(node_id)`. Frozen nodes (given by the
caller) are marked "· frozen" in italics and left out of the trainable
total. `memory_text` gives the status bar's "params × 4 bytes" in human
units (and the trainable count when some layers are frozen). The table is refilled
only while it is visible, and cells are updated in place when the rows are
the same, so a 600-layer network stays quick to edit.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from studio.graph import format_shape
from studio.graph.summary import si, trainable_params, type_label
from studio.ui.summary_profile import ProfileButton

COLUMNS = ("name", "type", "output shape", "params", "FLOPs")
ROLE = Qt.ItemDataRole.UserRole


def human_bytes(n: float) -> str:
    """Bytes in human units: 241.0 KB, 230.4 MB."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def memory_text(params: int, trainable: int | None = None) -> str:
    """The status bar line: parameters and their size as float32 (and how many train, if not all)."""
    text = f"{params:,} parameters · {human_bytes(params * 4)}"
    return text if trainable is None else f"{text} · {trainable:,} trainable"


class SummaryTable(QWidget):
    """The per-layer table. Signal: node_chosen(str node id)."""

    node_chosen = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for i, w in enumerate((120, 110, 110, 90)):
            self.table.setColumnWidth(i, w)
        self.totals = QLabel()
        self.profile = ProfileButton(self)  # measured time and memory columns (studio/ui/summary_profile.py)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.addWidget(self.table)
        bottom = QHBoxLayout()
        bottom.addWidget(self.totals, 1)
        bottom.addWidget(self.profile)
        layout.addLayout(bottom)
        self.table.cellClicked.connect(self._clicked)
        self._pending = None

    def show_report(self, network, report, force: bool = False, frozen=frozenset()) -> None:
        """Fills the table from `network` and its `report` (deferred while hidden); `frozen`: node ids."""
        self._pending = (network, report, frozenset(frozen))
        if self.isVisible() or force:
            self._fill()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._pending:
            self._fill()

    def _fill(self) -> None:
        network, report, frozen = self._pending
        self.profile.clear(len(COLUMNS))
        rows = []
        for node in network.iter_nodes():
            res = report.nodes.get(node.id) if report else None
            out = next(iter(res.outputs.values()), None) if res else None
            shape = format_shape(out) if out is not None and res.status == "ok" else (res.status if res else "")
            kind = type_label(node) + (" · frozen" if node.id in frozen else "")
            rows.append((node.id, (node.name, kind, shape, f"{res.params:,}" if res else "",
                                   si(res.flops) if res else "")))
        t = self.table
        if t.rowCount() != len(rows):
            t.setRowCount(len(rows))
        for r, (nid, cells) in enumerate(rows):
            for c, text in enumerate(cells):
                item = t.item(r, c)
                if item is None:
                    item = QTableWidgetItem(text)
                    if c >= 3:
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    t.setItem(r, c, item)
                elif item.text() != text:
                    item.setText(text)
                item.setData(ROLE, nid)
                if item.font().italic() != (nid in frozen):
                    font = item.font()
                    font.setItalic(nid in frozen)
                    item.setFont(font)
        if report is not None:
            trainable = trainable_params(report, frozen)
            held = report.trainable_params - trainable
            extra = f", {held:,} frozen" if frozen else ""
            self.totals.setText(f"  total: {report.total_params:,} parameters ({trainable:,} trainable{extra})"
                                f" · {si(report.flops)} FLOPs per sample")
        else:
            self.totals.setText("")

    def row_of(self, node_id: str) -> int:
        """The row showing `node_id` (-1 if none)."""
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).data(ROLE) == node_id:
                return r
        return -1

    def _clicked(self, row: int, _col: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.node_chosen.emit(item.data(ROLE))
