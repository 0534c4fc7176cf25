"""The Compress dialog (Train → Compress…): int8 quantization or pruning of a trained network, measured.

The user picks the method (int8 quantization; pruning weights; pruning
channels, which writes a smaller project), the share to remove, fine-tuning
epochs, the trained weights and the file to write. The work runs
`studio.compress.compress` on a copy of the project in a `BackgroundJob`
(the window keeps repainting; a progress bar shows the steps), and the
outcome box shows the figures before and after with their ratios (file
size, parameters, FLOPs, accuracy, latency at batch 1 and 32), the files
written and the notes. After channel pruning, "Open Pruned Project" opens
the smaller project in the window (one click).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QLineEdit, QPushButton, QSpinBox

from studio.compress import compress
from studio.compress.cli import ROWS, change
from studio.graph import Project
from studio.graph import io as project_io
from studio.ui import dialogs, theme
from studio.ui.background import BackgroundJob
from studio.ui.export_dialog import FILE, FRESH, WeightsChoice
from studio.ui.job_dialog import JobDialog, form_layout, html

# (label, method, structured, suffix of the file written)
METHODS = (("Quantize to int8 (ONNX)", "quantize", False, ".onnx"),
           ("Prune weights (same project)", "prune", False, ".pt"),
           ("Prune channels (a smaller project)", "prune", True, ".json"))


class CompressDialog(JobDialog):
    """Compress the first network of `project` (see the module docstring).

    Attributes after a run: `result` (a `CompressResult`) or `error` (the message).
    """

    failure_title = "Compression failed."

    def __init__(self, project: Project, folder: Path, choices: list[WeightsChoice],
                 open_project: Callable[[Path], object] | None = None, preset: bool = False, parent=None):
        super().__init__(parent)
        self.project, self.folder, self.preset = project, Path(folder), preset
        self.open_project = open_project
        self.result = None
        self.setWindowTitle("Compress network")
        self.setMinimumWidth(620)
        self._choices = [c for c in choices if c.kind != FRESH] + [WeightsChoice(FILE, "A weights file…")]
        self._build()
        self._method_changed()

    def _build(self) -> None:
        outer = self._outer_layout()
        outer.addLayout(self._form())
        self._make_progress()
        for w in (self.progress, self.step, self._make_outcome(margins=None)):
            outer.addWidget(w)
        outer.addStretch(1)
        buttons, self.run_button = self._job_buttons("Compress")
        self.open_button = QPushButton("Open Pruned Project")
        self.open_button.clicked.connect(self.open_pruned)
        self.open_button.hide()
        buttons.insertWidget(0, self.open_button)  # left, across the row from Compress and Close
        outer.addLayout(buttons)

    def _form(self) -> QFormLayout:
        """The method, the share to remove, the fine-tuning epochs, the trained weights and the file."""
        form = form_layout(spacing=None)
        self.method = QComboBox()
        self.method.addItems([m[0] for m in METHODS])
        self.method.currentIndexChanged.connect(self._method_changed)
        form.addRow("Method", self.method)
        self.amount = QDoubleSpinBox(decimals=2, minimum=0.05, maximum=0.95, singleStep=0.05, value=0.5)
        self.amount.setToolTip("The share of the weights (or of each layer's channels) to remove")
        form.addRow("Remove", self.amount)
        self.epochs = QSpinBox(minimum=0, maximum=100, value=1)
        self.epochs.setToolTip("Epochs of fine-tuning after pruning, with the project's training settings")
        form.addRow("Fine-tune epochs", self.epochs)
        self.weights = QComboBox()
        self.weights.addItems([c.label for c in self._choices])
        self.weights.activated.connect(self._weights_chosen)
        form.addRow("Trained weights", self.weights)
        self.path = QLineEdit()
        form.addRow("Write to", self.path)
        return form

    @property
    def chosen(self) -> tuple[str, str, bool, str]:
        """(label, method, structured, suffix) of the chosen method."""
        return METHODS[self.method.currentIndex()]

    @Slot()
    def _method_changed(self, *_) -> None:
        suffix = self.chosen[3]
        self._enable_options()
        stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in self.project.name) or "model"
        name = {".onnx": f"{stem}_int8", ".pt": f"{stem}_pruned_weights", ".json": f"{stem}_pruned"}[suffix]
        self.path.setText(str(self.folder / f"{name}{suffix}"))

    @Slot(int)
    def _weights_chosen(self, index: int) -> None:
        if self._choices[index].kind == FILE and self._choices[index].value is None:
            path = dialogs.ask_weights_path(self, str(self.folder))
            if path is not None:
                self.set_weights_file(path)

    def set_weights_file(self, path: Path) -> None:
        """Chooses the weights file `path` (what picking "A weights file…" does)."""
        i = len(self._choices) - 1
        self._choices[i] = WeightsChoice(FILE, f"File: {Path(path).name}", Path(path))
        self.weights.setItemText(i, f"File: {Path(path).name}")
        self.weights.setCurrentIndex(i)

    @Slot()
    def start(self) -> None:
        """Starts compressing with the fields' values (in the background)."""
        if self.running:
            return
        weights = self._choices[self.weights.currentIndex()].value
        if weights is None:
            self._show_error("Choose the trained weights first: train the project, or pick a weights file.")
            return
        _, method, structured, _ = self.chosen
        path = Path(self.path.text().strip()).expanduser()
        path = path if path.is_absolute() else self.folder / path
        snapshot = project_io.from_dict(project_io.to_dict(self.project), f"project '{self.project.name}'")
        amount, epochs, folder, preset = self.amount.value(), self.epochs.value(), self.folder, self.preset
        epochs = epochs if method == "prune" else 0
        self.result, self.error = None, None
        self._set_busy(True)
        self.job = BackgroundJob(lambda progress: compress(
            snapshot, weights, method, path, amount, structured, epochs, root=folder, preset=preset,
            progress=progress), self)
        self.job.start()

    def _set_busy(self, busy: bool) -> None:
        for w in (self.method, self.amount, self.epochs, self.weights, self.path, self.run_button,
                  self.close_button, self.open_button):
            w.setEnabled(not busy)
        if not busy:
            self._enable_options()
        self.progress.setVisible(busy)
        self.step.setVisible(busy)
        if busy:
            self.progress.setValue(0)
            self.step.setText("starting…")
            self.outcome_box.hide()
            self.open_button.hide()

    def _enable_options(self) -> None:
        """Removing a share and fine-tuning apply to pruning only."""
        prune = self.chosen[1] == "prune"
        self.amount.setEnabled(prune)
        self.epochs.setEnabled(prune)

    @Slot(object)
    def job_done(self, result) -> None:
        self.result = result
        self._set_busy(False)
        t = theme.current()
        self.show_outcome(f"<b style='color:{t.valid_target.name()}'>Compressed.</b>"
                          f"{figures_table(result)}"
                          f"<p style='margin:6px 0 0 0'>Files written:</p><ul style='margin:2px 0'>"
                          + "".join(f"<li>{html(f)}</li>" for f in result.files) + "</ul>"
                          + "".join(f"<p style='margin:4px 0 0 0; color:{t.subtext.name()}'>{html(n)}</p>"
                                    for n in result.notes))
        self.open_button.setVisible(result.files[0].suffix == ".json" and self.open_project is not None)

    @Slot()
    def open_pruned(self) -> None:
        """Opens the pruned project in the window and closes the dialog."""
        if self.result is not None and self.open_project is not None:
            self.accept()
            self.open_project(self.result.files[0])


def figures_table(result) -> str:
    """Before, after and how each figure changed (`change`) as a rich-text table."""
    before, after = result.before.to_dict(), result.after.to_dict()
    rows = "".join(
        f"<tr><td>{label}</td><td align='right'>{fmt(before[key])}</td><td align='right'>{fmt(after[key])}</td>"
        f"<td align='right'><b>{change(key, before[key], after[key])}</b></td></tr>"
        for key, label, fmt in ROWS if before[key] and after[key] is not None)
    return ("<table cellspacing='0' cellpadding='3' style='margin-top:6px'><tr><th></th><th align='right'>before"
            f"</th><th align='right'>after</th><th align='right'>change</th></tr>{rows}</table>")


def open_compress_dialog(window) -> CompressDialog | None:
    """Opens the dialog for the window's open project (its weights choices, opening through `open_path`)."""
    if window.editor is None:
        return None
    from studio.presets import is_preset

    path = window.path
    folder = path.absolute().parent if path else Path.home()
    dlg = CompressDialog(window.editor.project, folder, window.files.weights_choices(),
                         lambda p: window.open_path(p), preset=bool(path and is_preset(path)), parent=window)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.open()
    return dlg
