"""Weights in the GUI: the load report dialog, and where a project's weights come from.

`WeightsReportDialog` shows a `LoadReport` (from `studio.export.load_weights`):
a headline (all matched, or how many are missing / unexpected / of the wrong
shape) and a table of every tensor name with its state and shapes, problems
first. Accepting it means "start from these weights": the main window then
sets ``project.training["init_weights"]`` as one undoable edit.

A project's own weights are ``training["init_weights"]``: a path, stored
relative to the project file's folder when the file lies inside it, else
absolute (`stored_path`, `resolve_init`). An imported module's weights have
no file yet: the main window keeps them in memory and writes them beside the
project on its first save (`weights_file_for`).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout)

from studio.export import INIT_KEY, LoadReport
from studio.graph import Project
from studio.ui import theme

WEIGHTS_FILTER = "Weights (*.pt *.pth *.safetensors);;All files (*)"


def resolve_init(project: Project, project_path: Path | None) -> Path | None:
    """The file ``training["init_weights"]`` names (relative to the project's folder), or None."""
    value = project.training.get(INIT_KEY)
    if not value:
        return None
    path = Path(value)
    if not path.is_absolute() and project_path is not None:
        path = Path(project_path).parent / path
    return path


def stored_path(weights: Path, project_path: Path | None) -> str:
    """How to write `weights` into the project: relative when inside the project's folder."""
    weights = Path(weights).absolute()
    if project_path is not None:
        folder = Path(project_path).absolute().parent
        try:
            return Path(os.path.relpath(weights, folder)).as_posix() if weights.is_relative_to(folder) else str(weights)
        except ValueError:  # another drive
            pass
    return str(weights)


def weights_file_for(project_path: Path) -> Path:
    """Where the in-memory weights of an imported project go when it is saved: beside it, `.pt`."""
    path = Path(project_path)
    out = path.with_suffix(".pt")
    return out if out != path else path.with_name(path.stem + ".weights.pt")


def _headline(report: LoadReport, network: str) -> tuple[str, QColor]:
    """The dialog's first line, and its colour: do all, some or none of the tensors fit?"""
    t = theme.current()
    source = Path(report.source).name if report.source else "the weights"
    n = len(report.matched)
    if report.ok:
        return f"All {n} tensors of “{source}” fit network “{network}”.", t.valid_target
    if n == 0:
        return f"Nothing in “{source}” fits network “{network}”.", t.error
    return f"{n} tensors of “{source}” fit network “{network}”; some do not.", t.error


def _hint(matched: int) -> QLabel:
    """What using weights that do not all fit does (or, when none fits, to pick another file)."""
    hint = QLabel("Using them anyway loads the tensors that match; the others keep their initial "
                  "values (missing ones) or are ignored (unexpected and wrongly shaped ones)."
                  if matched else "Pick another file: this one holds no weights for this network.")
    hint.setWordWrap(True)
    hint.setStyleSheet(f"color: {theme.current().subtext.name()};")
    return hint


class WeightsReportDialog(QDialog):
    """How a weights file fits the network; OK means "use them as the project's initial weights"."""

    def __init__(self, report: LoadReport, network: str, parent=None, expected: dict | None = None):
        """`expected` ({name: shape}, optional) fills in the network's shape of missing tensors."""
        super().__init__(parent)
        self.report = report
        self.expected = expected or {}
        self.setWindowTitle("Load weights")
        self.resize(640, 460)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(10)
        n = len(report.matched)
        head, colour = _headline(report, network)
        self.headline = QLabel(head)
        self.headline.setWordWrap(True)
        self.headline.setStyleSheet(f"font-weight: bold; color: {colour.name()};")
        layout.addWidget(self.headline)
        counts = (f"{n} matched · {len(report.missing)} missing · {len(report.unexpected)} unexpected · "
                  f"{len(report.mismatched)} of the wrong shape")
        self.counts = QLabel(counts)
        layout.addWidget(self.counts)
        if not report.ok:
            layout.addWidget(_hint(n))
        self.table = self._table(report)
        layout.addWidget(self.table, 1)
        layout.addWidget(self._buttons(report.ok, n))

    def _buttons(self, ok: bool, matched: int) -> QDialogButtonBox:
        """Use (enabled when some tensors match) and Cancel."""
        self.buttons = QDialogButtonBox()
        self.use_button = self.buttons.addButton("Use these weights" if ok else "Use the matching weights",
                                                 QDialogButtonBox.ButtonRole.AcceptRole)
        self.use_button.setEnabled(matched > 0)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        return self.buttons

    def _table(self, report: LoadReport) -> QTableWidget:
        t = theme.current()
        rows = [(name, "wrong shape", _shape(exp), _shape(got)) for name, exp, got in report.mismatched]
        rows += [(name, "missing", _shape(self.expected[name]) if name in self.expected else "?", "—")
                 for name in report.missing]
        rows += [(name, "unexpected", "—", "") for name in report.unexpected]  # the report keeps no tensor
        rows += [(name, "matched", _shape(report.state[name].shape), _shape(report.state[name].shape))
                 for name in report.matched]
        table = QTableWidget(len(rows), 4)
        table.setHorizontalHeaderLabels(("tensor", "state", "network shape", "file shape"))
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setAlternatingRowColors(True)
        header = table.horizontalHeader()
        table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        fm = table.fontMetrics()
        for c in (1, 2, 3):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.Fixed)
            texts = [row[c] for row in rows] + [table.horizontalHeaderItem(c).text()]
            table.setColumnWidth(c, max(fm.horizontalAdvance(x) for x in texts) + 24)
        for r, cells in enumerate(rows):
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 1 and text != "matched":
                    item.setForeground(QColor(t.error))
                table.setItem(r, c, item)
        return table

    def state_of(self, name: str) -> str:
        """The state shown for tensor `name` ("matched", "missing", ...), for tests."""
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).text() == name:
                return self.table.item(r, 1).text()
        raise KeyError(name)


def _shape(shape) -> str:
    return "×".join(str(int(v)) for v in shape) if len(shape) else "scalar"
