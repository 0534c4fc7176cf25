"""An ensemble of runs picked in the Runs tab, made into a project of its own.

Select two or more finished runs in the Runs tab (Ctrl-click), right-click,
"Make an Ensemble of the Selected Runs…": each run's own project copy and
``final.pt`` become a member (`studio.train.ensemble.build_ensemble`, as
``studio evaluate --save-ensemble`` does), the ensemble is written where the
user says (its weights beside it, in a worker thread) and
`EnsembleFromRuns.built` asks the window to open it. The ensemble project remembers its weights and its runs
(`studio.train.ensemble.save_ensemble`), so the dock's Test tab evaluates the ensemble beside its members
whenever it is opened.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction

from studio.train.evaluate import Member
from studio.train.run_copy import load_run_project
from studio.ui import dialogs
from studio.ui.background import BackgroundJob
from studio.ui.training.runs import RunRecord, RunsTable


class EnsembleFromRuns(QObject):
    """The Runs table's "Make an Ensemble…" action (see the module docstring).

    Signals:
        built(Path): the ensemble project file just written.
    """

    built = Signal(object)

    def __init__(self, table: RunsTable, records: Callable[[], list[RunRecord]],
                 root: Callable[[], Path | None], parent: QObject | None = None):
        super().__init__(parent)
        self.table, self.records, self.root = table, records, root
        self.action = QAction("Make an Ensemble of the Selected Runs…", table)
        self.action.setIconText("Make an Ensemble…")  # on the Compare tab's button
        self.action.setToolTip("Average the probabilities of two or more finished runs, as a new project")
        self.action.triggered.connect(self.make)
        table.addAction(self.action)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        table.itemSelectionChanged.connect(self._update)
        self.job: BackgroundJob | None = None
        self._update()

    def selected(self) -> list[RunRecord]:
        """The selected runs that left final weights, in table order."""
        records = self.records()
        rows = sorted({index.row() for index in self.table.selectedIndexes()})
        return [records[r] for r in rows if r < len(records) and (records[r].out_dir / "final.pt").is_file()]

    @Slot()
    def _update(self) -> None:
        self.action.setEnabled(len(self.selected()) >= 2 and not self.busy)

    @Slot()
    def make(self) -> None:
        """Asks where to write the ensemble of the selected runs, then writes it in a worker thread;
        `built` follows when it is written (a message box when it cannot be)."""
        runs = self.selected()
        if len(runs) < 2 or self.busy:
            return
        name = "ensemble-" + "-".join(str(r.number) for r in runs)
        path = dialogs.ask_save_path(self.table.window(), str(runs[0].out_dir.parent / f"{name}.json"))
        if path is None:
            return
        root = self.root()
        self.action.setEnabled(False)
        # loading every member's weights and writing the ensemble's takes seconds for big networks
        self.job = BackgroundJob(lambda progress: write_ensemble(runs, Path(path), root), self)
        self.job.start()

    @property
    def busy(self) -> bool:
        """Whether an ensemble is being written."""
        return self.job is not None and self.job.running

    def wait(self) -> None:
        """Blocks until an ensemble being written is on disk (closing waits for it)."""
        if self.job is not None:
            self.job.wait()

    @Slot(str, float)
    def job_progress(self, step: str, fraction: float) -> None:
        pass

    @Slot(object)
    def job_done(self, path: Path) -> None:
        self._update()
        self.built.emit(path)

    @Slot(str)
    def job_failed(self, message: str) -> None:
        self._update()
        dialogs.show_error(self.table.window(), "Cannot make the ensemble", message)


def write_ensemble(runs: list[RunRecord], path: Path, root: Path | None) -> Path:
    """The ensemble of `runs` (their project copies and final.pt) written to `path` (returned), weights beside it.

    Raises:
        StudioError: a run without its project copy, or runs that do not fit together.
    """
    from studio.train.ensemble import build_ensemble, save_ensemble

    members = [Member(load_run_project(r.out_dir), r.out_dir / "final.pt", root) for r in runs]
    project, weights = build_ensemble(members, path.stem)
    save_ensemble(project, weights, path,
                  [{"run": str(r.out_dir), "label": r.label, "root": str(root) if root else None} for r in runs])
    return path
