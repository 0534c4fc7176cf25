"""`TrainingDock`: settings, Train / Pause / Stop, progress and the live dashboard in one dock.

Layout: the header (`RunHeader`: Train, Pause, Stop, the progress bar,
Clear), the run's summary line and a message line for failures; below, the
settings form (`ConfigPanel`), the curves (`Dashboard`) and the tabs of
figures (`ResultTabs`). Before a run starts it is checked (`StartCheck`);
its events are drawn by `RunEvents` (`run_events.py`).
The main window needs only::

    dock = TrainingDock(window)
    dock.set_project(project, path, editor)   # on every open / new / save-as; None, None on close
    if not dock.request_close(): ...          # before closing or switching projects

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

from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, Qt, Signal, Slot
from PySide6.QtWidgets import QDockWidget, QLabel, QSplitter, QVBoxLayout, QWidget

from studio.errors import StudioError
from studio.train.ensemble import ensemble_source
from studio.train.run_folders import next_run_dir, read_run
from studio.train.run_state import RunState
from studio.ui import dialogs
from studio.ui.training.config_panel import ConfigPanel
from studio.ui.training.controller import TrainingController
from studio.ui.training.dashboard import Dashboard
from studio.ui.training.ensemble_runs import EnsembleFromRuns
from studio.ui.training.message_line import MessageLine
from studio.ui.training.result_tabs import ResultTabs
from studio.ui.training.run_events import RunEvents
from studio.ui.training.run_header import RunHeader
from studio.ui.training.runs import RunRecord, record_of, run_stem, runs_root, saved_runs
from studio.ui.training.start_check import StartCheck


_HINT = "Set the training options on the left, then press Train (F5)."
_NO_PROJECT = "Open or create a project to train."


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
        self.start_check = StartCheck()
        self.records: list[RunRecord] = []
        self.current: RunRecord | None = None
        self.shows_ensemble = False  # the project is an ensemble: its Test tab is what to show first
        self.controller = TrainingController(self)
        self._make_widgets()
        self.events = RunEvents(self)  # the run's events, drawn
        self._connect()
        self._update_buttons()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # --- construction -----------------------------------------------------------------
    def _make_widgets(self) -> None:
        body = QWidget()
        outer = QVBoxLayout(body)
        outer.setContentsMargins(6, 4, 6, 4)
        outer.setSpacing(4)
        self.header = RunHeader(self, self.start, self.toggle_pause, self.stop, self.clear_runs)
        outer.addWidget(self.header)
        self.summary = self._label(_NO_PROJECT)  # word-wrapped: the end of a run names its files
        self.message = MessageLine()
        for label in (self.summary, self.message):
            outer.addWidget(label)
        self.panel = ConfigPanel()
        self.dashboard = Dashboard()
        self.tabs = ResultTabs(lambda: self.records)
        self.tabs.confusion.cell_clicked.connect(self._explain_cell)
        self.tabs.sweep_view.open_run.connect(self._open_trial)
        self.ensembles = EnsembleFromRuns(  # the Runs table's menu: runs picked there become an ensemble project
            self.tabs.runs_table, lambda: self.records, lambda: self.path.parent if self.path is not None else None,
            self)
        self.tabs.compare.offer(self.ensembles.action)  # picking two runs brings Compare up: offer it there too
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        for i, (widget, stretch) in enumerate(((self.panel, 0), (self.dashboard, 3), (self.tabs, 2))):
            self.splitter.addWidget(widget)
            self.splitter.setStretchFactor(i, stretch)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([360, 620, 420])  # the tabs get room for a 10-class confusion matrix
        self.state = RunState()  # the run on show: phase and progress figures, drawn by the header
        outer.addWidget(self.splitter, 1)
        self.setWidget(body)

    @staticmethod
    def _label(text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def _connect(self) -> None:
        c, events = self.controller, self.events
        c.run_started.connect(events.run_started)
        c.batch_ended.connect(events.batch_ended)
        c.epoch_ended.connect(events.epoch_ended)
        c.layers_measured.connect(events.layers_measured)
        c.checkpoint_saved.connect(events.checkpoint_saved)
        c.run_finished.connect(events.run_finished)
        c.run_failed.connect(events.run_failed)
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
            self.start_check.forget()
        if opened:
            self.clear_runs(all_runs=True)
            self._show_message("")
            self.state = RunState()
            self._draw_progress()
            self.summary.setText(_HINT if project is not None else _NO_PROJECT)
            self._test_source(None)  # another project's weights are not this one's
        self.project, self.editor = project, editor
        if project is not None and not self.running:  # something to train: the next run's child starts now
            self.controller.get_ready()
        self.path = Path(path) if path is not None else None
        self.panel.path = self.path
        self.panel.set_project(project, editor.set_setting if editor is not None else None)
        self.tabs.sweep_view.set_project(project, self.path)
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
        self.dashboard.set_epochs(max((len(r.epochs) for r in records), default=1) or 1)
        for record in records:  # their curves, as they ended: nothing a run drew is lost by closing
            self.dashboard.show_saved_run(record.number, record.epochs)
        self.summary.setText(f"{len(records)} earlier run(s) of this project in {records[-1].out_dir.parent} "
                             f"(the Runs tab lists them)")
        if last is not None:
            self.run_ended.emit(last)

    def _offer_ensemble(self) -> None:
        """An ensemble made from runs (`ensemble_runs`): the Test tab evaluates it beside its members."""
        found = ensemble_source(self.project, self.path)
        if found is not None:
            weights, members = found
            self.tabs.test_view.set_source(self.project, weights, self.path.parent, members)
            self.tabs.bring_up(self.tabs.test_view)
        self.shows_ensemble = found is not None

    @Slot(object)
    def _open_trial(self, folder) -> None:
        """Lists a sweep trial's run in the Runs tab and offers its weights, as an earlier run would be."""
        run = read_run(Path(folder), self._next_number())
        self.records.append(record_of(run))
        self._refresh_runs()
        self.tabs.setCurrentWidget(self.tabs.runs_table)
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
        try:
            warnings = self.start_check.warnings(self, self.project, self.editor, training, data, root)
        except StudioError as exc:
            self._cannot_start(str(exc))
            return False
        out_dir = next_run_dir(runs_root(self.path), run_stem(self.project, self.path))
        # "run 5" writes <name>-5, also past a folder that a failed run left without metrics (not listed)
        folder_number = int(out_dir.name.rsplit("-", 1)[1])
        record = RunRecord(number=max(folder_number, self._next_number()), out_dir=out_dir)
        try:
            self.controller.start(self.project, training, data, root, record.out_dir)
        except StudioError as exc:
            self._cannot_start(str(exc))
            return False
        if warnings:
            self._show_message("Training, but: " + " · ".join(str(w) for w in warnings))
        self.dashboard.begin_run(record.number)  # its events are handled after this returns
        self.events.clear_flags()
        self.tabs.layer_stats.clear()
        self.tabs.reveal(self.tabs.layer_stats, False)
        self.records.append(record)
        self.current = record
        self.tabs.class_names = None
        self.state = RunState(phase="starting")
        self._draw_progress()
        self.summary.setText(f"{record.label}: preparing; writing to {record.out_dir}")
        self._refresh_runs()
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
            self.header.stop_action.setEnabled(False)

    @Slot()
    def clear_runs(self, all_runs: bool = False) -> None:
        """Forget earlier runs (their files stay on disk); the running one is kept."""
        keep = self.current if self.running and not all_runs else None
        self.dashboard.clear(keep=keep.number if keep else None)
        self.records = [keep] if keep else []
        if keep is None:
            self.current = None
            self.events.clear_flags()
        self.tabs.clear(keep.number if keep else None)

    def request_close(self) -> bool:
        """Whether the window may close: asks first while training, then stops and waits.

        The run stops after its current batch; its last epoch checkpoint stays on disk.
        """
        if not self.running:
            return True
        if not dialogs.confirm_stop(self.window()):
            return False
        self.shutdown()
        return not self.running

    @Slot()
    def shutdown(self) -> None:
        """Stop any run without asking and wait for it to end (killing it if it does not answer)."""
        self.tabs.sweep_view.shutdown()  # a sweep resumes from its folder later
        self.ensembles.wait()  # an ensemble being written in its worker thread
        self.panel.wait_for_jobs()  # the augmentation preview and the lr finder run in threads of their own
        self.tabs.test_view.wait()
        self.tabs.explain_view.wait()  # a load or an explanation in its worker thread
        if self.running:
            self.controller.stop()
            if not self.controller.wait(30_000):
                self.controller.kill()
                self.controller.wait()

    def _next_number(self) -> int:
        return max((r.number for r in self.records), default=0) + 1

    # --- events (GUI thread; a run's progress and figures are drawn by `RunEvents`) ---------
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
        self.tabs.explain(self.project, weights, self.path.parent if self.path is not None else None, true, pred)

    def _draw_progress(self) -> None:
        self.header.draw(self.state)

    def refresh_all(self) -> None:
        """Draw every view now (the end of a run, tests, screenshots)."""
        self.dashboard.flush()
        self.tabs.refresh_all()

    @Slot(object)
    def _offer_test(self, e: Any) -> None:
        """The Test tab evaluates the weights of the run that ended (or of the newest saved run)."""
        self._test_source(getattr(e, "final_weights", None))

    def _test_source(self, weights: str | Path | None) -> None:
        self.tabs.set_test_source(self.project, weights, self.path.parent if self.path is not None else None)

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
        self.header.set_running(self.running, self.controller.paused, self.project is not None)

    def _refresh_runs(self) -> None:
        self.tabs.refresh_runs()

    def _show_message(self, text: str) -> None:
        self.message.show_text(text)

    def changeEvent(self, event) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self.message.restyle()
        super().changeEvent(event)

    def _say(self, text: str) -> None:
        self.status_message.emit(text)
