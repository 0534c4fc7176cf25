"""The main window's export, import, weights and freezing commands (`MainWindow.files`).

Kept apart from `main_window` so that module stays about the window itself.
`ModelFiles` works on the window's `editor`, `view`, `path`, `frozen` (the
frozen nodes on show) and `act_` actions, and reports through its `status`:

- Freeze / Unfreeze (`toggle_frozen`, the canvas's `node_menu`);
- Export… (`open_export_dialog`, `weights_choices`, `set_last_run_weights`
  for the training dock);
- Import PyTorch module… (`open_import_dialog`, `open_imported`): the result
  opens as a new unsaved project; its weights stay in `memory_weights` until
  the first save writes them beside the project file (`place_weights`,
  called by the window's `Document` before it saves) and names them in
  ``training["init_weights"]``;
- Load weights… (`load_weights_dialog`, `load_weights_from`): shows the
  report and, if accepted, sets ``training["init_weights"]`` (undoable).
"""

from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtCore import QObject, QPoint, Qt, Slot
from PySide6.QtWidgets import QMenu

from studio.compile import compile_network
from studio.errors import StudioError
from studio.export import INIT_KEY, load_weights
from studio.export.cli import save_weights
from studio.ui import dialogs, freeze
from studio.ui import code_trust
from studio.ui.export_dialog import FRESH, LAST_RUN, PROJECT, ExportDialog, WeightsChoice
from studio.ui.import_dialog import ImportDialog
from studio.ui.weights import WeightsReportDialog, resolve_init, stored_path, weights_file_for


class ModelFiles(QObject):
    """Export, import, weights and freezing for `window` (see the module docstring)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.last_run_weights: Path | None = None   # set by the training dock after a run
        self.memory_weights: dict | None = None     # an imported module's weights, until saved
        self.export_dialog: ExportDialog | None = None
        self.import_dialog: ImportDialog | None = None
        self.weights_dialog: WeightsReportDialog | None = None
        self._weights_path: Path | None = None

    def forget(self) -> None:
        """The project closed: its run's and its import's weights are no longer on offer."""
        self.last_run_weights = self.memory_weights = None

    def wait_for_jobs(self) -> None:
        """Blocks until a running export, import, preview, profile or lr finder has ended (none stops half-way)."""
        for dlg in (self.export_dialog, self.import_dialog):
            if dlg is not None:
                dlg.wait()
        if self.window.inspector is not None:
            self.window.inspector.wait_for_jobs()
        self.window.summary.profile.wait()
        self.window.training_dock.panel.wait_for_jobs()

    # --- freezing ----------------------------------------------------------------------------------
    @Slot()
    def toggle_frozen(self) -> None:
        """Freezes the selected nodes, or unfreezes them when all are frozen (undoable)."""
        if self.window.editor:
            self.window.status(freeze.toggle(self.window.editor, self.window.commands.selected()))

    def node_menu(self, pos: QPoint) -> QMenu | None:
        """The context menu for the node at viewport position `pos` (selecting it), or None off nodes."""
        if self.window.view is None:
            return None
        nid = self.window.editor.scene.node_at(self.window.view.mapToScene(pos))
        if nid is None:
            return None
        if nid not in self.window.commands.selected():
            self.window.editor.scene.select_nodes([nid])
        ids = self.window.commands.selected()
        all_frozen = all(i in self.window.analysis_views.frozen for i in ids)
        menu = QMenu(self.window)
        what = self.window.editor.network.nodes[nid].name if len(ids) == 1 else f"{len(ids)} Nodes"
        self.window.act_freeze.setText(f"{'Unfreeze' if all_frozen else 'Freeze'} {what}")
        menu.addAction(self.window.act_freeze)
        menu.addSeparator()
        for a in (self.window.act_rename, self.window.act_duplicate, self.window.act_delete, None, self.window.act_collapse,
                  *self.window.blocks.menu_actions(nid)):
            menu.addSeparator() if a is None else menu.addAction(a)
        menu.aboutToHide.connect(self._menu_hidden)
        return menu

    @Slot(QPoint)
    def show_node_menu(self, pos: QPoint) -> None:
        """Pops up `node_menu` at viewport position `pos` (the canvas's context-menu request)."""
        menu = self.node_menu(pos)
        if menu is not None:
            menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            menu.popup(self.window.view.viewport().mapToGlobal(pos))

    @Slot()
    def _menu_hidden(self) -> None:
        self.window.act_freeze.setText("&Freeze / Unfreeze")
        self.window.act_expand.setText("E&xpand / Collapse Block")

    # --- weights, export, import ---------------------------------------------------------------------
    def set_last_run_weights(self, path: Path | None) -> None:
        """Where the latest training run of this project left its weights (final.pt); the export offers them."""
        self.last_run_weights = Path(path) if path else None

    def weights_choices(self) -> list[WeightsChoice]:
        """The weights an export can use, for the open project."""
        choices = [WeightsChoice(FRESH, "Fresh (untrained) weights")]
        init = resolve_init(self.window.editor.project, self.window.path)
        if init is not None:
            choices.append(WeightsChoice(PROJECT, f"The project's weights ({init.name})", init))
        elif self.memory_weights is not None:
            choices.append(WeightsChoice(PROJECT, "The imported module's weights (not saved yet)",
                                         self.memory_weights))
        if self.last_run_weights is not None:
            run = self.last_run_weights
            choices.append(WeightsChoice(LAST_RUN, f"Weights of the last run ({run.parent.name}/{run.name})", run))
        return choices

    def _folder(self) -> Path:
        return self.window.path.absolute().parent if self.window.path else Path.home()

    @Slot()
    def open_export_dialog(self) -> ExportDialog | None:
        """Opens the export dialog for the open project."""
        if self.window.editor is None:
            return None
        dlg = ExportDialog(self.window.editor.project, self._folder(), self.weights_choices(), self.window)
        net = self.window.editor.levels[0][1]
        dlg.network.setCurrentText(net)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.finished.connect(self._export_closed)
        self.export_dialog = dlg
        dlg.open()
        return dlg

    @Slot()
    def _export_closed(self) -> None:
        self.export_dialog = None

    @Slot()
    def open_import_dialog(self) -> ImportDialog:
        """Opens the dialog importing a PyTorch module as a project."""
        if self.import_dialog is not None:
            self.import_dialog.raise_()
            return self.import_dialog
        dlg = ImportDialog(self.open_imported, self.window)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.finished.connect(self._import_closed)
        self.import_dialog = dlg
        dlg.show()
        return dlg

    @Slot()
    def _import_closed(self) -> None:
        self.import_dialog = None

    def open_imported(self, result) -> bool:
        """Opens an `ImportResult` as a new unsaved project holding its weights; False if the user kept the old one."""
        if not self.window.maybe_keep_work():
            return False
        code_trust.remember_imported(result.project)
        self.window.set_project(result.project, None, dirty=True)
        self.memory_weights = result.state_dict
        self.window.status(f"imported {result.project.name}: max difference {result.max_abs_diff:.2g}")
        return True

    @Slot()
    def load_weights_dialog(self) -> None:
        """Asks for a weights file and shows how it fits the network."""
        if self.window.editor is None:
            return
        path = dialogs.ask_weights_path(self.window, str(self._folder()))
        if path is not None:
            self.load_weights_from(path)

    def load_weights_from(self, path: Path) -> WeightsReportDialog | None:
        """Matches `path` against the network on show and opens the report; None when unreadable."""
        net = self.window.editor.levels[0][1]
        try:
            report = load_weights(self.window.editor.project, path, net)
        except StudioError as e:
            dialogs.show_error(self.window, "Cannot load weights", str(e))
            return None
        dlg = WeightsReportDialog(report, net, self.window, expected=self._expected_shapes(net))
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(self._use_loaded_weights)
        dlg.finished.connect(self._weights_closed)
        self.weights_dialog, self._weights_path = dlg, Path(path)
        dlg.open()
        return dlg

    def _expected_shapes(self, network: str) -> dict:
        try:
            with torch.device("meta"):
                state = compile_network(self.window.editor.project, network).state_dict()
            return {k: tuple(v.shape) for k, v in state.items()}
        except Exception:  # only used to show shapes; load_weights already said the network compiles
            return {}

    @Slot()
    def _use_loaded_weights(self) -> None:
        path = self._weights_path
        if self.window.editor is None or path is None:
            return
        if self.window.editor.set_setting("training", INIT_KEY, stored_path(path, self.window.path)):
            self.window.status(f"the project starts from {path.name} (training, export)")

    @Slot()
    def _weights_closed(self) -> None:
        self.weights_dialog = None

    def place_weights(self, path: Path) -> Path | None:
        """Before saving to `path`: writes in-memory weights beside it, keeps init_weights findable.

        Returns the weights file written, if any. These are not undoable edits: they only make the
        saved file name the same weights as before.
        """
        project = self.window.editor.project
        value = project.training.get(INIT_KEY)
        if self.memory_weights is not None and not value:
            target = weights_file_for(path)
            save_weights(self.memory_weights, target)
            project.set_setting("training", INIT_KEY, target.name)
            return target
        if value and self.window.path is not None and not Path(value).is_absolute() \
                and Path(path).absolute().parent != self.window.path.absolute().parent:
            # a relative path would point elsewhere from the new folder
            project.set_setting("training", INIT_KEY, stored_path(resolve_init(project, self.window.path), path))
        return None
