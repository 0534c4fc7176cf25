"""The main window: start page or editor, docks, menus; it wires them to the open project.

It shows at most one open project (`editor`, an `Editor`); its file, unsaved
state, saving, autosave and recovery belong to `document` (`ui/document.py`),
the canvas commands to `commands` (`ui/canvas_commands.py`), the actions and
menus are tables (`ui/window_actions.py`). Export, import, weights and
freezing belong to `files` (`ui/model_files.py`), block commands to `blocks`
(`ui/block_actions.py`), what it shows of an analysis to `analysis_views`
(`ui/analysis_views.py`).
Undo and Redo follow the open project's stack through one `QUndoGroup`, so
closing a project never leaves them on a deleted stack; closing hands the
training dock None (nothing to train, nothing stale on show).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QApplication, QDockWidget, QLabel, QMainWindow, QStackedWidget, QVBoxLayout, QWidget)

from studio.graph import Project
from studio.presets import presets_dir
from studio.ui import code_trust, dialogs, dock_sizes, theme
from studio.ui.analysis_views import AnalysisViews
from studio.ui.canvas_commands import CanvasCommands
from studio.ui.block_actions import BlockCommands
from studio.ui.breadcrumb import Breadcrumb
from studio.ui.document import Document
from studio.ui.editor import Editor
from studio.ui.inspector import Inspector
from studio.ui.model_files import ModelFiles
from studio.ui.palette import Palette
from studio.ui.problems import ProblemsList
from studio.ui.start_page import StartPage, add_recent, settings
from studio.train.events import RunFinished
from studio.graph.layout import flow_of
from studio.ui.summary import SummaryTable
from studio.ui.training import TrainingDock
from studio.ui.view import EditorView
from studio.ui.window_actions import MENUS, add_menu, make_actions, make_theme_actions, make_undo_actions


class MainWindow(QMainWindow):
    """The app's window (see the module docstring)."""

    def __init__(self):
        super().__init__()
        self.editor: Editor | None = None
        self.view: EditorView | None = None
        self.inspector: Inspector | None = None
        self.analysis_views = AnalysisViews(self)  # problems, summary, card marks, memory line
        self.files = ModelFiles(self)
        self.blocks = BlockCommands(self)
        self.document = Document(self, self.files.place_weights, self._training_allows_close)
        self.document.changed.connect(self._update_title)
        self.document.saved.connect(self._saved)
        self.document.message.connect(self.status)
        self.autosave = self.document.autosave
        self.commands = CanvasCommands(self)
        self.resize(1360, 860)
        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.start_page = self._make_start_page()
        self.stack.addWidget(self.start_page)
        self.editor_area = QWidget()
        self._area_layout = QVBoxLayout(self.editor_area)
        self._area_layout.setContentsMargins(0, 0, 0, 0)
        self._area_layout.setSpacing(0)
        self.breadcrumb = Breadcrumb()
        self.breadcrumb.level_chosen.connect(self._level_chosen)
        self.breadcrumb.network_chosen.connect(self._network_chosen)
        self._area_layout.addWidget(self.breadcrumb)
        self.stack.addWidget(self.editor_area)
        self._make_docks()
        self._make_actions()
        self._make_menus()
        self.memory = QLabel()
        self.statusBar().addPermanentWidget(self.memory)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._system_scheme_changed)
        self._show_start()
        self._update_title()

    # --- construction ---------------------------------------------------------------
    def _make_start_page(self) -> StartPage:
        page = StartPage()
        page.new_requested.connect(self.new)
        page.open_requested.connect(self.open_dialog)
        page.path_chosen.connect(self.open_path)
        return page

    def _make_docks(self) -> None:
        self.palette = Palette()
        self.palette.activated.connect(self.commands.add_at_centre)
        self.problems = ProblemsList()
        self.problems.node_chosen.connect(self._problem_chosen)
        self.problems.fix_chosen.connect(lambda fix: self.editor and self.editor.apply_fix(fix))
        self.summary = SummaryTable()
        self.summary.node_chosen.connect(self.commands.focus_node)
        self.inspector_dock = self._dock("Inspector", QLabel(), Qt.DockWidgetArea.RightDockWidgetArea)
        self.palette_dock = self._dock("Layers", self.palette, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.problems_dock = self._dock("Problems", self.problems, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.summary_dock = self._dock("Summary", self.summary, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.problems_dock, self.summary_dock)
        self.training_dock = TrainingDock(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.training_dock)
        self.tabifyDockWidget(self.summary_dock, self.training_dock)
        self.training_dock.status_message.connect(self.status)
        self.training_dock.run_ended.connect(self._run_ended)
        self.training_dock.running_changed.connect(self._training_running)
        self.training_dock.gradients_flagged.connect(self.analysis_views.set_flagged)
        self.training_dock.ensembles.built.connect(self.open_ensemble)
        self.problems_dock.raise_()
        self.resizeDocks([self.palette_dock, self.inspector_dock], [220, 290], Qt.Orientation.Horizontal)
        dock_sizes.follow(self, [self.problems_dock, self.summary_dock, self.training_dock])

    def _dock(self, title: str, widget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _make_actions(self) -> None:
        self.undo_group = make_undo_actions(self)
        self._editing_actions = make_actions(self)
        self.theme_actions = make_theme_actions(self, theme.mode())

    def _make_menus(self) -> None:
        bar = self.menuBar()
        for title, names in MENUS:
            menu = add_menu(bar, title, names)
        menu.addSeparator()
        menu.addMenu("&Theme").addActions(list(self.theme_actions.values()))
        menu.addSeparator()
        for dock in (self.palette_dock, self.inspector_dock, self.problems_dock, self.summary_dock, self.training_dock):
            menu.addAction(dock.toggleViewAction())
        train = bar.addMenu("&Train")
        d = self.training_dock.header
        for a in (d.start_action, d.pause_action, d.stop_action, None, d.clear_action, None, self.act_compress):
            train.addSeparator() if a is None else train.addAction(a)

    @Slot()
    def open_compress_dialog(self):
        """Opens Train → Compress… for the open project (`studio.ui.compress_dialog`)."""
        from studio.ui.compress_dialog import open_compress_dialog

        return open_compress_dialog(self)

    @Slot(object)
    def open_ensemble(self, path: Path) -> None:
        """Opens an ensemble just made from runs in the Runs tab (`studio.ui.training.ensemble_runs`)."""
        self.open_path(path)

    # --- project lifecycle ------------------------------------------------------------
    @property
    def path(self) -> Path | None:
        """The open project's file (None when it was never saved)."""
        return self.document.path

    def set_project(self, project: Project, path: Path | None, dirty: bool = False) -> None:
        """Shows `project` (from `path`, None for an unsaved one) in the editor."""
        self._drop_project()
        self.editor = Editor(project, self)
        self.view = EditorView(self.editor)
        self.view.quick_add_requested.connect(self.commands.quick_add_at)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self.files.show_node_menu)
        self._area_layout.addWidget(self.view, 1)
        if self.inspector is None:
            self.inspector = Inspector(self.editor)
            self.inspector_dock.setWidget(self.inspector)
        else:
            self.inspector.set_editor(self.editor)
        self.undo_group.addStack(self.editor.undo_stack)
        self.undo_group.setActiveStack(self.editor.undo_stack)
        self.document.attach(self.editor, path, dirty)
        self.training_dock.set_project(project, path, self.editor)
        self.editor.analysed.connect(self.analysis_views.show)
        self.editor.message.connect(self.status)
        self.editor.scene_changed.connect(self._scene_changed)
        self.editor.undo_stack.indexChanged.connect(self._blocks_changed)
        self.stack.setCurrentWidget(self.editor_area)
        for dock in (self.palette_dock, self.inspector_dock, self.problems_dock, self.summary_dock, self.training_dock):
            dock.show()
        (self.training_dock if self.training_dock.shows_ensemble else self.problems_dock).raise_()
        for a in self._editing_actions:
            a.setEnabled(True)
        self._scene_changed()
        self.analysis_views.show(self.editor.report)
        self._blocks_changed()
        self.view.setFocus()
        # fit again once the window has its final size, readable rather than all at once
        QTimer.singleShot(0, self.commands.first_view)

    def _drop_project(self) -> None:
        """Lets go of the open project's editor and view (deleted later, once Qt is done with them)."""
        self.files.forget()
        self.analysis_views.frozen = set()
        if self.editor is None:
            return
        self._area_layout.removeWidget(self.view)
        self.view.deleteLater()
        self.undo_group.removeStack(self.editor.undo_stack)
        self.editor.scene.detach()
        self.editor.deleteLater()
        self.editor = self.view = None

    def _show_start(self) -> None:
        self.stack.setCurrentWidget(self.start_page)
        for dock in (self.palette_dock, self.inspector_dock, self.problems_dock, self.summary_dock, self.training_dock):
            dock.hide()
        for a in self._editing_actions:
            a.setEnabled(False)
        self.memory.setText("")

    def is_dirty(self) -> bool:
        """True when the open project has unsaved changes."""
        return self.document.is_dirty()

    @Slot()
    def _update_title(self) -> None:
        if self.editor is None:
            self.setWindowTitle("Network Studio")
            return
        self.setWindowTitle(f"{self.document.name()}{'*' if self.is_dirty() else ''} — Network Studio")

    def maybe_keep_work(self) -> bool:
        """Asks about a running training and unsaved changes; True when it is fine to replace or close the project."""
        return self.document.keep_work()

    def _training_allows_close(self) -> bool:
        return not self.training_dock.running or self.training_dock.request_close()

    @Slot()
    def new(self) -> None:
        """Starts an empty project (after asking about unsaved work)."""
        if self.maybe_keep_work():
            self.set_project(Project.empty(), None)

    @Slot()
    def open_dialog(self) -> None:
        """Asks for a file and opens it."""
        if not self.maybe_keep_work():
            return
        path = dialogs.ask_open_path(self)
        if path is not None:
            self.open_path(path, asked=True)

    def open_path(self, path: Path, asked: bool = False) -> bool:
        """Opens a project file; a bad file is reported and the open project stays as it was."""
        path = Path(path)
        if not asked and not self.maybe_keep_work():
            return False
        project = self.document.read(path)
        if project is None:
            return False
        if not code_trust.allowed(self, project, path.name):  # asked before anything builds its code
            return False
        is_preset = path.resolve().parent == presets_dir().resolve()
        # A preset opens as a new, unsaved project so saving never overwrites the library.
        self.set_project(project, None if is_preset else path)
        if not is_preset:
            add_recent(path)
            self.start_page.refresh_recent()
        return True

    @Slot()
    def save(self) -> bool:
        """Saves to the project's file (asks for one the first time)."""
        return self.document.save()

    @Slot()
    def save_as(self) -> bool:
        """Asks where, then saves."""
        return self.document.save_as()

    @Slot(object, object)
    def _saved(self, path: Path, weights: Path | None) -> None:
        if weights is not None:
            self.files.memory_weights = None
            self.status(f"saved the imported weights to {weights}")
        self.training_dock.set_project(self.editor.project, path, self.editor)  # runs go beside the file
        self.start_page.refresh_recent()

    @Slot()
    def close_project(self) -> None:
        """Back to the start page (after asking about unsaved work)."""
        if self.editor is None or not self.maybe_keep_work():
            return
        self._drop_project()
        self.document.detach()
        self.training_dock.set_project(None, None)
        if self.inspector is not None:
            self.inspector.wait_for_jobs()
            self.inspector.deleteLater()
            self.inspector = None
            self.inspector_dock.setWidget(QLabel())
        self._show_start()

    def closeEvent(self, event) -> None:
        if not self.maybe_keep_work():
            event.ignore()
            return
        self.files.wait_for_jobs()
        self.document.stop()
        event.accept()

    # --- recovery ---------------------------------------------------------------------------
    def write_recovery(self) -> Path | None:
        """Autosaves unsaved work to the recovery file now."""
        return self.document.write_recovery()

    def offer_recovery(self) -> bool:
        """At start: offers back work autosaved by a session that crashed; True if restored."""
        found = self.document.recovered()
        if found is not None:
            self.set_project(found.project, found.original, dirty=True)
        return found is not None

    # --- following the editor ------------------------------------------------------------------
    def _scene_changed(self) -> None:
        self.breadcrumb.set_path([name for _, name, _ in self.editor.levels], list(self.editor.project.networks))
        self.act_flow_right.setChecked(flow_of(self.editor.project) == "right")

    def _level_chosen(self, level: int) -> None:
        self.editor.go_to_level(level)

    @Slot(str)
    def _network_chosen(self, name: str) -> None:
        self.editor.switch_network(name)

    def _problem_chosen(self, level: int, node_id: str) -> None:
        if level < len(self.editor.levels) - 1:
            self.editor.go_to_level(level)
        self.commands.focus_node(node_id)

    def _blocks_changed(self, *_) -> None:
        if self.editor:
            self.palette.set_blocks(list(self.editor.project.blocks))

    def status(self, text: str) -> None:
        """Shows `text` in the status bar for a few seconds."""
        self.statusBar().showMessage(text, 8000)

    @Slot(object)
    def _run_ended(self, event) -> None:
        """A finished run's weights become the export dialog's "last run" choice."""
        weights = getattr(event, "final_weights", None)
        if isinstance(event, RunFinished) and weights:
            self.files.set_last_run_weights(Path(weights))

    @Slot(bool)
    def _training_running(self, running: bool) -> None:
        if running:
            self.training_dock.show()
            self.training_dock.raise_()

    # --- theme ------------------------------------------------------------------------------------
    def set_theme(self, mode: str) -> None:
        """Switches to "light", "dark" or "system" and repaints everything."""
        theme.apply(QApplication.instance(), mode)
        settings().setValue("theme", mode)
        self.theme_actions[mode].setChecked(True)
        self._repaint_canvas()

    def _system_scheme_changed(self, *_) -> None:
        if theme.mode() == "system":
            self.set_theme("system")

    def _repaint_canvas(self) -> None:
        if self.editor is not None:
            for item in self.editor.scene.items():
                item.update()
            self.view.resetCachedContent()
            self.view.viewport().update()
        old = self.start_page
        self.start_page = self._make_start_page()
        self.stack.insertWidget(0, self.start_page)
        if self.stack.currentWidget() is old:
            self.stack.setCurrentWidget(self.start_page)
        self.stack.removeWidget(old)
        old.deleteLater()

    def sizeHint(self) -> QSize:
        return QSize(1360, 860)
