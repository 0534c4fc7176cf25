"""The training dock's Compare tab: two runs picked in the Runs tab, side by side.

Selecting exactly two rows of the Runs table (Ctrl-click) compares those runs
(`studio.train.run_diff.compare_runs`, the same comparison ``studio diff``
prints). The tab shows a one-line summary and three pages:

- Architecture: the diff drawn on a canvas (`studio.ui.diff_scene.DiffScene`:
  added green, removed as a red ghost, changed amber; a menu picks the network
  or block) and listed one line per difference;
- Settings: every setting and the last epoch's figures of both runs, the
  rows that differ marked with ``*``, bold and an amber background;
- Curves: both runs' training and validation loss per epoch, overlaid in the
  runs' own colours.

A run from an older version has no project copy: the tab says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import QAction, QBrush, QColor, QFont, QPainter, QPalette
from PySide6.QtWidgets import (QComboBox, QGraphicsView, QHBoxLayout, QHeaderView, QLabel, QListWidget,
                               QListWidgetItem, QSplitter, QTableWidget, QTableWidgetItem, QTabWidget, QToolButton,
                               QVBoxLayout, QWidget)

from studio.errors import StudioError
from studio.graph import Network
from studio.graph.diff import GraphDiff, describe
from studio.train.run_copy import load_run_project
from studio.train.run_diff import RunDiff, compare_runs
from studio.ui import theme
from studio.ui.diff_scene import DiffScene, diff_colour
from studio.ui.training.runs import RunRecord, RunsTable

_HINT = "Select two runs in the Runs tab (Ctrl-click) to compare them."


class RunComparison(QWidget):
    """The Compare tab; it follows the selection of ``table`` (rows are ``records()``).

    Signals:
        compared(): two runs were just compared (the dock brings the tab forward).
    """

    compared = Signal()

    def __init__(self, table: RunsTable, records: Callable[[], list[RunRecord]],
                 colour: Callable[[int], QColor], parent: QWidget | None = None):
        super().__init__(parent)
        self.table, self.records, self.colour = table, records, colour
        self.diff: RunDiff | None = None
        self.scene: DiffScene | None = None
        layout = QVBoxLayout(self)
        self.summary = QLabel(_HINT)
        self.summary.setWordWrap(True)
        self.header = QHBoxLayout()
        self.header.addWidget(self.summary, 1)
        layout.addLayout(self.header)
        self.pages = QTabWidget()
        self.pages.addTab(self._architecture_page(), "Architecture")
        self.settings = _table(("setting", "A", "B"))
        self.pages.addTab(self.settings, "Settings")
        self.curves = pg.PlotWidget()
        self.curves.setMenuEnabled(False)
        self.curves.addLegend(offset=(-8, 8), labelTextSize="8pt")
        self.curves.setLabel("bottom", "epoch")
        self.pages.addTab(self.curves, "Curves")
        self.pages.setVisible(False)
        layout.addWidget(self.pages, 1)
        table.itemSelectionChanged.connect(self.follow_selection)

    def offer(self, action: QAction) -> None:
        """A button for `action` beside the summary (what the Runs table's menu offers for the two runs)."""
        button = QToolButton()
        button.setDefaultAction(action)
        self.header.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)

    def _architecture_page(self) -> QWidget:
        page = QSplitter(Qt.Orientation.Vertical)
        top = QWidget()
        box = QVBoxLayout(top)
        box.setContentsMargins(0, 0, 0, 0)
        self.graph_choice = QComboBox()
        self.graph_choice.currentIndexChanged.connect(self._draw_graph)
        box.addWidget(self.graph_choice)
        self.view = QGraphicsView()
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.view.setInteractive(True)  # tooltips; the cards themselves do not move
        box.addWidget(self.view, 1)
        page.addWidget(top)
        self.changes = QListWidget()
        page.addWidget(self.changes)
        page.setSizes([320, 120])
        return page

    # --- following the Runs table ---------------------------------------------------
    @Slot()
    def follow_selection(self) -> None:
        """Compare the two runs selected in the table (nothing happens for another count)."""
        rows = sorted({index.row() for index in self.table.selectedIndexes()})
        records = self.records()
        if len(rows) == 2 and all(r < len(records) for r in rows):
            self.compare(records[rows[0]], records[rows[1]])

    def compare(self, a: RunRecord, b: RunRecord) -> None:
        """Show what differs between runs ``a`` and ``b``."""
        try:
            self.diff = compare_runs(a.out_dir, b.out_dir)
            self.projects = (load_run_project(a.out_dir), load_run_project(b.out_dir))
        except StudioError as exc:
            self.diff = None
            self.summary.setText(f"{a.label} and {b.label} cannot be compared: {exc}")
            self.pages.setVisible(False)
            return
        self.runs = (a, b)
        self.summary.setText(_summary(a, b, self.diff))
        self.pages.setVisible(True)
        self._fill_graphs()
        _fill_settings(self.settings, self.diff)
        self._fill_curves(a, b)
        self.compared.emit()

    # --- the pages --------------------------------------------------------------------
    def _fill_graphs(self) -> None:
        """The menu of networks and blocks: those that differ, else the first network."""
        graphs = self.diff.architecture or [GraphDiff("network", next(iter(self.projects[1].networks)))]
        self.graphs = graphs
        self.graph_choice.blockSignals(True)
        self.graph_choice.clear()
        self.graph_choice.addItems([f"{g.kind} {g.name}" + ("" if g.empty else f" ({_count(g)})") for g in graphs])
        self.graph_choice.blockSignals(False)
        self.changes.clear()
        several = len(self.diff.architecture) > 1
        for graph in self.diff.architecture:
            for line in describe(graph):
                item = QListWidgetItem(f"{graph.kind} {graph.name}: {line}" if several else line)
                item.setForeground(QBrush(diff_colour(_kind_of(line))))
                self.changes.addItem(item)
        if not self.diff.architecture:
            self.changes.addItem("The architecture is the same.")
        self._draw_graph(0)

    @Slot(int)
    def _draw_graph(self, index: int) -> None:
        if index < 0 or index >= len(self.graphs):
            return
        graph = self.graphs[index]
        new, old = (_graph_of(p, graph) for p in reversed(self.projects))
        if self.scene is not None:
            self.scene.detach()
        self.scene = DiffScene(new, old, graph, self)
        self.view.setScene(self.scene)
        self.view.setBackgroundBrush(theme.current().canvas)  # the editor's canvas colour
        self._fit()

    def _fit(self) -> None:
        """Zoom to the differences (the rest of the network scrolls into view)."""
        self.view.fitInView(self.scene.focus_rect(), Qt.AspectRatioMode.KeepAspectRatio)

    def changeEvent(self, event) -> None:
        """A new theme: the marks, the list and the plot take its colours."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.diff is not None:
            self.compare(*self.runs)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.scene is not None:
            self._fit()

    def _fill_curves(self, a: RunRecord, b: RunRecord) -> None:
        self.curves.clear()
        self.curves.setBackground(self.palette().color(QPalette.ColorRole.Base))
        for run in (a, b):
            colour = self.colour(run.number)
            for key, style in (("train_loss", Qt.PenStyle.SolidLine), ("val_loss", Qt.PenStyle.DashLine)):
                points = [(e["epoch"], e[key]) for e in run.epochs if isinstance(e.get(key), (int, float))]
                if points:
                    xs, ys = zip(*points)
                    self.curves.plot(xs, ys, pen=pg.mkPen(colour, width=1.8, style=style), symbol="o",
                                     symbolSize=5, symbolBrush=colour, name=f"{run.label} {key.split('_')[0]}")


def _graph_of(project: Any, graph: GraphDiff) -> Network:
    """The network or block definition ``graph`` names, or an empty one where the project lacks it."""
    if graph.kind == "block":
        block = project.blocks.get(graph.name)
        return block.network if block is not None else Network(graph.name)
    return project.networks.get(graph.name) or Network(graph.name)


def _count(graph: GraphDiff) -> str:
    parts = [(len(graph.added), "added"), (len(graph.removed), "removed"), (len(graph.changed), "changed")]
    return ", ".join(f"{n} {word}" for n, word in parts if n) or "wires"


def _kind_of(line: str) -> str:
    return {"+": "added", "-": "removed"}.get(line[0], "changed")


def _summary(a: RunRecord, b: RunRecord, diff: RunDiff) -> str:
    settings = sum(r.differs for r in diff.settings)
    nodes = sum(len(g.added) + len(g.removed) + len(g.changed) for g in diff.architecture)
    return (f"A: {a.label} ({Path(a.out_dir).name}) · B: {b.label} ({Path(b.out_dir).name}) — "
            f"{settings} setting{'s' * (settings != 1)} and {nodes} layer{'s' * (nodes != 1)} differ")


def _table(headers: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fill_settings(table: QTableWidget, diff: RunDiff) -> None:
    """Settings, then the last epoch's figures; differing rows marked (``*``, bold, amber)."""
    rows = [(r, r.key) for r in diff.settings] + [(r, f"last epoch: {r.key}") for r in diff.metrics]
    table.setRowCount(len(rows))
    highlight = QColor(diff_colour("changed"))
    highlight.setAlpha(55)
    bold = QFont()
    bold.setBold(True)
    for i, (row, key) in enumerate(rows):
        for col, text in enumerate((("* " if row.differs else "  ") + key, _cell(row.a), _cell(row.b))):
            item = QTableWidgetItem(text)
            if row.differs:
                item.setBackground(QBrush(highlight))
                item.setFont(bold)
            table.setItem(i, col, item)


def _cell(value: Any) -> str:
    return "-" if value is None else f"{value:.6g}" if isinstance(value, float) else str(value)
