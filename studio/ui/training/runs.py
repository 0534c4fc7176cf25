"""Where runs write, and what the dashboard keeps of each run.

A saved project trains into ``runs/<stem>-<n>`` beside its file (``stem``: the
file's name without ``.json``); an unsaved one into
``<app data>/runs/<project name>-<n>`` (`studio.ui.app_dirs.data_dir`), or
``$STUDIO_RUNS_DIR`` when set, which tests use. ``n`` counts up past the
highest number taken (`studio.train.run_folders`), so reopening a project
finds its runs again (`saved_runs`). `RunsTable` lists the runs of the dock.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from studio.train import RunFailed, RunFinished
from studio.train.run_folders import SavedRun, find_runs
from studio.ui.app_dirs import data_dir


def runs_root(project_path: Path | None) -> Path:
    """The folder that holds a project's runs."""
    override = os.environ.get("STUDIO_RUNS_DIR")
    if override:
        return Path(override)
    if project_path is not None:
        return Path(project_path).parent / "runs"
    return data_dir() / "runs"


def run_stem(project: Any, project_path: Path | None) -> str:
    """The name a project's run folders start with: its file's stem, else the project's name."""
    return Path(project_path).stem if project_path is not None else project.name


@dataclass
class RunRecord:
    """One run as the dashboard shows it.

    Attributes:
        number: 1-based, in the order runs started in this dock ("run 1"); a
            run found on disk keeps its folder's number.
        out_dir: the folder it writes into.
        task: "classification" or "regression" (from the first epoch's metrics).
        status: "preparing", "running", "paused", "completed", "stopped",
            "early_stopped" or "failed"; "unfinished" for a run found on disk
            that never recorded its end.
        epochs: every EpochEnded's metrics (without the sample images).
        last_checkpoint: the newest checkpoint on disk, or None.
        message: the failure message, when it failed.
        test: the scalar metrics on the test split, once the run has them.
    """

    number: int
    out_dir: Path
    status: str = "preparing"
    task: str | None = None
    epochs: list[dict[str, Any]] = field(default_factory=list)
    last_checkpoint: str | None = None
    message: str = ""
    test: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        return f"run {self.number}"


def saved_runs(project: Any, project_path: Path | None) -> tuple[list[RunRecord], RunFinished | None]:
    """A saved project's runs on disk, oldest first, and the last event of the newest that left final weights.

    The event is None when no run did; an unsaved project has no runs here.
    """
    if project is None or project_path is None:
        return [], None
    runs = find_runs(runs_root(project_path), run_stem(project, project_path))
    last = next((run.result for run in reversed(runs) if run.final_weights is not None), None)
    return [_record(run) for run in runs], last


def _record(run: SavedRun) -> RunRecord:
    """A run from disk as the dock keeps it; "unfinished" when it left no result (it runs, or it died)."""
    return record_of(run)


def record_of(run: SavedRun) -> RunRecord:
    """A run from disk (one of the project's, or a sweep's trial) as the dock keeps it."""
    result = run.result
    status = "unfinished" if result is None else "failed" if isinstance(result, RunFailed) else result.reason
    return RunRecord(number=run.number, out_dir=run.out_dir, status=status, epochs=run.epochs,
                     message=getattr(result, "message", ""), test=run.test)


class RunsTable(QTableWidget):
    """Every run of this dock: colour, status, epochs, best validation figure, test figure, folder."""

    COLUMNS = ("Run", "Status", "Epochs", "Best", "Test", "Folder")

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
            cells = (r.label, r.status.replace("_", " "), str(len(r.epochs)), best_text(r), test_text(r),
                     str(r.out_dir))
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
                if col == len(cells) - 1:
                    item.setToolTip(text)


# The figure that sums up a run: accuracy, else R², else the loss.
_HEADLINE = (("accuracy", "{:.1%} acc", max), ("r2", "R² {:.3f}", max), ("loss", "{kind} loss {:.4g}", min))


def best_text(record: RunRecord) -> str:
    """The best validation accuracy (or R², or lowest validation loss) so far, as text."""
    return _headline(record.epochs, "val_")


def test_text(record: RunRecord) -> str:
    """The accuracy (or R², or loss) on the test split, as text; empty without one."""
    return _headline([record.test] if record.test else [], "test_")


def _headline(rows: list[dict[str, Any]], prefix: str) -> str:
    for name, fmt, better in _HEADLINE:
        values = [r[prefix + name] for r in rows if isinstance(r.get(prefix + name), (int, float))]
        if values:
            return fmt.format(better(values), kind=prefix[:-1])
    return ""
