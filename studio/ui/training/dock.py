"""`TrainingDock`: settings, Train / Pause / Stop, progress and the live dashboard in one dock.

Layout: a header (Train, Pause, Stop, the progress bar, Clear) and a message
line for failures; below, the settings form (`ConfigPanel`), the curves
(`Dashboard`) and tabs with the confusion matrix, the per-class table, the
sample predictions, the list of runs and the sweep of the project's searched
parameters (`SweepView`; a trial opens as a run in the Runs tab).

The main window needs only::

    dock = TrainingDock(window)
    window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    dock.status_message.connect(window.statusBar().showMessage)
    dock.set_project(project, path, editor)   # on every open / new / save-as; None, None on close
    if not dock.request_close(): ...          # before closing or switching projects

Before a run starts, the dock checks it (`studio.train.preflight`): a run
that would fail at its first batch is refused with the problem, a warning is
shown as the run starts, and when the data's class count differs from the
Output's the dock asks once (`dialogs.ask_classes`) whether to set the
Output to the data's count, through the editor's undo.

Signals:
    status_message(str): one line for the status bar (started, finished, failed).
    running_changed(bool): a run began or ended.
    run_ended(object): the last event of a run (`RunFinished` or `RunFailed`); also, when
        a saved project opens, that of its newest run on disk that left final weights.
    checkpoint_saved(str): the path of a checkpoint now complete on disk.
    gradients_flagged(dict): network name -> {node id: "vanishing" or "exploding"}, from the
        latest per-layer measurement (`studio.train.layer_stats.flagged_nodes`); {} when cleared.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QColor, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QDockWidget, QHBoxLayout, QLabel, QMessageBox, QProgressBar, QSplitter, QStyle, QTabWidget,
    QToolButton, QVBoxLayout, QWidget,
)

from studio.data import SOURCES, class_count
from studio.errors import StudioError
from studio.graph import Analyzer
from studio.train import BatchEnded, CheckpointSaved, EpochEnded, RunFailed, RunFinished, RunStarted
from studio.train.checkpoint import files_summary
from studio.train.run_folders import next_run_dir, read_run
from studio.train.metric_registry import summary_line
from studio.train.run_state import RunState
from studio.ui.training.config_panel import ConfigPanel
from studio.ui.training.confusion import ClassTable, ConfusionView
from studio.train.preflight import class_mismatch, run_problems
from studio.train.process import warm_up
from studio.ui import dialogs
from studio.ui.training.controller import TrainingController
from studio.ui.training.compare import RunComparison
from studio.ui.training.ensemble_runs import EnsembleFromRuns, ensemble_source
from studio.ui.training.dashboard import Dashboard, run_colour
from studio.ui.training.runs import RunRecord, RunsTable, record_of, run_stem, runs_root, saved_runs
from studio.ui.training.samples import SamplesGrid
from studio.ui.training.histograms import LayerStatsView
from studio.ui.training.explain_view import ExplainView
from studio.train.events import LayersMeasured
from studio.train.layer_stats import flagged_nodes
from studio.ui.training.sweep_view import SweepView
from studio.ui.training.task_views import OTHER, TaskViews
from studio.ui.training.test_view import EvaluateView


_HINT = "Set the training options on the left, then press Train (F5)."
_NO_PROJECT = "Open or create a project to train."


def confirm_stop(parent: QWidget | None) -> bool:
    """Ask whether to stop the running training to close; tests replace this function."""
    answer = QMessageBox.question(
        parent, "Training is running",
        "Training is running: stop it and close?\n\nThe last epoch's checkpoint is kept.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


class TrainingDock(QDockWidget):
    """The training dock of the main window (see the module docstring for its signals)."""

    status_message = Signal(str)
    running_changed = Signal(bool)
    run_ended = Signal(object)
    checkpoint_saved = Signal(str)
    gradients_flagged = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Training", parent)
        self.setObjectName("Training")
        self.project = None
        self.path: Path | None = None
        self.editor = None
        self._asked: set[tuple] = set()  # the class counts asked about for this project
        self.records: list[RunRecord] = []
        self.current: RunRecord | None = None
        self.class_names: list[str] | None = None
        self.controller = TrainingController(self)
        warm_up()  # the fork server and the first run's child start now, in the background
        self._make_actions()
        self._make_widgets()
        self._connect()
        self._update_buttons()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # --- construction -----------------------------------------------------------------
    def _make_actions(self) -> None:
        self.start_action = self._action("Train", "F5", QStyle.StandardPixmap.SP_MediaPlay, self.start,
                                         "Train the network with these settings (F5)")
        self.pause_action = self._action("Pause", "F6", QStyle.StandardPixmap.SP_MediaPause,
                                         self.toggle_pause, "Pause or resume after the current batch (F6)")
        self.stop_action = self._action("Stop", "Shift+F5", QStyle.StandardPixmap.SP_MediaStop, self.stop,
                                        "Stop after the current batch; checkpoints are kept (Shift+F5)")
        self.clear_action = self._action("Clear runs", None, QStyle.StandardPixmap.SP_DialogResetButton,
                                         self.clear_runs, "Remove the curves of earlier runs")

    def _action(self, text: str, shortcut: str | None, icon, slot, tip: str) -> QAction:
        action = QAction(self.style().standardIcon(icon), text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _button(self, action: QAction) -> QToolButton:
        button = QToolButton()
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setAutoRaise(False)
        return button

    def _make_widgets(self) -> None:
        body = QWidget()
        outer = QVBoxLayout(body)
        outer.setContentsMargins(6, 4, 6, 4)
        outer.setSpacing(4)
        header = QHBoxLayout()
        header.setSpacing(6)
        self.train_button = self._button(self.start_action)
        self.pause_button = self._button(self.pause_action)
        self.stop_button = self._button(self.stop_action)
        self.clear_button = self._button(self.clear_action)
        self.progress = QProgressBar()
        self.progress.setMinimumWidth(320)
        self.progress.setTextVisible(True)
        self.progress.setFormat("Ready")
        self.progress.setValue(0)
        for w in (self.train_button, self.pause_button, self.stop_button):
            header.addWidget(w)
        header.addWidget(self.progress, 1)
        header.addWidget(self.clear_button)
        outer.addLayout(header)
        self.summary = QLabel(_NO_PROJECT)
        self.summary.setWordWrap(True)  # the end of a run names its files
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.summary)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setVisible(False)
        outer.addWidget(self.message)

        self.panel = ConfigPanel()
        self.dashboard = Dashboard()
        self.confusion = ConfusionView()
        self.class_table = ClassTable()
        self.samples = SamplesGrid()
        self.runs_table = RunsTable()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.confusion, "Confusion")
        self.tabs.addTab(self.class_table, "Per class")
        self.tabs.addTab(self.samples, "Samples")
        self.tabs.addTab(self.runs_table, "Runs")
        self.layer_stats = LayerStatsView()
        self.tabs.addTab(self.layer_stats, "Layers")
        self.tabs.setTabVisible(self.tabs.indexOf(self.layer_stats), False)  # shown when a measurement arrives
        self._flagged: dict = {}
        self.explain_view = ExplainView()
        self.tabs.addTab(self.explain_view, "Explain")
        self.tabs.setTabVisible(self.tabs.indexOf(self.explain_view), False)  # shown when a confusion cell is clicked
        self.confusion.cell_clicked.connect(self._explain_cell)
        self.sweep_view = SweepView()
        self.tabs.addTab(self.sweep_view, "Sweep")
        self.sweep_view.open_run.connect(self._open_trial)
        self.test_view = EvaluateView()
        self.tabs.addTab(self.test_view, "Test")
        self.compare = RunComparison(self.runs_table, lambda: self.records, run_colour)  # two runs picked in Runs
        self.tabs.addTab(self.compare, "Compare")
        self.compare.compared.connect(self._show_comparison)
        self.ensembles = EnsembleFromRuns(  # the Runs table's menu: runs picked there become an ensemble project
            self.runs_table, lambda: self.records, lambda: self.path.parent if self.path is not None else None, self)
        for view in (self.confusion, self.class_table, self.samples, self.compare, self.test_view):  # shown when their data arrives
            self.tabs.setTabVisible(self.tabs.indexOf(view), False)
        self.task_views = TaskViews(self.tabs, before=self.confusion)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.panel)
        self.splitter.addWidget(self.dashboard)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([360, 620, 420])  # the tabs get room for a 10-class confusion matrix
        self._latest: EpochEnded | None = None
        self._stale: set[str] = set()
        self._views_timer = QTimer(self)
        self._views_timer.setSingleShot(True)
        self._views_timer.setInterval(500)
        self._views_timer.timeout.connect(self.refresh_views)
        self.tabs.currentChanged.connect(self.refresh_views)
        self.state = RunState()  # the run on show: phase and progress figures, drawn by _draw_progress
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(200)
        self._progress_timer.timeout.connect(self._show_progress)
        outer.addWidget(self.splitter, 1)
        self.setWidget(body)
        self._style_message()

    def _connect(self) -> None:
        c = self.controller
        c.run_started.connect(self._run_started)
        c.batch_ended.connect(self._batch_ended)
        c.epoch_ended.connect(self._epoch_ended)
        c.layers_measured.connect(self._layers_measured)
        c.checkpoint_saved.connect(self._checkpoint_saved)
        c.run_finished.connect(self._run_finished)
        c.run_failed.connect(self._run_failed)
        c.run_warning.connect(self._show_message)
        c.not_started.connect(self._not_started)
        c.running_changed.connect(self._running_changed)
        c.paused_changed.connect(self._paused_changed)
        self.run_ended.connect(self._offer_test)

    # --- the project ------------------------------------------------------------------
    def set_project(self, project: Any, path: Path | None, editor: Any = None) -> None:
        """Edit and train ``project`` (saved at ``path``, or None when unsaved); None: no project is open.

        ``editor``, the window's `Editor` of the project, lends its analysis
        and its undoable edits: a settings change in the panel is an edit
        like any other (None: a fresh analysis, plain edits). A different
        project clears the dashboard (unless a run is going: its curves stay
        until it ends), then lists the runs it has on disk and sends the
        newest finished one's last event with `run_ended`, so its weights
        are offered again.
        """
        opened = project is not self.project and not self.running
        if project is not self.project:
            self._asked = set()
        if opened:
            self.clear_runs(all_runs=True)
            self._show_message("")
            self.state = RunState()
            self._draw_progress()
            self.summary.setText(_HINT if project is not None else _NO_PROJECT)
            self._test_source(None)  # another project's weights are not this one's
        self.project, self.editor = project, editor
        self.path = Path(path) if path is not None else None
        self.panel.path = self.path
        self.panel.set_project(project, editor.set_setting if editor is not None else None)
        self.sweep_view.set_project(project, self.path)
        self._update_buttons()
        if opened:
            self._show_saved_runs()
            self._offer_ensemble()

    def _show_saved_runs(self) -> None:
        """List the project's runs found on disk; offer the newest finished one's weights."""
        records, last = saved_runs(self.project, self.path)
        if not records:
            return
        self.records = records
        self._refresh_runs()
        self.summary.setText(f"{len(records)} earlier run(s) of this project in {records[-1].out_dir.parent} "
                             f"(the Runs tab lists them)")
        if last is not None:
            self.run_ended.emit(last)

    def _offer_ensemble(self) -> None:
        """An ensemble made from runs (`ensemble_runs`): the Test tab evaluates it beside its members."""
        found = ensemble_source(self.project, self.path)
        if found is not None:
            weights, members = found
            self.test_view.set_source(self.project, weights, self.path.parent, members)
            self.tabs.setTabVisible(self.tabs.indexOf(self.test_view), True)
            self.tabs.setCurrentWidget(self.test_view)

    @Slot(object)
    def _open_trial(self, folder) -> None:
        """Lists a sweep trial's run in the Runs tab and offers its weights, as an earlier run would be."""
        run = read_run(Path(folder), self._next_number())
        self.records.append(record_of(run))
        self._refresh_runs()
        self.tabs.setCurrentWidget(self.runs_table)
        self._say(f"trial run {folder} opened as run {run.number}")
        if run.final_weights is not None:
            self.run_ended.emit(run.result)

    @property
    def running(self) -> bool:
        """Whether a run is going (preparing, training, paused or stopping)."""
        return self.controller.running

    # --- user intent ------------------------------------------------------------------
    @Slot()
    def start(self) -> bool:
        """Start a run with the project's settings; False (and a message) when it cannot start."""
        if self.project is None:
            self._say(_NO_PROJECT)
            return False
        if self.running:
            return False
        self._show_message("")
        training, data = dict(self.project.training or {}), dict(self.project.data or {})
        root = self.path.parent if self.path is not None else None
        warnings = self._checked(training, data, root)
        if warnings is None:
            return False
        out_dir = next_run_dir(runs_root(self.path), run_stem(self.project, self.path))
        record = RunRecord(number=self._next_number(), out_dir=out_dir)
        try:
            self.controller.start(self.project, training, data, root, record.out_dir)
        except StudioError as exc:
            self._cannot_start(str(exc))
            return False
        if warnings:
            self._show_message("Training, but: " + " · ".join(str(w) for w in warnings))
        self.dashboard.begin_run(record.number)  # its events are handled after this returns
        self._clear_layer_stats()
        self.records.append(record)
        self.current = record
        self.class_names = None
        self.state = RunState(phase="starting")
        self._draw_progress()
        self.summary.setText(f"{record.label}: preparing; writing to {record.out_dir}")
        self._refresh_runs()
        return True

    def _checked(self, training: dict, data: dict, root: Path | None) -> list | None:
        """The warnings of the run about to start, or None (and the message) when it would fail."""
        try:
            if not self._settle_classes(training, data, root):
                return None
            analyzer = self.editor.analyzer if self.editor is not None else Analyzer(self.project)
            errors, warnings = run_problems(self.project, analyzer, training)
        except StudioError as exc:
            self._cannot_start(str(exc))
            return None
        if errors:
            more = f" (and {len(errors) - 1} more in the Problems list)" if len(errors) > 1 else ""
            self._cannot_start(f"{errors[0]}{more}")
            return None
        return warnings

    def _settle_classes(self, training: dict, data: dict, root: Path | None) -> bool:
        """Asks once whether to train with the data's class count where it differs; False when the run would fail."""
        source = SOURCES.get(data.get("source", "digits"))
        if source is None or source.kind == "file":  # reading the user's files would hold up the window: the run checks
            return True
        analyzer = self.editor.analyzer if self.editor is not None else None
        mismatch = class_mismatch(self.project, training, data, lambda: class_count(data, root), analyzer)
        if mismatch is None:
            return True
        key = (mismatch.output.id, mismatch.drawn, mismatch.data)
        if mismatch.settable and key not in self._asked:
            self._asked.add(key)
            if dialogs.ask_classes(self, str(mismatch), mismatch.data, mismatch.drawn):
                action = partial(mismatch.network.set_params, mismatch.output.id, {"classes": mismatch.data})
                if self.editor is not None:
                    self.editor.edit(f"set {mismatch.output.name}.classes", action)
                else:
                    action()
                return True
        if mismatch.data > mismatch.drawn:
            self._cannot_start(mismatch.unlearnable)
            return False
        return True

    def _cannot_start(self, text: str) -> None:
        self._show_message(f"Cannot start training: {text}")
        self._say(f"Cannot start training: {text}")

    @Slot()
    def toggle_pause(self) -> None:
        if self.controller.paused:
            self.controller.resume()
        else:
            self.controller.pause()

    @Slot()
    def pause(self) -> None:
        self.controller.pause()

    @Slot()
    def resume(self) -> None:
        self.controller.resume()

    @Slot()
    def stop(self) -> None:
        """Stop the run after its current batch (its last epoch checkpoint stays)."""
        if self.running:
            self.controller.stop()
            self.state.stopping()
            self._draw_progress()
            self.stop_action.setEnabled(False)

    @Slot()
    def clear_runs(self, all_runs: bool = False) -> None:
        """Forget earlier runs (their files stay on disk); the running one is kept."""
        keep = self.current if self.running and not all_runs else None
        self.dashboard.clear(keep=keep.number if keep else None)
        self.records = [keep] if keep else []
        if keep is None:
            self.current = None
            self._latest = None
            self.confusion.clear()
            self.class_table.clear_rows()
            self.samples.clear()
            for view in (self.confusion, self.class_table, self.samples):
                self.tabs.setTabVisible(self.tabs.indexOf(view), False)
            self._clear_layer_stats()
            self.explain_view.clear()
            self.tabs.setTabVisible(self.tabs.indexOf(self.explain_view), False)
        self.task_views.clear(keep.number if keep else None)
        self._refresh_runs()

    def request_close(self) -> bool:
        """Whether the window may close: asks first while training, then stops and waits.

        The run stops after its current batch; its last epoch checkpoint stays on disk.
        """
        if not self.running:
            return True
        if not confirm_stop(self.window()):
            return False
        self.shutdown()
        return not self.running

    @Slot()
    def shutdown(self) -> None:
        """Stop any run without asking and wait for it to end (killing it if it does not answer)."""
        self.sweep_view.shutdown()  # a sweep resumes from its folder later
        self.panel.wait_for_jobs()  # the augmentation preview and the lr finder run in threads of their own
        self.test_view.wait()
        if self.running:
            self.controller.stop()
            if not self.controller.wait(30_000):
                self.controller.kill()
                self.controller.wait()

    def _next_number(self) -> int:
        return max((r.number for r in self.records), default=0) + 1

    # --- events (GUI thread) ----------------------------------------------------------
    @Slot(object)
    def _run_started(self, e: RunStarted) -> None:
        r = self.current
        if r is None:
            return
        r.status = "running"
        self.class_names = e.class_names
        self.state.apply(e)
        self._draw_progress()
        self.dashboard.set_epochs(e.total_epochs)
        self.task_views.set_epochs(self.dashboard.epochs)
        extras = ", bf16" if e.mixed_precision else ""
        self.summary.setText(f"{r.label}: training on {e.device}{extras}, {e.total_epochs} epochs "
                             f"of {e.batches_per_epoch} batches; writing to {r.out_dir}")
        self._say(f"Training {r.label} on {e.device}")
        self._refresh_runs()

    @Slot(object)
    def _batch_ended(self, e: BatchEnded) -> None:
        r = self.current
        if r is None:
            return
        self.dashboard.add_batch(r.number, e)
        self.state.apply(e)
        if not self._progress_timer.isActive():
            self._progress_timer.start()

    @Slot(object)
    def _layers_measured(self, e: LayersMeasured) -> None:
        """Per-layer histograms: into the Layers tab; nodes whose gradients vanish or explode, to the canvas."""
        if self.current is None:
            return
        self.layer_stats.add(e)
        index = self.tabs.indexOf(self.layer_stats)
        if not self.tabs.isTabVisible(index):
            self.tabs.setTabVisible(index, True)
        if self.tabs.currentWidget() is self.layer_stats:
            self.layer_stats.refresh()
        flagged = flagged_nodes(self.project, e) if self.project is not None else {}
        if flagged != self._flagged:
            self._flagged = flagged
            self.gradients_flagged.emit(flagged)

    @Slot(int, int)
    def _explain_cell(self, true: int, pred: int) -> None:
        """A confusion cell was clicked: its samples, from the shown run's weights, in the Explain tab."""
        record = self.current or (self.records[-1] if self.records else None)
        weights = None
        if record is not None:
            final = Path(record.out_dir) / "final.pt"
            weights = final if final.exists() else record.last_checkpoint
        if weights is None or self.project is None:
            self._say("No trained weights to explain yet: let an epoch finish first")
            return
        self.explain_view.set_source(self.project, weights, self.path.parent if self.path is not None else None)
        index = self.tabs.indexOf(self.explain_view)
        self.tabs.setTabVisible(index, True)
        self.tabs.setCurrentIndex(index)
        self.explain_view.show_cell(true, pred, self.class_names)

    def _clear_layer_stats(self) -> None:
        self.layer_stats.clear()
        self.tabs.setTabVisible(self.tabs.indexOf(self.layer_stats), False)
        if self._flagged:
            self._flagged = {}
            self.gradients_flagged.emit({})

    @Slot()
    def _show_progress(self) -> None:
        """The progress bar and its text from the latest batch event (at most 5 times a second)."""
        if self.state.phase in ("running", "paused"):
            self._draw_progress()

    def _draw_progress(self) -> None:
        """The progress bar as `state` says: busy while starting, batches done of all, its line of text."""
        st = self.state
        self.progress.setRange(0, 0 if st.phase == "starting" else max(st.total_batches, 1))
        self.progress.setValue(min(st.done_batches, self.progress.maximum()))
        self.progress.setFormat(st.progress_text())

    @Slot(object)
    def _epoch_ended(self, e: EpochEnded) -> None:
        r = self.current
        if r is None:
            return
        m = e.metrics
        r.epochs.append({k: v for k, v in m.items() if isinstance(v, (int, float, str))})
        self.dashboard.add_epoch(r.number, e)
        self._show_tabs(r.number, e)
        self.summary.setText(f"{r.label}, epoch {e.epoch}: {summary_line(m)}")
        self._latest = e
        self._stale = {"confusion", "classes", "samples", "runs"}
        if not self._views_timer.isActive():
            self._views_timer.start()

    def _show_tabs(self, number: int, e: EpochEnded) -> None:
        """Hand the epoch to the task views; show the tabs whose data arrived for the first time."""
        m = e.metrics
        runs_shown = self.tabs.currentWidget() is self.runs_table
        made = self.task_views.add_epoch(number, e.epoch, m)
        appeared = [self.tabs.indexOf(self.task_views.view(t)) for t in made]
        for view, present in ((self.confusion, "val_confusion" in m), (self.class_table, "val_confusion" in m),
                              (self.samples, bool(m.get("samples")))):
            index = self.tabs.indexOf(view)
            if present and not self.tabs.isTabVisible(index):
                self.tabs.setTabVisible(index, True)
                appeared.append(index)
        if appeared and runs_shown:  # the first figures of a task: show them rather than the runs list
            other_view = self.task_views.view(OTHER)
            other = self.tabs.indexOf(other_view) if other_view is not None else -1
            self.tabs.setCurrentIndex(min(appeared, key=lambda i: (i == other, i)))  # "Other metrics" last

    @Slot()
    def refresh_views(self) -> None:
        """Bring the visible tab up to date with the latest epoch (the others wait until shown).

        Epochs of a small network can end several times a second; drawing only
        the visible tab, at most twice a second, keeps the GUI thread light.
        """
        self._refresh_view(self.tabs.currentWidget())

    def _refresh_view(self, current) -> None:
        """Bring the view ``current`` up to date with the latest epoch."""
        if self.task_views.is_view(current):
            self.task_views.refresh(current)
            return
        if current is self.layer_stats:
            self.layer_stats.refresh()
            return
        e = self._latest
        if current is self.runs_table and "runs" in self._stale:
            self._refresh_runs()
        if e is None:
            self._stale.discard("runs")
            return
        m = e.metrics
        if current is self.confusion and "confusion" in self._stale and "val_confusion" in m:
            self.confusion.show_matrix(m["val_confusion"], self.class_names, e.epoch)
        if current is self.class_table and "classes" in self._stale and "val_confusion" in m:
            self.class_table.show_metrics(m, self.class_names)
        if current is self.samples and "samples" in self._stale and m.get("samples"):
            self.samples.show_samples(m["samples"], e.epoch)
        self._stale.discard({self.confusion: "confusion", self.class_table: "classes",
                             self.samples: "samples", self.runs_table: "runs"}.get(current))

    def _refresh_shown(self) -> None:
        """The end of a run: every point on the curves and the visible tab up to date (the rest when shown)."""
        self.dashboard.flush()
        self.refresh_views()

    def refresh_all(self) -> None:
        """Draw every view now (the end of a run, tests, screenshots)."""
        self.dashboard.flush()
        for i in range(self.tabs.count()):
            self._refresh_view(self.tabs.widget(i))

    @Slot(object)
    def _checkpoint_saved(self, e: CheckpointSaved) -> None:
        if self.current is not None:
            self.current.last_checkpoint = e.path
        self.checkpoint_saved.emit(e.path)

    @Slot(object)
    def _run_finished(self, e: RunFinished) -> None:
        r = self.current
        if r is not None:
            r.status, r.test = e.reason, e.test
        self._progress_timer.stop()  # a batch's progress text must not come after this
        self.state.apply(e)
        self._draw_progress()
        text = f"Training {self.state.ended_as} after {e.epochs_run} epoch(s)"
        if e.best_epoch:
            best = summary_line(e.best)
            text += f"; best epoch {e.best_epoch}" + (f": {best}" if best else "")
        if e.test:
            text += f"; test: {summary_line(e.test, prefix='test_')}"
        if r is not None:
            text += f". Files in {files_summary(r.out_dir)}"
        self.summary.setText(text)
        self._say(text)
        self._stale.add("runs")  # its status and test figures
        self._refresh_shown()
        self.run_ended.emit(e)
        if e.final_weights and e.reason != "stopped":
            self.test_view.evaluate()  # in a worker thread: the Test tab fills in when it is done

    @Slot(object)
    def _offer_test(self, e: Any) -> None:
        """The Test tab evaluates the weights of the run that ended (or of the newest saved run)."""
        self._test_source(getattr(e, "final_weights", None))

    def _test_source(self, weights: str | Path | None) -> None:
        """The Test tab evaluates `weights`; it shows only while there are weights to evaluate."""
        root = self.path.parent if self.path is not None else None
        self.test_view.set_source(self.project if weights else None, weights, root)
        self.tabs.setTabVisible(self.tabs.indexOf(self.test_view), bool(weights))

    @Slot(object)
    def _run_failed(self, e: RunFailed) -> None:
        r = self.current
        if r is not None:
            r.status, r.message = "failed", e.message
            self.summary.setText(f"{r.label}: failed after {len(r.epochs)} epoch(s). "
                                 f"Files in {files_summary(r.out_dir)}")
            self._refresh_runs()
        self._progress_timer.stop()
        self._show_message(f"Training failed: {e.message}")
        self.state.apply(e)
        self._draw_progress()
        self._say(f"Training failed{self.state.ended_as}: {e.message}")
        self._refresh_shown()
        self.run_ended.emit(e)

    @Slot(str)
    def _not_started(self, message: str) -> None:
        r = self.current
        if r is not None:  # it never trained: no run to keep
            self.records.remove(r)
            self.dashboard.remove_run(r.number)
            self.current = None
        self._cannot_start(message)
        self.state.not_started()
        self._draw_progress()
        self.summary.setText("Fix the settings, then press Train again.")
        self._refresh_runs()

    @Slot(bool)
    def _running_changed(self, running: bool) -> None:
        if not running and self.state.active:  # ended before any last event
            self.state.not_started()
            self._draw_progress()
        self.panel.setEnabled(not running and self.project is not None)
        self._update_buttons()
        self.running_changed.emit(running)

    @Slot(bool)
    def _paused_changed(self, paused: bool) -> None:
        r = self.current
        self.state.set_paused(paused)
        if r is not None and r.status in ("running", "paused"):
            r.status = self.state.phase
        self._draw_progress()
        self._say("Training paused" if paused else "Training resumed")
        self._update_buttons()
        self._refresh_runs()

    # --- look -------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        running = self.running
        self.start_action.setEnabled(not running and self.project is not None)
        self.pause_action.setEnabled(running)
        self.stop_action.setEnabled(running)
        paused = self.controller.paused
        self.pause_action.setText("Resume" if paused else "Pause")
        self.pause_action.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaPlay if paused else QStyle.StandardPixmap.SP_MediaPause))

    @Slot()
    def _show_comparison(self) -> None:
        """Two runs were picked in the Runs tab: show the Compare tab."""
        self.tabs.setTabVisible(self.tabs.indexOf(self.compare), True)
        self.tabs.setCurrentWidget(self.compare)

    def _refresh_runs(self) -> None:
        self.runs_table.show_runs(self.records, run_colour)

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self._style_message()

    def _style_message(self) -> None:
        dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        fg, bg = ("#ff8a80", "#4a2624") if dark else ("#a1201a", "#fde8e6")
        self.message.setStyleSheet(
            f"QLabel {{ color: {fg}; background: {bg}; border: 1px solid {QColor(fg).name()}; "
            f"border-radius: 4px; padding: 6px; }}")

    def changeEvent(self, event) -> None:
        from PySide6.QtCore import QEvent

        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._style_message()
        super().changeEvent(event)

    def _say(self, text: str) -> None:
        self.status_message.emit(text)
