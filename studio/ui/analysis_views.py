"""What the main window shows of the open project's analysis (`MainWindow.analysis_views`).

After every analysis (`Editor.analysed`) `show` fills the Problems list
(the top network's problems and warnings, what a run would meet, and those
of the block on show, each with its one-click fixes; the dock's title counts
them), the Summary table, the frozen and gradient marks on the canvas's
cards and the parameter count in the status bar. The gradient flags come
from the training dock's per-layer measurements (`set_flagged`) and are
kept per network, so a network shown later gets its own.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot

from studio.graph.summary import trainable_params
from studio.ui import dock_sizes, freeze
from studio.ui.summary import memory_text


class AnalysisViews(QObject):
    """The Problems list, Summary, card marks and memory line of `window` (see the module docstring)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.frozen: set[str] = set()  # ids of the frozen nodes on show
        self._flagged: dict = {}  # network -> {node id: "vanishing" | "exploding"}, from the training dock

    @Slot(object)
    def show(self, report) -> None:
        """Shows the analysis of the network on show (``report``; None when unknown) and of its top network."""
        self._show_problems(report)
        w, ed = self.window, self.window.editor
        project = ed.project
        self.frozen = freeze.frozen_ids(project, ed.network)
        flagged = self._flagged.get(ed.network.name, {})
        for nid, item in ed.scene.nodes.items():
            item.set_frozen(nid in self.frozen)
            item.set_gradient(flagged.get(nid, "ok"))
        w.summary.show_report(ed.network, report, frozen=self.frozen)
        top_frozen = freeze.frozen_ids(project, project.networks[ed.levels[0][1]])
        total = ed.root_report.total_params if ed.root_report else 0
        w.memory.setText(memory_text(total, trainable_params(ed.root_report, top_frozen) if top_frozen else None))

    def _show_problems(self, report) -> None:
        w, ed = self.window, self.window.editor
        root = ed.root_report
        problems = [(0, p) for p in root.problems + root.warnings] if root else []
        problems += [(0, p) for p in ed.run_problems if p.network == ed.levels[0][1]]
        if ed.in_block() and report is not None:
            problems += [(len(ed.levels) - 1, p) for p in report.problems + report.warnings]
        w.problems.show_problems(problems, [ed.fixes(level, p) for level, p in problems])
        w.problems_dock.setWindowTitle(f"Problems ({len(problems)})" if problems else "Problems")
        if dock_sizes.on_top(w) is w.problems_dock:
            dock_sizes.fit_bottom(w)

    @Slot(object)
    def set_flagged(self, flagged: dict) -> None:
        """Mark the shown network's nodes whose gradients vanish or explode (the training dock measures them)."""
        self._flagged = flagged
        editor = self.window.editor
        if editor is not None:
            states = flagged.get(editor.network.name, {})
            for nid, item in editor.scene.nodes.items():
                item.set_gradient(states.get(nid, "ok"))
