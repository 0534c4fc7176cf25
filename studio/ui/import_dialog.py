"""The Import dialog (File → Import PyTorch module…): a module class becomes a new project.

The user names the class (a ``.py`` file or an importable module, and the
class name), its constructor arguments as JSON (a list of positional ones or
an object of keywords), one input sample's shape (``3,32,32``; several inputs
``3,32,32;10``) and whether inputs are floats or token ids. Import runs
`studio.export.import_from_path` in a `BackgroundJob` (tracing a big module
takes seconds): the module's file is imported, so its code runs. A call the
catalog cannot express is refused with the importer's message, shown here.

On success the dialog sends the `ImportResult` to `on_imported` (the main
window opens it as a new, unsaved project with the module's weights) and
shows the node count and the largest difference between the module's and the
imported network's outputs.
"""

from __future__ import annotations

import json
from typing import Callable

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton

from studio.errors import StudioError
from studio.export.cli import parse_shapes
from studio.ui import dialogs, theme
from studio.ui.background import BackgroundJob
from studio.ui.job_dialog import JobDialog, fit_height, form_layout, html


def parse_args(text: str) -> list | dict:
    """Constructor arguments from JSON: a list (positional) or an object (keywords); "" means none."""
    text = text.strip()
    if not text:
        return []
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise StudioError(f"the arguments are not valid JSON ({e.msg} at column {e.colno}): write a list "
                          f"such as [10] or an object such as {{\"num_classes\": 10}}") from None
    if not isinstance(value, (list, dict)):
        raise StudioError("the arguments must be a JSON list (positional) or object (keywords), "
                          "such as [10] or {\"num_classes\": 10}")
    return value


def parse_shape(text: str) -> list[tuple[int, ...]]:
    """One sample's shape (``3,32,32``), or several inputs' (``3,32,32;10``)."""
    try:
        return parse_shapes(text)
    except StudioError:
        raise StudioError(f"the input shape '{text}' is not a shape: write one sample's sizes without the batch, "
                          f"separated by commas, such as 3,32,32 (several inputs: 3,32,32;10)") from None


class ImportDialog(JobDialog):
    """Import a PyTorch module (see the module docstring)."""

    failure_title = "Cannot import."

    def __init__(self, on_imported: Callable, parent=None):
        super().__init__(parent)
        self.on_imported = on_imported
        self.result = None
        self.setWindowTitle("Import PyTorch module")
        self.setMinimumWidth(600)
        self._build()

    def _build(self) -> None:
        outer = self._outer_layout()
        intro = QLabel("Builds a project from an <code>nn.Module</code> by tracing it. Its file is imported, "
                       "so its code runs: import only code you trust.")
        intro.setWordWrap(True)
        outer.addWidget(intro)
        outer.addLayout(self._form())
        self._make_progress(busy=True, steps=False)  # tracing reports no steps
        outer.addWidget(self.progress)
        outer.addWidget(self._make_outcome())
        outer.addStretch(1)
        buttons, self.import_button = self._job_buttons("Import")
        outer.addLayout(buttons)
        self._subtext = theme.current().subtext

    def _form(self) -> QFormLayout:
        """The module (a file or a dotted name) and its class, arguments, input shape and values, the name."""
        form = form_layout()
        self.module = QLineEdit()
        self.module.setPlaceholderText("path/to/model.py  or  package.module")
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.setSpacing(6)
        row.addWidget(self.module, 1)
        row.addWidget(self.browse)
        form.addRow("Module", row)
        self.class_name = QLineEdit()
        self.class_name.setPlaceholderText("MyNet")
        form.addRow("Class", self.class_name)
        self.args = QLineEdit()
        self.args.setPlaceholderText('[]   or   {"num_classes": 10}')
        form.addRow("Arguments (JSON)", self.args)
        self.shape = QLineEdit()
        self.shape.setPlaceholderText("1,28,28   (one sample, no batch; several inputs: 3,32,32;10)")
        form.addRow("Input shape", self.shape)
        self.dtype = QComboBox()
        self.dtype.addItem("float values", "float")
        self.dtype.addItem("token ids (long)", "long")
        form.addRow("Input values", self.dtype)
        self.name = QLineEdit()
        self.name.setPlaceholderText("the class name")
        form.addRow("Project name", self.name)
        return form

    @Slot()
    def _browse(self) -> None:
        path = dialogs.ask_python_file(self)
        if path is not None:
            self.module.setText(str(path))

    def spec(self) -> str:
        """``where:Class`` from the two fields."""
        where, cls = self.module.text().strip(), self.class_name.text().strip()
        if not where or not cls:
            raise StudioError("name the module (a .py file or package.module) and the class to import")
        return f"{where}:{cls}"

    @Slot()
    def start(self) -> None:
        """Checks the fields and starts the import in the background."""
        if self.running:
            return
        try:
            spec = self.spec()
            args = parse_args(self.args.text())
            shapes = parse_shape(self.shape.text())
        except StudioError as e:
            self._show_error(str(e))
            return
        from studio.export import import_from_path

        dtype, name = self.dtype.currentData(), self.name.text().strip() or None
        self.result, self.error = None, None
        self._set_busy(True)
        self.job = BackgroundJob(lambda progress: import_from_path(spec, args, shapes, name, dtype), self)
        self.job.start()

    def _set_busy(self, busy: bool) -> None:
        for w in (self.module, self.browse, self.class_name, self.args, self.shape, self.dtype, self.name,
                  self.import_button, self.close_button):
            w.setEnabled(not busy)
        self.progress.setVisible(busy)
        if busy:
            self.outcome_box.hide()

    @Slot(str, float)
    def job_progress(self, step: str, fraction: float) -> None:
        pass  # the importer reports no steps

    @Slot(object)
    def job_done(self, result) -> None:
        self.result = result
        self._set_busy(False)
        opened = self.on_imported(result)
        t = theme.current()
        nodes = len(result.project.network(result.network).nodes)
        head = (f"<b style='color:{t.valid_target.name()}'>Imported “{html(result.project.name)}”:</b> "
                f"{nodes} nodes, {len(result.state_dict)} weight tensors. The network's outputs match the "
                f"module's: <b>max difference {result.max_abs_diff:.2g}</b>.")
        tail = ("<br>It is open as a new, unsaved project. Its weights are kept with it and written beside the "
                "project file (same name, .pt) when you save." if opened else
                "<br>The open project was kept (you chose not to replace it); import again to open it.")
        self.outcome.setText(head + tail)
        self.outcome_box.show()
        fit_height(self)

