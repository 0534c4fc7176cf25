"""Where runs write, and what the dashboard keeps of each run.

A saved project trains into ``runs/<project>-<n>`` beside its file; an unsaved
one into ``<app data>/runs/<project>-<n>`` (or ``$STUDIO_RUNS_DIR`` when set,
which tests use). ``n`` counts up from 1, never reusing a folder.
`RunsTable` lists the runs of the dock.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget


def runs_root(project_path: Path | None) -> Path:
    """The folder that holds a project's runs."""
    override = os.environ.get("STUDIO_RUNS_DIR")
    if override:
        return Path(override)
    if project_path is not None:
        return Path(project_path).parent / "runs"
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".network-studio") / "runs"


def safe_name(name: str) -> str:
    """``name`` made into a folder name: letters, digits, ``-`` and ``_`` only."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")
    return cleaned or "run"


def next_run_dir(root: Path, name: str) -> Path:
    """``root/<name>-<n>`` for the first ``n`` (from 1) not yet taken; not created."""
    stem = safe_name(name)
    taken = set()
    if root.is_dir():
        for child in root.iterdir():
            match = re.fullmatch(re.escape(stem) + r"-(\d+)", child.name)
            if match:
                taken.add(int(match.group(1)))
    n = 1
    while n in taken:
        n += 1
    return root / f"{stem}-{n}"


@dataclass
class RunRecord:
    """One run as the dashboard shows it.

    Attributes:
        number: 1-based, in the order runs started in this dock ("run 1").
        out_dir: the folder it writes into.
        task: "classification" or "regression" (from the first epoch's metrics).
        status: "preparing", "running", "paused", "completed", "stopped",
            "early_stopped" or "failed".
        epochs: every EpochEnded's metrics (without the sample images).
        last_checkpoint: the newest checkpoint on disk, or None.
        message: the failure message, when it failed.
    """

    number: int
    out_dir: Path
    status: str = "preparing"
    task: str | None = None
    epochs: list[dict[str, Any]] = field(default_factory=list)
    last_checkpoint: str | None = None
    message: str = ""

    @property
    def label(self) -> str:
        return f"run {self.number}"


class RunsTable(QTableWidget):
    """Every run of this dock: colour, status, epochs, best validation figure, folder."""

    COLUMNS = ("Run", "Status", "Epochs", "Best", "Folder")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, len(self.COLUMNS), parent)
        self.setHorizontalHeaderLabels(self.COLUMNS)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.setWordWrap(False)
        header = self.horizontalHeader()
        for col in range(len(self.COLUMNS) - 1):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(self.COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)

    def show_runs(self, records: list[RunRecord], colour) -> None:
        """One row per record; ``colour(number)`` gives a run's curve colour."""
        self.setRowCount(len(records))
        for row, r in enumerate(records):
            cells = (r.label, r.status.replace("_", " "), str(len(r.epochs)), best_text(r), str(r.out_dir))
            for col, text in enumerate(cells):
                item = self.item(row, col)
                if item is None:
                    item = QTableWidgetItem()
                    self.setItem(row, col, item)
                item.setText(text)
                if col == 0:
                    item.setData(Qt.ItemDataRole.DecorationRole, colour(r.number))
                if col == 1 and r.message:
                    item.setToolTip(r.message)
                if col == 4:
                    item.setToolTip(text)


def best_text(record: RunRecord) -> str:
    """The best validation accuracy (or R², or lowest validation loss) so far, as text."""
    epochs = record.epochs
    if not epochs:
        return ""
    for key, fmt, better in (("val_accuracy", "{:.1%} acc", max), ("val_r2", "R² {:.3f}", max),
                             ("val_loss", "val loss {:.4g}", min)):
        values = [e[key] for e in epochs if isinstance(e.get(key), (int, float))]
        if values:
            return fmt.format(better(values))
    return ""
