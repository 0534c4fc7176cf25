"""`ResultTabs`: the training dock's tabs of figures, each shown once its data arrives.

Tabs: the task views (`TaskViews`, one per kind of figure a recipe reports),
Confusion, Per class, Samples, Runs, Layers (per-layer histograms), Explain
(a confusion cell's samples), Sweep, Test (the finished run's test split)
and Compare (two runs picked in Runs). A tab hides until its data arrives;
the first figures of a task are brought to the front rather than the runs
list. Which metric opens which tab is the metric registry's to say
(`studio.train.metric_registry`, ``shown``). Epochs of a small network can end several times a second, so only the
visible tab is drawn, at most twice a second; the others catch up when shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QTabWidget

from studio.train import EpochEnded
from studio.train.events import LayersMeasured
from studio.train.metric_registry import METRICS
from studio.ui.training.compare import RunComparison
from studio.ui.training.confusion import ClassTable, ConfusionView
from studio.ui.training.dashboard import run_colour
from studio.ui.training.explain_view import ExplainView
from studio.ui.training.histograms import LayerStatsView
from studio.ui.training.runs import RunsTable
from studio.ui.training.samples import SamplesGrid
from studio.ui.training.sweep_view import SweepView
from studio.ui.training.task_views import OTHER, TaskViews
from studio.ui.training.test_view import EvaluateView


class ResultTabs(QTabWidget):
    """The dock's figures (see the module docstring); `records()` gives the runs the Runs tab lists."""

    def __init__(self, records: Callable[[], list]):
        super().__init__()
        self.records = records
        self.class_names: list[str] | None = None
        self.confusion, self.class_table, self.samples = ConfusionView(), ClassTable(), SamplesGrid()
        self.runs_table, self.layer_stats, self.explain_view = RunsTable(), LayerStatsView(), ExplainView()
        self.sweep_view, self.test_view = SweepView(), EvaluateView()
        self.compare = RunComparison(self.runs_table, records, run_colour)
        for view, title in ((self.confusion, "Confusion"), (self.class_table, "Per class"),
                            (self.samples, "Samples"), (self.runs_table, "Runs"), (self.layer_stats, "Layers"),
                            (self.explain_view, "Explain"), (self.sweep_view, "Sweep"), (self.test_view, "Test"),
                            (self.compare, "Compare")):
            self.addTab(view, title)
            self.setTabVisible(self.indexOf(view), view in (self.runs_table, self.sweep_view))
        self.compare.compared.connect(lambda: self.bring_up(self.compare))
        # the metric registry's places (`Metric.shown`) whose tabs are these; the rest are task views
        self._places = {"classes": (self.confusion, self.class_table), "samples": (self.samples,)}
        self.task_views = TaskViews(self, before=self.confusion)
        self._latest: EpochEnded | None = None
        self._stale: set[str] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self.refresh_views)
        self.currentChanged.connect(self.refresh_views)

    def reveal(self, view, shown: bool = True) -> None:
        """Shows (or hides) the tab of `view`."""
        self.setTabVisible(self.indexOf(view), shown)

    def bring_up(self, view) -> None:
        """Shows the tab of `view` and makes it the current one."""
        self.reveal(view)
        self.setCurrentWidget(view)

    def clear(self, keep: int | None = None) -> None:
        """Forgets the runs' figures (the run numbered `keep`, still going, keeps its own)."""
        if keep is None:
            self._latest = None
            self.confusion.clear()
            self.class_table.clear_rows()
            self.samples.clear()
            self.layer_stats.clear()
            self.explain_view.clear()
            for view in (self.confusion, self.class_table, self.samples, self.layer_stats, self.explain_view):
                self.reveal(view, False)
            # Not the tab Qt moves to when the current one hides (Sweep, Test): from the Runs tab the first
            # epoch's figures come up (`add_epoch`).
            self.setCurrentWidget(self.runs_table)
        self.task_views.clear(keep)
        self.refresh_runs()

    def add_epoch(self, number: int, e: EpochEnded) -> None:
        """Run `number` ended an epoch: show the tabs its figures need; draw the visible one soon."""
        m = e.metrics
        runs_shown = self.currentWidget() is self.runs_table
        appeared = [self.indexOf(self.task_views.view(t)) for t in self.task_views.add_epoch(number, e.epoch, m)]
        places = {METRICS[k].shown for k, v in m.items() if k in METRICS and _present(v)}
        for place, views in self._places.items():
            for view in views if place in places else ():
                if not self.isTabVisible(self.indexOf(view)):
                    self.reveal(view)
                    appeared.append(self.indexOf(view))
        if appeared and runs_shown:  # the first figures of a task: show them rather than the runs list
            other_view = self.task_views.view(OTHER)
            other = self.indexOf(other_view) if other_view is not None else -1
            self.setCurrentIndex(min(appeared, key=lambda i: (i == other, i)))  # "Other metrics" last
        self._latest = e
        self._stale = {"confusion", "classes", "samples", "runs"}
        if not self._timer.isActive():
            self._timer.start()

    def add_layer_stats(self, e: LayersMeasured) -> None:
        """Per-layer histograms into the Layers tab (drawn now if it is on show)."""
        self.layer_stats.add(e)
        self.reveal(self.layer_stats)
        if self.currentWidget() is self.layer_stats:
            self.layer_stats.refresh()

    def explain(self, project, weights: Path, root: Path | None, true: int, pred: int) -> None:
        """The samples of one confusion cell, explained with `weights`, in the Explain tab."""
        self.explain_view.set_source(project, weights, root)
        self.bring_up(self.explain_view)
        self.explain_view.show_cell(true, pred, self.class_names)

    def set_test_source(self, project, weights, root: Path | None) -> None:
        """The Test tab evaluates `weights`; it shows only while there are weights to evaluate."""
        self.test_view.set_source(project if weights else None, weights, root)
        self.reveal(self.test_view, bool(weights))

    def runs_changed(self) -> None:
        """A run's status or figures changed: the Runs tab redraws when it is next drawn."""
        self._stale.add("runs")

    def refresh_runs(self) -> None:
        """Lists the runs in the Runs tab now."""
        self.runs_table.show_runs(self.records(), run_colour)

    @Slot()
    def refresh_views(self) -> None:
        """Brings the visible tab up to date with the latest epoch (the others wait until shown)."""
        self._refresh_view(self.currentWidget())

    def refresh_all(self) -> None:
        """Draws every tab now (tests, screenshots)."""
        for i in range(self.count()):
            self._refresh_view(self.widget(i))

    def _refresh_view(self, current) -> None:
        if self.task_views.is_view(current):
            self.task_views.refresh(current)
        elif current is self.layer_stats:
            self.layer_stats.refresh()
        else:
            self._refresh_epoch_view(current)

    def _refresh_epoch_view(self, current) -> None:
        e = self._latest
        if current is self.runs_table and "runs" in self._stale:
            self.refresh_runs()
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


def _present(value) -> bool:
    """Whether an epoch's metric holds something to show (an empty list of samples does not)."""
    return value is not None and not (isinstance(value, (list, tuple, dict)) and not value)
