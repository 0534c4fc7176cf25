"""`RunEvents`: what the events of the run on show draw in the training dock.

The dock's controller sends each event of the child process as a queued
signal (`TrainingController`); these slots put it where it shows: the
run's `RunRecord` (status, epochs, last checkpoint, test figures), the
dock's `RunState` and the header's progress bar (a batch's at most 5 times
a second), the summary line, the curves (`Dashboard`) and the tabs of
figures (`ResultTabs`). The dock keeps what a run's start, pause and end
change in its own controls (`TrainingDock._not_started`, `_paused_changed`,
`_running_changed`).

Per-layer measurements also flag the layers whose gradients vanish or
explode; a change of those flags leaves as the dock's `gradients_flagged`.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Slot

from studio.train import BatchEnded, CheckpointSaved, EpochEnded, RunFailed, RunFinished, RunStarted
from studio.train.checkpoint import files_summary
from studio.train.events import LayersMeasured
from studio.train.layer_stats import flagged_nodes
from studio.train.metric_registry import summary_line
from studio.train.run_state import finished_line, started_line


class RunEvents(QObject):
    """Draws the run's events in `dock` (a `TrainingDock`; see the module docstring)."""

    def __init__(self, dock):
        super().__init__(dock)
        self.dock = dock
        self._flagged: dict = {}
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(200)
        self._progress_timer.timeout.connect(self._show_progress)

    @Slot(object)
    def run_started(self, e: RunStarted) -> None:
        """The run trains: its device, epochs and class names; the header shows its progress from now on."""
        d, r = self.dock, self.dock.current
        if r is None:
            return
        r.status = "running"
        d.tabs.class_names = e.class_names
        d.state.apply(e)
        self._draw_progress()
        d.dashboard.set_epochs(e.total_epochs)
        d.tabs.task_views.set_epochs(d.dashboard.epochs)
        d.summary.setText(started_line(e, r.label, r.out_dir))
        self._say(f"Training {r.label} on {e.device}")
        d.tabs.refresh_runs()

    @Slot(object)
    def batch_ended(self, e: BatchEnded) -> None:
        """A batch's loss onto the curves; its progress is drawn at most 5 times a second."""
        d, r = self.dock, self.dock.current
        if r is None:
            return
        d.dashboard.add_batch(r.number, e)
        d.state.apply(e)
        if not self._progress_timer.isActive():
            self._progress_timer.start()

    @Slot(object)
    def layers_measured(self, e: LayersMeasured) -> None:
        """Per-layer histograms: into the Layers tab; nodes whose gradients vanish or explode, to the canvas."""
        d = self.dock
        if d.current is None:
            return
        d.tabs.add_layer_stats(e)
        flagged = flagged_nodes(d.project, e) if d.project is not None else {}
        if flagged != self._flagged:
            self._flagged = flagged
            d.gradients_flagged.emit(flagged)

    def clear_flags(self) -> None:
        """No layer is flagged any more (a new run, or none on show)."""
        if self._flagged:
            self._flagged = {}
            self.dock.gradients_flagged.emit({})

    @Slot()
    def _show_progress(self) -> None:
        """The progress bar and its text from the latest batch event (at most 5 times a second)."""
        if self.dock.state.phase in ("running", "paused"):
            self._draw_progress()

    def _draw_progress(self) -> None:
        self.dock.header.draw(self.dock.state)

    @Slot(object)
    def epoch_ended(self, e: EpochEnded) -> None:
        """An epoch's figures: into the run's record, the curves, the tabs and the summary line."""
        d, r = self.dock, self.dock.current
        if r is None:
            return
        m = e.metrics
        r.epochs.append({k: v for k, v in m.items() if isinstance(v, (int, float, str))})
        d.dashboard.add_epoch(r.number, e)
        d.tabs.add_epoch(r.number, e)
        d.summary.setText(f"{r.label}, epoch {e.epoch}: {summary_line(m)}")

    def _refresh_shown(self) -> None:
        """The end of a run: every point on the curves and the visible tab up to date (the rest when shown)."""
        self.dock.dashboard.flush()
        self.dock.tabs.refresh_views()

    @Slot(object)
    def checkpoint_saved(self, e: CheckpointSaved) -> None:
        """A checkpoint is complete on disk: the run's newest, sent on as the dock's `checkpoint_saved`."""
        if self.dock.current is not None:
            self.dock.current.last_checkpoint = e.path
        self.dock.checkpoint_saved.emit(e.path)

    @Slot(object)
    def run_finished(self, e: RunFinished) -> None:
        """The run ended (its epochs done, stopped early or by the user): its last figures and files."""
        d, r = self.dock, self.dock.current
        if r is not None:
            r.status, r.test = e.reason, e.test
        self._progress_timer.stop()  # a batch's progress text must not come after this
        d.state.apply(e)
        self._draw_progress()
        text = finished_line(d.state.ended_as, e, r.out_dir if r is not None else None)
        d.summary.setText(text)
        self._say(text)
        d.tabs.runs_changed()  # its status and test figures
        self._refresh_shown()
        d.run_ended.emit(e)
        if e.final_weights and e.reason != "stopped":
            d.tabs.test_view.evaluate()  # in a worker thread: the Test tab fills in when it is done

    @Slot(object)
    def run_failed(self, e: RunFailed) -> None:
        """The run failed: why, on the message line and in the status bar."""
        d, r = self.dock, self.dock.current
        if r is not None:
            r.status, r.message = "failed", e.message
            d.summary.setText(f"{r.label}: failed after {len(r.epochs)} epoch(s). "
                              f"Files in {files_summary(r.out_dir)}")
            d.tabs.refresh_runs()
        self._progress_timer.stop()
        d.message.show_text(f"Training failed: {e.message}")
        d.state.apply(e)
        self._draw_progress()
        self._say(f"Training failed{d.state.ended_as}: {e.message}")
        self._refresh_shown()
        d.run_ended.emit(e)

    def _say(self, text: str) -> None:
        self.dock.status_message.emit(text)
