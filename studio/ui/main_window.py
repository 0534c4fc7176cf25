"""The main window: start page or editor, docks, menus; it wires them to the open project.

It shows at most one open project (`editor`, an `Editor`); its file, unsaved
state, saving, autosave and recovery belong to `document` (a `Document`,
`studio.ui.document`). The centre shows the start page until a project is
open, then the canvas (with the breadcrumb above it). Docks: palette (left),
inspector (right), problems and summary (bottom). The status bar shows
messages (why a wire was refused) and, permanently, the parameter count and
model memory.

Files never lose work: the title carries `*` while the undo stack is not
clean; New, Open and closing ask first; a file that cannot be read is
reported (`dialogs.show_error`, naming file and place) and the open project
stays as it was. Undo and Redo are made once, from a `QUndoGroup` that
follows the open project's stack, so closing a project and opening another
never leaves them pointing at a deleted stack. Closing hands the training
dock None: nothing to train, nothing stale on show.

Export…, Import PyTorch module…, Load weights… and Freeze / Unfreeze come
from `ModelFilesMixin` (`studio.ui.model_files`); `_analysed` shows the
frozen nodes on the canvas and in the summary and the trainable count in the
status bar. The training dock tells the window where its last run's weights
are with `set_last_run_weights`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QKeySequence, QUndoGroup
from PySide6.QtWidgets import (QApplication, QDockWidget, QLabel, QMainWindow, QStackedWidget, QVBoxLayout, QWidget)

from studio.errors import ProjectFileError, StudioError
from studio.graph import Project
from studio.graph import io as project_io
from studio.presets import presets_dir
from studio.ui import clipboard, dialogs, dock_sizes, freeze, theme
from studio.ui.block_actions import BlockActionsMixin
from studio.ui.breadcrumb import Breadcrumb
from studio.ui.document import Document
from studio.ui.editor import Editor
from studio.ui.inspector import Inspector
from studio.ui.model_files import ModelFilesMixin
from studio.ui.palette import Palette
from studio.ui.problems import ProblemsList
from studio.ui.quick_add import QuickAdd
from studio.ui.start_page import StartPage, add_recent, settings
from studio.train.events import RunFinished
from studio.graph.summary import trainable_params
from studio.graph.layout import flow_of
from studio.ui.summary import SummaryTable, memory_text
from studio.ui.training import TrainingDock
from studio.ui.node_item import READABLE_ZOOM
from studio.ui.view import EditorView


def new_project() -> Project:
    """An empty project: one network with an Input and an Output."""
    project = Project("untitled")
    net = project.add_network("main")
    net.add_node("Input", "x", {"shape": [1, 28, 28]}, (0, 0))
    net.add_node("Output", "y", {}, (0, 160))  # below: data flows down (docs/architecture.md)
    return project


class MainWindow(BlockActionsMixin, ModelFilesMixin, QMainWindow):
    """The app's window (see the module docstring)."""

    def __init__(self):
        super().__init__()
        self.editor: Editor | None = None
        self.view: EditorView | None = None
        self.inspector: Inspector | None = None
        self.document = Document(self, self.place_weights, self._training_allows_close)
        self.document.changed.connect(self._update_title)
        self.document.saved.connect(self._saved)
        self.document.message.connect(self._status)
        self.autosave = self.document.autosave
        self.quick_add: QuickAdd | None = None
        self._init_model_files()
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
        self.palette.activated.connect(self._palette_activated)
        self.problems = ProblemsList()
        self.problems.node_chosen.connect(self._problem_chosen)
        self.problems.fix_chosen.connect(lambda fix: self.editor and self.editor.apply_fix(fix))
        self.summary = SummaryTable()
        self.summary.node_chosen.connect(lambda nid: self.focus_node(nid))
        self.inspector_dock = self._dock("Inspector", QLabel(), Qt.DockWidgetArea.RightDockWidgetArea)
        self.palette_dock = self._dock("Layers", self.palette, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.problems_dock = self._dock("Problems", self.problems, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.summary_dock = self._dock("Summary", self.summary, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.problems_dock, self.summary_dock)
        self.training_dock = TrainingDock(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.training_dock)
        self.tabifyDockWidget(self.summary_dock, self.training_dock)
        self.training_dock.status_message.connect(self._status)
        self.training_dock.run_ended.connect(self._run_ended)
        self.training_dock.running_changed.connect(self._training_running)
        self.training_dock.gradients_flagged.connect(self._gradients_flagged)
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

    def _action(self, text: str, slot, shortcut=None, menu=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _make_actions(self) -> None:
        K = QKeySequence.StandardKey
        # One pair of undo actions for the window's life; they follow the open project's stack, and
        # do nothing with none open (a stack's own actions die with the project's editor).
        self.undo_group = QUndoGroup(self)
        self.undo_action = self.undo_group.createUndoAction(self, "Undo")
        self.undo_action.setShortcut(K.Undo)
        self.redo_action = self.undo_group.createRedoAction(self, "Redo")
        # The platform's Redo keys plus Ctrl+Shift+Z and Ctrl+Y, each once: a key twice on one action is
        # "ambiguous" to Qt and does nothing (X11's Redo is Ctrl+Shift+Z).
        redo_keys = QKeySequence.keyBindings(K.Redo) + [QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")]
        self.redo_action.setShortcuts(list({k.toString(): k for k in redo_keys}.values()))
        for a in (self.undo_action, self.redo_action):
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(a)
        self.act_new = self._action("&New", self.new, K.New)
        self.act_open = self._action("&Open…", self.open_dialog, K.Open)
        self.act_save = self._action("&Save", self.save, K.Save)
        self.act_save_as = self._action("Save &As…", self.save_as, "Ctrl+Shift+S")
        self.act_close = self._action("&Close project", self.close_project, "Ctrl+W")
        self.act_quit = self._action("&Quit", self.close, K.Quit)
        self.act_cut = self._action("Cu&t", self.cut, K.Cut)
        self.act_copy = self._action("&Copy", self.copy, K.Copy)
        self.act_paste = self._action("&Paste", self.paste, K.Paste)
        self.act_duplicate = self._action("&Duplicate", self.duplicate, "Ctrl+D")
        self.act_delete = self._action("De&lete", self.delete, None)
        self.act_select_all = self._action("Select &All", self.select_all, K.SelectAll)
        self.act_rename = self._action("&Rename", self.rename_selected, None)
        self.act_collapse = self._action("Collapse into &Block…", self.collapse, "Ctrl+G")
        self.act_fit = self._action("&Fit All", self.fit_all, "Ctrl+0")
        self.act_zoom_in = self._action("Zoom &In", lambda: self.view and self.view.zoom_by(1.25), K.ZoomIn)
        self.act_zoom_out = self._action("Zoom &Out", lambda: self.view and self.view.zoom_by(0.8), K.ZoomOut)
        self.act_layout = self._action("Auto-&Layout", self.auto_layout, "Ctrl+L")
        self.act_grid = self._action("Align to &Grid", self.align_to_grid, None)
        self.act_flow_right = self._action("Flow Left to &Right", self._flow_right, None)
        self.act_flow_right.setCheckable(True)
        self.act_flow_right.setToolTip("Lay the network out left to right instead of top to bottom")
        self.act_quick_add = self._action("&Add Layer…", self.open_quick_add, None)
        self.act_quick_add.setToolTip("Tab on the canvas")
        self.act_export = self._action("&Export…", self.open_export_dialog, "Ctrl+E")
        self.act_import = self._action("&Import PyTorch Module…", self.open_import_dialog, None)
        self.act_compress = self._action("&Compress…", self.open_compress_dialog, None)
        self.act_compress.setToolTip("Quantize to int8 or prune the trained network, measured before and after")
        self.act_load_weights = self._action("Load &Weights…", self.load_weights_dialog, None)
        self.act_freeze = self._action("&Freeze / Unfreeze", self.toggle_frozen, "Ctrl+Shift+F")
        self.act_freeze.setToolTip("Frozen layers keep their weights during training")
        self._editing_actions = [self.act_save, self.act_save_as, self.act_close, self.act_cut, self.act_copy,
                                 self.act_paste, self.act_duplicate, self.act_delete, self.act_select_all,
                                 self.act_rename, self.act_collapse, self.act_fit, self.act_zoom_in,
                                 self.act_zoom_out, self.act_layout, self.act_grid, self.act_quick_add,
                                 self.act_export, self.act_load_weights, self.act_freeze, self.act_flow_right]
        self._editing_actions += self._make_block_actions()
        self.theme_group = QActionGroup(self)
        self.theme_actions = {}
        for mode, label in (("system", "Follow &System"), ("light", "&Light"), ("dark", "&Dark")):
            a = QAction(label, self, checkable=True)
            a.triggered.connect(lambda _=False, mode=mode: self.set_theme(mode))
            self.theme_group.addAction(a)
            self.theme_actions[mode] = a
        self.theme_actions[theme.mode()].setChecked(True)

    def _make_menus(self) -> None:
        bar = self.menuBar()
        m = bar.addMenu("&File")
        for a in (self.act_new, self.act_open, self.act_import, None, self.act_save, self.act_save_as, None,
                  self.act_load_weights, self.act_export, None, self.act_close, self.act_quit):
            m.addSeparator() if a is None else m.addAction(a)
        self.edit_menu = bar.addMenu("&Edit")
        self.edit_menu.addActions([self.undo_action, self.redo_action])
        self.edit_menu.addSeparator()
        for a in (self.act_cut, self.act_copy, self.act_paste, self.act_duplicate, self.act_delete, None,
                  self.act_select_all, self.act_rename, self.act_find, None, self.act_quick_add, self.act_collapse,
                  self.act_expand, self.act_collapse_back, self.act_ungroup, None, self.act_freeze):
            self.edit_menu.addSeparator() if a is None else self.edit_menu.addAction(a)
        v = bar.addMenu("&View")
        for a in (self.act_fit, self.act_zoom_in, self.act_zoom_out, None, self.act_layout, self.act_flow_right,
                  self.act_grid, None, self.act_flat):
            v.addSeparator() if a is None else v.addAction(a)
        v.addSeparator()
        t = v.addMenu("&Theme")
        t.addActions(list(self.theme_actions.values()))
        v.addSeparator()
        for dock in (self.palette_dock, self.inspector_dock, self.problems_dock, self.summary_dock, self.training_dock):
            v.addAction(dock.toggleViewAction())
        train = bar.addMenu("&Train")
        d = self.training_dock
        for a in (d.start_action, d.pause_action, d.stop_action, None, d.clear_action):
            train.addSeparator() if a is None else train.addAction(a)
        train.addSeparator()
        train.addAction(self.act_compress)

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
        self.view.quick_add_requested.connect(self._quick_add_at)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._canvas_menu)
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
        self.editor.analysed.connect(self._analysed)
        self.editor.message.connect(self._status)
        self.editor.scene_changed.connect(self._scene_changed)
        self.editor.undo_stack.indexChanged.connect(self._blocks_changed)
        self.stack.setCurrentWidget(self.editor_area)
        for dock in (self.palette_dock, self.inspector_dock, self.problems_dock, self.summary_dock, self.training_dock):
            dock.show()
        self.problems_dock.raise_()
        for a in self._editing_actions:
            a.setEnabled(True)
        self._scene_changed()
        self._analysed(self.editor.report)
        self._blocks_changed()
        self.view.setFocus()
        # fit again once the window has its final size, readable rather than all at once
        QTimer.singleShot(0, self._first_view)

    def _drop_project(self) -> None:
        """Lets go of the open project's editor and view (deleted later, once Qt is done with them)."""
        self.last_run_weights = self.memory_weights = None
        self.frozen = set()
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
            self.set_project(new_project(), None)

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
        try:
            project = project_io.load(path)
        except ProjectFileError as e:
            dialogs.show_error(self, "Cannot open project", f"“{path.name}” cannot be opened: {e.detail}",
                               f"File: {e.path}" + (f"\nWhere: {e.where}" if e.where else ""))
            return False
        except StudioError as e:
            dialogs.show_error(self, "Cannot open project", str(e))
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
            self.memory_weights = None
            self._status(f"saved the imported weights to {weights}")
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
        self.wait_for_jobs()
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

    # --- editing commands ---------------------------------------------------------------------
    def _selected(self) -> list[str]:
        return self.editor.scene.selected_node_ids() if self.editor else []

    @Slot()
    def copy(self) -> None:
        """Copies the selected nodes and the wires between them."""
        ids = self._selected()
        if ids:
            QApplication.clipboard().setMimeData(clipboard.to_mime(clipboard.copy_data(self.editor.network, ids)))

    @Slot()
    def cut(self) -> None:
        """Copies, then deletes the selection."""
        self.copy()
        if self._selected():
            self.editor.delete_selection()

    @Slot()
    def paste(self) -> None:
        """Pastes nodes from the clipboard."""
        if self.editor is None:
            return
        data = clipboard.from_mime(QApplication.clipboard().mimeData())
        if data is None:
            self._status("the clipboard holds no layers")
            return
        self.editor.paste(data)

    @Slot()
    def duplicate(self) -> None:
        """Duplicates the selection."""
        if self.editor:
            self.editor.duplicate()

    @Slot()
    def delete(self) -> None:
        """Deletes the selection."""
        if self.editor:
            self.editor.delete_selection()

    @Slot()
    def select_all(self) -> None:
        """Selects every node."""
        if self.editor:
            self.editor.scene.select_nodes(self.editor.network.nodes)

    @Slot()
    def rename_selected(self) -> None:
        """Renames the selected node in place."""
        if self.view:
            self.view.start_rename()

    @Slot()
    def collapse(self) -> None:
        """Asks a name and collapses the selection into a new block."""
        if not self.editor or not self._selected():
            self._status("select the nodes to put into a block first")
            return
        taken = set(self.editor.project.blocks)
        i = 1
        while f"block{i}" in taken:
            i += 1
        name = dialogs.ask_text(self, "Collapse into block", "Block name:", f"block{i}")
        if name:
            self.editor.collapse(name)

    @Slot()
    def fit_all(self) -> None:
        """Shows every node."""
        if self.view:
            self.view.fit_all()

    @Slot()
    def _first_view(self) -> None:
        if self.view:
            self.view.fit_all(min_zoom=READABLE_ZOOM)
            self.view.setFocus()  # shortcuts work at once, without a click on the canvas

    @Slot()
    def auto_layout(self, direction: str | None = None) -> None:
        """Lays the network out in layers and shows it at a readable zoom (undo restores positions and zoom)."""
        if self.editor:
            stack, before = self.editor.undo_stack, self.view.view_state()
            index = stack.index()
            self.editor.auto_layout(direction)
            if stack.index() == index + 1:
                self.view.fit_all(min_zoom=READABLE_ZOOM)
                self.view.keep_view_with(stack, index, before)

    @Slot(bool)
    def _flow_right(self, right: bool) -> None:
        self.auto_layout("right" if right else "down")

    @Slot()
    def align_to_grid(self) -> None:
        """Snaps nodes to the grid (undoable)."""
        if self.editor:
            self.editor.align_to_grid()

    @Slot()
    def open_quick_add(self) -> None:
        """Opens the quick-add popup at the canvas centre."""
        if self.view:
            centre = self.view.viewport().rect().center()
            self._quick_add_at(self.view.mapToScene(centre), self.view.viewport().mapToGlobal(centre))

    def _quick_add_at(self, scene_pos: QPointF, global_pos) -> None:
        # Quick-add over a wire, or with exactly one wire selected, splices the layer into that wire.
        selected = self.editor.scene.selected_edges()
        on_wire = self.editor.wire_at(scene_pos) or (selected[0] if len(selected) == 1 else None)
        self.quick_add = QuickAdd(list(self.editor.project.blocks), self)
        self.quick_add.chosen.connect(lambda what: self._add(what, scene_pos, on_wire))
        self.quick_add.popup(global_pos)

    def _add(self, what: str, pos: QPointF, on_wire=None) -> None:
        if what.startswith("Block:"):
            self.editor.add_block_node(what[6:], (pos.x(), pos.y()), on_wire)
        else:
            self.editor.add_node(what, pos, on_wire)

    def _palette_activated(self, what: str) -> None:
        if self.view:
            self._add(what, self.view.mapToScene(self.view.viewport().rect().center()))

    def focus_node(self, node_id: str) -> None:
        """Selects a node of the network on show and centres the canvas on it."""
        item = self.editor.scene.nodes.get(node_id) if self.editor else None
        if item is None:
            return
        self.editor.scene.select_nodes([node_id])
        self.view.centerOn(item)

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
        self.focus_node(node_id)

    def _blocks_changed(self, *_) -> None:
        if self.editor:
            self.palette.set_blocks(list(self.editor.project.blocks))

    def _analysed(self, report) -> None:
        ed = self.editor
        root = ed.root_report
        problems = [(0, p) for p in root.problems + root.warnings] if root else []
        problems += [(0, p) for p in ed.run_problems if p.network == ed.levels[0][1]]
        if ed.in_block() and report is not None:
            problems += [(len(ed.levels) - 1, p) for p in report.problems + report.warnings]
        self.problems.show_problems(problems, [ed.fixes(level, p) for level, p in problems])
        self.problems_dock.setWindowTitle(f"Problems ({len(problems)})" if problems else "Problems")
        if dock_sizes.on_top(self) is self.problems_dock:
            dock_sizes.fit_bottom(self)
        project = ed.project
        self.frozen = freeze.frozen_ids(project, ed.network)
        flagged = getattr(self, "_flagged", {}).get(ed.network.name, {})
        for nid, item in ed.scene.nodes.items():
            item.set_frozen(nid in self.frozen)
            item.set_gradient(flagged.get(nid, "ok"))
        self.summary.show_report(ed.network, report, frozen=self.frozen)
        top_frozen = freeze.frozen_ids(project, project.networks[ed.levels[0][1]])
        total = ed.root_report.total_params if ed.root_report else 0
        self.memory.setText(memory_text(total, trainable_params(ed.root_report, top_frozen) if top_frozen else None))

    def _gradients_flagged(self, flagged: dict) -> None:
        """Mark the shown network's nodes whose gradients vanish or explode (the training dock measures them)."""
        self._flagged = flagged
        if self.editor is not None:
            states = flagged.get(self.editor.network.name, {})
            for nid, item in self.editor.scene.nodes.items():
                item.set_gradient(states.get(nid, "ok"))

    def _status(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    @Slot(object)
    def _run_ended(self, event) -> None:
        """A finished run's weights become the export dialog's "last run" choice."""
        weights = getattr(event, "final_weights", None)
        if isinstance(event, RunFinished) and weights:
            self.set_last_run_weights(Path(weights))

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
