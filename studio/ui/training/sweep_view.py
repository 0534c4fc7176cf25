"""`SweepView`: the training dock's "Sweep" tab: run a sweep, watch its trials, open one as a run.

Start runs ``studio sweep`` in a child process (`QProcess`, so the window
never waits on it) on a snapshot of the project as it is now (its search
marks included), into ``runs/<stem>-sweep-<n>`` beside the project file (the
per-user runs folder for an unsaved project); Stop ends it, and the same
folder resumes when opened again ("Open sweep…", then Start). While it
runs, and once it ended, the tab reads the sweep's Optuna study
(`studio.train.sweep_results`, read only) once a second: the trials table,
the best trial so far, Optuna's parameter importances as bars and a
parallel-coordinates plot (one line per completed trial across the searched
values, normalised to 0..1, and the metric; the better the darker). "Open
trial as run" sends the selected trial's run folder with `open_run`.

Signals:
    open_run(object): the `Path` of a trial's run folder.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QProcess, QProcessEnvironment, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QPushButton, QSpinBox,
                               QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

import studio
from studio.graph import io
from studio.train.run_folders import next_run_dir
from studio.train.search_space import SAMPLERS
from studio.train.sweep_results import best, importances, load_results, trial_rows
from studio.ui.training.runs import run_stem, runs_root


class SweepView(QWidget):
    """Starts a sweep of the dock's project and shows its trials (see the module docstring)."""

    open_run = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.project, self.path, self.out = None, None, None
        self._shown_complete = -1
        self.process = QProcess(self)
        self.process.finished.connect(self._finished)
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.reload)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self._controls())
        self.best_label = QLabel("Mark parameters with ⚲ in the inspector or the settings' menus, then Start.")
        self.best_label.setWordWrap(True)
        self.best_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.best_label)
        self.table = QTableWidget(0, 0)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.importance_plot = pg.PlotWidget()
        self.parallel_plot = pg.PlotWidget()
        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.importance_plot)
        plots.addWidget(self.parallel_plot)
        plots.setSizes([200, 400])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(plots)
        layout.addWidget(split, 1)
        self.apply_palette()
        self._update_buttons()

    def _controls(self) -> QVBoxLayout:
        self.trials = _spin(1, 100_000, 20, "trials ")
        self.jobs = _spin(1, 64, 1, "at once ")
        self.epochs = _spin(0, 100_000, 0, "epochs ")
        self.epochs.setSpecialValueText("epochs: the project's")
        self.sampler = QComboBox()
        self.sampler.addItems(SAMPLERS)
        self.start_button = QPushButton("Start sweep")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.folder_button = QPushButton("Open sweep…")
        self.folder_button.clicked.connect(self._choose_folder)
        self.open_button = QPushButton("Open trial as run")
        self.open_button.clicked.connect(self._open_selected)
        # two rows: one row of eight made the dock (and so the window) wider than a 1600-px screen
        rows = QVBoxLayout()
        for widgets in ((self.trials, self.jobs, self.epochs, self.sampler),
                        (self.start_button, self.stop_button, self.folder_button, self.open_button)):
            row = QHBoxLayout()
            for w in widgets:
                row.addWidget(w)
            row.addStretch(1)
            rows.addLayout(row)
        return rows

    # --- the project and the sweep ----------------------------------------------------
    def set_project(self, project, path: Path | None) -> None:
        """Sweeps `project` (saved at `path`, or None) from now on; a sweep on show stays until another starts."""
        self.project, self.path = project, Path(path) if path is not None else None
        self._update_buttons()

    @property
    def running(self) -> bool:
        """Whether a sweep process is going."""
        return self.process.state() != QProcess.ProcessState.NotRunning

    @Slot()
    def start(self) -> bool:
        """Starts a sweep of the project as it is now (a snapshot); False (and a message) when it cannot."""
        if self.project is None or self.running:
            return False
        if not self.project.search_marks():
            self.best_label.setText("Nothing is marked as searched: use ⚲ beside a layer parameter in the "
                                    "inspector, or a setting's context menu in the training panel.")
            return False
        if self.out is None or (self.out / "project.json").exists() and not self._resuming():
            self.out = next_run_dir(runs_root(self.path), f"{run_stem(self.project, self.path)}-sweep")
        self.out.mkdir(parents=True, exist_ok=True)
        io.save(self.project, self.out / "project.json")
        self.process.setProcessEnvironment(_environment())
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        self.process.start(sys.executable, self._arguments())
        self.best_label.setText(f"Sweeping into {self.out} …")
        self.timer.start()
        self._update_buttons()
        return True

    def _resuming(self) -> bool:
        """True when the folder on show is an unfinished sweep (fewer trials than asked): Start resumes it."""
        study = load_results(self.out)
        return study is not None and len(trial_rows(study)[1]) < self.trials.value()

    def _arguments(self) -> list[str]:
        args = ["-m", "studio.cli", "sweep", str(self.out / "project.json"), "--trials", str(self.trials.value()),
                "--jobs", str(self.jobs.value()), "--out", str(self.out), "--sampler", self.sampler.currentText()]
        if self.epochs.value():
            args += ["--epochs", str(self.epochs.value())]
        if self.path is not None:
            args += ["--data-root", str(self.path.parent)]
        return args

    @Slot()
    def stop(self) -> None:
        """Ends the sweep; its finished trials stay, and Start resumes it."""
        if self.running:
            self.process.terminate()
            self.process.waitForFinished(3000)

    @Slot()
    def _finished(self, *_) -> None:
        self.timer.stop()
        self.reload()
        study = load_results(self.out) if self.out is not None else None
        if study is None or best(study) is None:
            tail = bytes(self.process.readAll()).decode(errors="replace").strip().splitlines()
            self.best_label.setText(tail[-1] if tail else "The sweep ended without a completed trial.")
        self._update_buttons()

    def show_folder(self, out: Path) -> None:
        """Shows the sweep in folder `out` (one made by `studio sweep` too)."""
        self.out = Path(out)
        self._shown_complete = -1
        self.reload()
        self._update_buttons()

    def _choose_folder(self) -> None:
        start = str(runs_root(self.path)) if self.project is not None else ""
        chosen = QFileDialog.getExistingDirectory(self, "Open a sweep folder", start)
        if chosen:
            self.show_folder(Path(chosen))

    # --- showing it -------------------------------------------------------------------
    @Slot()
    def reload(self) -> None:
        """Reads the study again and redraws the table, the best trial and the plots."""
        study = load_results(self.out) if self.out is not None else None
        if study is None:
            return
        header, rows = trial_rows(study)
        self._fill_table(header, rows)
        found = best(study)
        if found is not None:
            values = ", ".join(f"{k} = {_text(v)}" for k, v in found["values"].items())
            self.best_label.setText(f"Best so far: trial {found['trial']}, {found['metric']} "
                                    f"{_text(found['value'])} ({values})")
        complete = sum(1 for r in rows if r[1] == "complete")
        if complete != self._shown_complete:  # importances take a forest fit: only when a trial completed
            self._shown_complete = complete
            self._draw_importances(importances(study))
            self._draw_parallel(study, header, rows)

    def _fill_table(self, header: list[str], rows: list[list]) -> None:
        selected = self._selected_row()
        self.table.setColumnCount(len(header))
        self.table.setHorizontalHeaderLabels(header)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                item = self.table.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(r, c, item)
                item.setText(_text(value))
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        if selected is not None and selected < len(rows):
            self.table.selectRow(selected)

    def _draw_importances(self, shares: dict[str, float]) -> None:
        plot = self.importance_plot.getPlotItem()
        plot.clear()
        plot.setTitle("importance", color=self._text_colour(), size="9pt")
        names = list(shares)[::-1]
        if names:
            plot.addItem(pg.BarGraphItem(x0=0, y=list(range(len(names))), height=0.6,
                                         width=[shares[n] for n in names], brush=self._accent()))
        plot.getAxis("left").setTicks([[(i, _short(n)) for i, n in enumerate(names)]])
        plot.setXRange(0, 1)

    def _draw_parallel(self, study, header: list[str], rows: list[list]) -> None:
        plot = self.parallel_plot.getPlotItem()
        plot.clear()
        plot.setTitle("parallel coordinates (complete trials)", color=self._text_colour(), size="9pt")
        names = header[3:-2] + [header[2]]
        done = [r for r in rows if r[1] == "complete"]
        columns = [[r[3 + i] for r in done] for i in range(len(names) - 1)] + [[r[2] for r in done]]
        scaled = [_normalised(col) for col in columns]
        values = scaled[-1] if scaled else []
        good_first = study.direction.name == "MAXIMIZE"
        for x in range(len(names)):  # the axes
            plot.addItem(pg.InfiniteLine(x, angle=90, pen=pg.mkPen(self._text_colour(), width=1)))
        for i in range(len(done)):
            quality = values[i] if good_first else 1 - values[i]  # 1 for the best trial
            colour = QColor(self._accent())
            colour.setAlphaF(0.25 + 0.75 * quality)
            plot.plot(list(range(len(names))), [col[i] for col in scaled], pen=pg.mkPen(colour, width=2),
                      symbol="o", symbolSize=5, symbolBrush=colour, symbolPen=None)
        plot.getAxis("bottom").setTicks([[(i, _short(n)) for i, n in enumerate(names)]])
        plot.setXRange(-0.4, len(names) - 0.6, padding=0)  # room for the end axes' labels
        plot.setYRange(-0.05, 1.05)

    # --- helpers ----------------------------------------------------------------------
    def _selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return rows[0].row() if rows else None

    def _open_selected(self) -> None:
        row = self._selected_row()
        if row is None or self.out is None:
            return
        run = self.table.item(row, self.table.columnCount() - 1).text()
        self.open_run.emit(self.out / run)

    def _update_buttons(self) -> None:
        running = self.running
        self.start_button.setEnabled(self.project is not None and not running)
        self.stop_button.setEnabled(running)
        self.open_button.setEnabled(self._selected_row() is not None)

    def _text_colour(self) -> str:
        return self.palette().color(QPalette.ColorRole.Text).name()

    def _accent(self) -> str:
        return self.palette().color(QPalette.ColorRole.Highlight).name()

    def apply_palette(self) -> None:
        """Plot backgrounds and axes from the widget's palette (light or dark)."""
        base = self.palette().color(QPalette.ColorRole.Base)
        for widget in (self.importance_plot, self.parallel_plot):
            widget.setBackground(base)
            for name in ("left", "bottom"):
                axis = widget.getPlotItem().getAxis(name)
                axis.setPen(pg.mkPen(self._text_colour()))
                axis.setTextPen(pg.mkPen(self._text_colour()))
        self._shown_complete = -1
        self.reload()

    def changeEvent(self, event) -> None:
        if event.type() in (event.Type.PaletteChange, event.Type.ApplicationPaletteChange):
            self.apply_palette()
        super().changeEvent(event)

    def shutdown(self) -> None:
        """Ends a running sweep (the window closes); it resumes from its folder later."""
        self.stop()


def _spin(low: int, high: int, value: int, prefix: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setPrefix(prefix)
    return spin


def _environment() -> QProcessEnvironment:
    env = QProcessEnvironment.systemEnvironment()
    root = str(Path(studio.__file__).resolve().parent.parent)  # the sweep imports this same studio
    env.insert("PYTHONPATH", os.pathsep.join(filter(None, [root, env.value("PYTHONPATH")])))
    return env


def _normalised(column: list) -> list[float]:
    """Values mapped onto 0..1 (numbers by value, on a log scale over two decades; others by first appearance)."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in column) and column:
        logged = min(column) > 0 and max(column) / min(column) > 100
        points = [math.log10(v) if logged else float(v) for v in column]
        low, high = min(points), max(points)
        return [0.5 if high == low else (p - low) / (high - low) for p in points]
    order = list(dict.fromkeys(column))
    return [0.5 if len(order) < 2 else order.index(v) / (len(order) - 1) for v in column]


def _short(name: str) -> str:
    """A mark's name as an axis label: ``lr``, ``fc1.out_features`` (the table has the full one)."""
    return name.split("/")[-1].removeprefix("training.")


def _text(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
