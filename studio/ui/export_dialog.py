"""The Export dialog (File → Export…, Ctrl+E): format, file, weights, network; runs in the background.

The user picks a format (each with its one-line description), the file (the
suffix follows the format until the name is typed by hand), the weights and,
when the project has several, the network. Export runs
`studio.export.export` on a *copy* of the project in a `BackgroundJob`, so the
project is never touched and the window keeps repainting; a progress bar
shows the export's own steps (compiling, writing, verifying, saving). When it
ends the dialog lists the files written, the largest difference found when
the export was reloaded and compared with the live network, and the export's
notes ("untrained weights", "traced, not scripted" ...), or the error's
message (nothing is written then). The dialog cannot be closed while an
export runs (there is no way to stop one half-way).

Weights choices (`WeightsChoice`): fresh (untrained) weights, the project's
own (``training["init_weights"]`` or an import's in-memory weights), the last
training run's when the main window knows one, or any weights file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from studio.export import FORMATS, export
from studio.graph import Project
from studio.graph import io as project_io
from studio.ui import dialogs, theme
from studio.ui.background import BackgroundJob
from studio.ui.job_dialog import JobDialog, fit_height, form_layout, html

FRESH, PROJECT, LAST_RUN, FILE = "fresh", "project", "last_run", "file"


@dataclass
class WeightsChoice:
    """One entry of the weights combo: `value` is what `export` gets (None, a path or a state_dict)."""

    kind: str
    label: str
    value: object = None


def default_name(project: Project, fmt: str, network: str = "") -> str:
    """A file name for an export of `project` in format `fmt` (weights-only files and networks of several say so)."""
    name = f"{project.name}_{network}" if network and len(project.networks) > 1 else project.name
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name) or "model"
    return f"{stem}_weights{FORMATS[fmt].suffix}" if fmt == "state_dict" else f"{stem}{FORMATS[fmt].suffix}"


def format_label(fmt: str) -> tuple[str, str]:
    """(short name, description) of a format, from its description line."""
    head, _, rest = FORMATS[fmt].description.partition(":")
    return head.strip(), rest.strip()


class ExportDialog(JobDialog):
    """Export one network of `project` (see the module docstring).

    Attributes after an export: `result` (an `ExportResult`) or `error` (the message).
    """

    failure_title = "Export failed."

    def __init__(self, project: Project, folder: Path, choices: list[WeightsChoice], parent=None):
        super().__init__(parent)
        self.project = project
        self.folder = Path(folder)
        self.result = None
        self._auto_path = True
        self.setWindowTitle("Export network")
        self.setMinimumWidth(600)
        self._build(choices)
        self._format_changed()

    # --- building ---------------------------------------------------------------------
    def _build(self, choices: list[WeightsChoice]) -> None:
        outer = self._outer_layout()
        form = form_layout()
        self.network = QComboBox()
        self.network.addItems(list(self.project.networks))
        self.network.currentIndexChanged.connect(self._network_changed)
        if len(self.project.networks) > 1:
            form.addRow("Network", self.network)
        form.addRow("Format", self._format_field())
        form.addRow("File", self._file_field())
        form.addRow("Weights", self._weights_field(choices))
        outer.addLayout(form)
        outer.addWidget(self._status())
        outer.addStretch(1)
        buttons, self.export_button = self._job_buttons("Export")
        outer.addLayout(buttons)

    def _format_field(self) -> QVBoxLayout:
        """The format combo (each format's description as its tooltip) above the chosen one's description."""
        self.format = QComboBox()
        for name in FORMATS:
            head, desc = format_label(name)
            self.format.addItem(head, name)
            self.format.setItemData(self.format.count() - 1, desc, Qt.ItemDataRole.ToolTipRole)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setStyleSheet(f"color: {theme.current().subtext.name()};")
        fmt_box = QVBoxLayout()
        fmt_box.setSpacing(3)
        fmt_box.addWidget(self.format)
        fmt_box.addWidget(self.description)
        return fmt_box

    def _file_field(self) -> QHBoxLayout:
        self.path = QLineEdit()
        self.path.textEdited.connect(self._path_typed)
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.setSpacing(6)
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        return row

    def _weights_field(self, choices: list[WeightsChoice]) -> QComboBox:
        """The weights combo: ``choices``, then "A weights file…"; chosen: the last run's, else the project's."""
        self.weights = QComboBox()
        self._choices: list[WeightsChoice] = []
        for c in choices:
            self._add_choice(c)
        self._add_choice(WeightsChoice(FILE, "A weights file…"))
        default = next((i for i, c in enumerate(self._choices) if c.kind == LAST_RUN),
                       next((i for i, c in enumerate(self._choices) if c.kind == PROJECT), 0))
        self.weights.setCurrentIndex(default)
        self._weights_index = default
        self.weights.activated.connect(self._weights_chosen)
        return self.weights

    def _status(self) -> QWidget:
        """The export's progress, its step and the outcome box (hidden until an export starts)."""
        self._make_progress()
        self._make_outcome()
        self.outcome.setMinimumHeight(20)
        status = QWidget()
        status_layout = QVBoxLayout(status)
        status_layout.setContentsMargins(0, 0, 0, 0)
        status_layout.setSpacing(6)
        status_layout.addWidget(self.progress)
        status_layout.addWidget(self.step)
        status_layout.addWidget(self.outcome_box)
        return status

    def _add_choice(self, choice: WeightsChoice) -> None:
        self._choices.append(choice)
        self.weights.addItem(choice.label)

    # --- fields -------------------------------------------------------------------------
    @property
    def fmt(self) -> str:
        """The chosen format's key."""
        return self.format.currentData()

    @Slot()
    def _format_changed(self, *_) -> None:
        self.description.setText(format_label(self.fmt)[1])
        if not self.outcome_box.isHidden():  # the result shown was another format's: it would mislead
            self.outcome_box.hide()
            self.outcome.clear()
        if self._auto_path or not self.path.text().strip():
            self.path.setText(str(self.folder / default_name(self.project, self.fmt, self.network.currentText())))
            self._auto_path = True
        else:
            current = Path(self.path.text().strip())
            self.path.setText(str(current.with_suffix(FORMATS[self.fmt].suffix)))

    @Slot()
    def _network_changed(self, *_) -> None:
        if self._auto_path:
            self._format_changed()

    @Slot(str)
    def _path_typed(self, _text: str) -> None:
        self._auto_path = False

    @Slot()
    def _browse(self) -> None:
        chosen = dialogs.ask_export_path(self, self.path.text(), FORMATS[self.fmt].suffix)
        if chosen is not None:
            self.path.setText(str(chosen))
            self._auto_path = False

    @Slot(int)
    def _weights_chosen(self, index: int) -> None:
        choice = self._choices[index]
        if choice.kind != FILE:
            self._weights_index = index
            return
        path = dialogs.ask_weights_path(self, str(self.folder))
        if path is None:  # cancelled: back to what was chosen before
            self.weights.setCurrentIndex(self._weights_index)
            return
        self.set_weights_file(path)

    def set_weights_file(self, path: Path) -> None:
        """Chooses the weights file `path` (what picking "A weights file…" does)."""
        i = len(self._choices) - 1
        self._choices[i] = WeightsChoice(FILE, f"File: {Path(path).name}", Path(path))
        self.weights.setItemText(i, f"File: {Path(path).name}")
        self.weights.setItemData(i, str(path), Qt.ItemDataRole.ToolTipRole)
        self.weights.setCurrentIndex(i)
        self._weights_index = i

    def choose_weights(self, kind: str) -> None:
        """Selects the first weights choice of `kind` (fresh, project, last_run)."""
        for i, c in enumerate(self._choices):
            if c.kind == kind:
                self.weights.setCurrentIndex(i)
                self._weights_index = i
                return
        raise KeyError(kind)

    def weights_kinds(self) -> list[str]:
        """The kinds of weights offered, in order."""
        return [c.kind for c in self._choices]

    # --- running --------------------------------------------------------------------------
    @Slot()
    def start(self) -> None:
        """Starts the export with the fields' values (in the background)."""
        if self.running:
            return
        text = self.path.text().strip()
        if not text:
            self._show_error("Choose the file to write first.")
            return
        choice = self._choices[self.weights.currentIndex()]
        if choice.kind == FILE and choice.value is None:
            self._show_error("Choose the weights file first, or another weights choice.")
            return
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = self.folder / path
        snapshot = project_io.from_dict(project_io.to_dict(self.project), f"project '{self.project.name}'")
        fmt, network, weights = self.fmt, self.network.currentText(), choice.value
        self.result, self.error = None, None
        self._set_busy(True)
        self.job = BackgroundJob(lambda progress: export(snapshot, fmt, path, weights, network, progress), self)
        self.job.start()

    def _set_busy(self, busy: bool) -> None:
        for w in (self.network, self.format, self.path, self.browse, self.weights, self.export_button,
                  self.close_button):
            w.setEnabled(not busy)
        self.progress.setVisible(busy)
        self.step.setVisible(busy)
        if busy:
            self.progress.setValue(0)
            self.step.setText("starting…")
            self.outcome_box.hide()

    @Slot(object)
    def job_done(self, result) -> None:
        self.result = result
        self._set_busy(False)
        t = theme.current()
        files = "".join(f"<li>{html(f)} <span style='color:{t.subtext.name()}'>({_size(f)})</span></li>"
                        for f in result.files)
        notes = "".join(f"<li>{html(n)}</li>" for n in result.notes)
        self.outcome.setText(
            f"<b style='color:{t.valid_target.name()}'>Exported and verified.</b><br>"
            f"Reloaded and compared with the network: <b>max difference {result.max_abs_diff:.2g}</b>"
            + (f"<br>Dynamic dimensions (checked at two sizes): {html(', '.join(result.dynamic))}"
               if result.dynamic else "") +
            f"<p style='margin:6px 0 0 0'>Files written:</p><ul style='margin:2px 0'>{files}</ul>"
            + (f"<p style='margin:6px 0 0 0'>Notes:</p><ul style='margin:2px 0'>{notes}</ul>" if notes else ""))
        self.outcome_box.show()
        fit_height(self)

    # --- closing ---------------------------------------------------------------------------
def _size(path: Path) -> str:
    from studio.ui.summary import human_bytes

    try:
        return human_bytes(Path(path).stat().st_size)
    except OSError:
        return "?"
