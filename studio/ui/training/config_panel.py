"""`ConfigPanel`: a form over the project's "training" and "data" sections.

Every control is bound to one key (`_Binding`): it shows the section's value,
or the default when the key is absent, and a change writes just that key back
through the `write` function it was given (the editor's undoable
`Editor.set_setting`; `Project.set_setting` when there is none), so a
settings edit marks the project unsaved, is autosaved and undoes with Ctrl+Z
like any other, and keys the panel does not know (``input_shape``, a
source's own options) are kept. When the project's settings change elsewhere
(undo, another editor) the panel reloads with its signals blocked, so nothing
echoes. Each setting's context menu can mark it as searched by a sweep;
a searched setting's label starts with ⚲ (`studio.ui.search_marks`).

Signals:
    edited(str): a section ("training" or "data") was written by the panel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGridLayout, QGroupBox,
    QHBoxLayout, QLineEdit, QPushButton, QScrollArea, QSpinBox, QVBoxLayout, QWidget,
)

from studio.data import describe_sources
from studio.data.settings import COMMON_DEFAULTS
from studio.train.config import COMPILE_MODES, LOSS_NAMES, OPTIMIZER_NAMES, SCHEDULE_NAMES, TrainConfig
from studio.ui import search_marks
from studio.ui.training.augment_preview import AugmentPreview
from studio.ui.training.teacher import TeacherChooser

_DEFAULTS = TrainConfig().to_dict()
_LOSS_LABELS = {"auto": "auto (from the task)", "cross_entropy": "cross entropy",
                "bce": "binary cross entropy", "bce_logits": "BCE with logits", "mse": "mean squared error",
                "l1": "mean absolute error (L1)", "kl_div": "KL divergence", "nll": "negative log likelihood"}
_OPT_LABELS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop"}
_SCHEDULE_LABELS = {"none": "constant", "step": "step decay", "cosine": "cosine",
                    "onecycle": "one-cycle", "plateau": "reduce on plateau"}
_METRICS = ("val_loss", "val_accuracy", "val_macro_f1", "val_mae", "val_rmse", "val_r2", "train_loss")
# Augmentation checkboxes: key, label, the value a tick sets (unless the project has its own).
_AUGMENT = (("flip", "Flip", True), ("crop_padding", "Crop (pad 4)", 4),
            ("rotation", "Rotate ±15°", 15.0), ("noise", "Noise 0.05", 0.05))
# File sources: the settings naming their files, and whether each is a folder.
_SOURCE_PATHS = {
    "mnist": (("images", False), ("labels", False)),
    "cifar10": (("path", True),),
    "image_folder": (("path", True),),
    "csv": (("path", False), ("target", None)),
    "npz": (("path", False),),
    "text": (("path", False),),
}


class LogSpinBox(QDoubleSpinBox):
    """A spin box for values spanning decades (a learning rate): steps 1, 2, 5, 10, 20...; shows 3e-4."""

    def __init__(self, low: float = 1e-7, high: float = 1e6, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDecimals(12)
        self.setRange(low, high)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:
        return f"{value:.4g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        try:
            value = float(text)
        except ValueError:
            ok = all(c in "0123456789.eE+-" for c in text)
            return QValidator.State.Intermediate if ok else QValidator.State.Invalid
        ok = self.minimum() <= value <= self.maximum()
        return QValidator.State.Acceptable if ok else QValidator.State.Intermediate

    def stepBy(self, steps: int) -> None:
        value = self.value()
        for _ in range(abs(steps)):
            value = _next_125(value, up=steps > 0)
        self.setValue(min(max(value, self.minimum()), self.maximum()))


def _next_125(value: float, up: bool) -> float:
    """The next value of the 1-2-5 series above (or below) ``value``."""
    if value <= 0:
        return 1e-7 if up else 0.0
    exponent = math.floor(math.log10(value))
    candidates = [m * 10.0 ** e for e in (exponent - 1, exponent, exponent + 1) for m in (1, 2, 5)]
    if up:
        return min(c for c in candidates if c > value * (1 + 1e-9))
    below = [c for c in candidates if c < value * (1 - 1e-9)]
    return max(below) if below else 0.0


@dataclass
class _Binding:
    """One control bound to one key of a section (a dotted key reaches into a nested dict)."""

    section: str
    key: str
    default: Any
    read: Callable[[], Any]
    show: Callable[[Any], None]
    widget: QWidget


class ConfigPanel(QScrollArea):
    """The training and data settings of one project, as a scrollable form."""

    edited = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.project = None
        self._bindings: list[_Binding] = []
        self._writing = False
        self._write_setting: Callable[..., Any] | None = None
        self.path = None  # the project's file (the dock sets it): a teacher network of this project is read there
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 8, 4)
        layout.setSpacing(8)
        layout.addWidget(self._optimisation_group())
        layout.addWidget(self._schedule_group())
        layout.addWidget(self._regularisation_group())
        layout.addWidget(self._run_group())
        layout.addWidget(self._distillation_group())
        layout.addWidget(self._data_group())
        layout.addStretch(1)
        self.setWidget(body)
        self.setMinimumWidth(body.minimumSizeHint().width() + 24)
        self.setEnabled(False)
        self.reload()  # the defaults, until a project is shown

    # --- the groups -------------------------------------------------------------------
    def _optimisation_group(self) -> QGroupBox:
        box, form = _group("Optimisation")
        self.loss = self._combo("training", "loss", [(_LOSS_LABELS[n], n) for n in LOSS_NAMES])
        self.optimizer = self._combo("training", "optimizer", [(_OPT_LABELS[n], n) for n in OPTIMIZER_NAMES])
        self.lr = self._log_spin("training", "lr")
        self.momentum = self._double("training", "momentum", 0.0, 1.0, 0.05, 3)
        self.epochs = self._int("training", "epochs", 1, 100_000)
        self.batch_size = self._int("training", "batch_size", 1, 65_536)
        form.addRow("Loss", self.loss)
        form.addRow("Optimizer", self.optimizer)
        form.addRow("Learning rate", self._lr_row())
        form.addRow("Momentum", self.momentum)
        form.addRow("Epochs", self.epochs)
        form.addRow("Batch size", self.batch_size)
        self._opt_form = form
        self.optimizer.currentIndexChanged.connect(self._update_rows)
        return box

    def _lr_row(self) -> QWidget:
        """The learning rate with its "Find…" button (the range test, studio/ui/training/lr_finder.py)."""
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.lr, 1)
        self.find_lr = QPushButton("Find…")
        self.find_lr.setToolTip("Sweep the learning rate over a few hundred training steps and suggest one")
        self.find_lr.clicked.connect(self.open_lr_finder)
        layout.addWidget(self.find_lr)
        return row

    def open_lr_finder(self):
        """Opens the learning-rate finder on the project; its "Use this rate" sets the rate (one undo step)."""
        from studio.ui.training.lr_finder import LrFinderDialog

        path = getattr(getattr(self.window(), "document", None), "path", None)
        self.lr_finder = LrFinderDialog(self.project, Path(path).parent if path else None,
                                        self.lr.setValue, self)  # the spin box writes it, as typing would
        self.lr_finder.show()
        self.lr_finder.start()
        return self.lr_finder

    def wait_for_jobs(self) -> None:
        """Blocks until the augmentation preview and a running learning-rate finder have finished."""
        self.augment_preview.wait()
        finder = getattr(self, "lr_finder", None)
        if finder is not None and finder.job is not None:
            finder.job.wait()

    def _schedule_group(self) -> QGroupBox:
        box, form = _group("Learning-rate schedule")
        self.schedule = self._combo("training", "schedule", [(_SCHEDULE_LABELS[n], n) for n in SCHEDULE_NAMES])
        self.warmup = self._int("training", "warmup_epochs", 0, 1000)
        self.step_size = self._int("training", "step_size", 1, 10_000, suffix=" epochs")
        self.gamma = self._double("training", "gamma", 0.001, 1.0, 0.05, 3)
        self.min_lr = self._log_spin("training", "min_lr", low=0.0)
        self.plateau_patience = self._int("training", "plateau_patience", 0, 1000, suffix=" epochs")
        self.plateau_factor = self._double("training", "plateau_factor", 0.001, 1.0, 0.05, 3)
        form.addRow("Schedule", self.schedule)
        form.addRow("Warm-up", self.warmup)
        form.addRow("Step every", self.step_size)
        form.addRow("Decay (γ)", self.gamma)
        form.addRow("Minimum LR", self.min_lr)
        form.addRow("Wait", self.plateau_patience)
        form.addRow("Factor", self.plateau_factor)
        self.warmup.setSuffix(" epochs")
        self._schedule_form = form
        self.schedule.currentIndexChanged.connect(self._update_rows)
        return box

    def _regularisation_group(self) -> QGroupBox:
        box, form = _group("Regularisation")
        self.weight_decay = self._log_spin("training", "weight_decay", low=0.0)
        self.l1 = self._log_spin("training", "l1", low=0.0)
        self.grad_clip = self._double("training", "grad_clip", 0.0, 1e6, 0.5, 3)
        self.label_smoothing = self._double("training", "label_smoothing", 0.0, 1.0, 0.05, 3)
        self.grad_clip.setSpecialValueText("off")
        form.addRow("L2 (weight decay)", self.weight_decay)
        form.addRow("L1", self.l1)
        form.addRow("Gradient clip", self.grad_clip)
        form.addRow("Label smoothing", self.label_smoothing)
        return box

    def _run_group(self) -> QGroupBox:
        box, form = _group("Stopping and device")
        self.early_metric = self._combo("training", "early_stop_metric", [(m, m) for m in _METRICS])
        self.early_patience = self._int("training", "early_stop_patience", 0, 10_000, suffix=" epochs")
        self.early_patience.setSpecialValueText("off")
        self.seed = self._int("training", "seed", 0, 2**31 - 1)
        self.keep_checkpoints = self._int("training", "keep_checkpoints", 0, 100_000, suffix=" newest")
        self.keep_checkpoints.setSpecialValueText("all")
        self.keep_checkpoints.setToolTip("The newest epoch checkpoints kept in the run's folder (to resume from); "
                                         "the best epoch's, best.pt and final.pt are kept too")
        self.device = self._combo("training", "device", [(d, d) for d in available_devices()])
        self.mixed_precision = self._combo(
            "training", "mixed_precision", [("auto (CUDA only)", "auto"), ("on (bf16)", True), ("off", False)])
        self.mixed_precision.setToolTip("bf16 autocast; used on CUDA only")
        self.compile = self._combo("training", "compile", [(m, m) for m in COMPILE_MODES])
        self.compile.setToolTip("torch.compile the model before training (the first steps take longer); "
                                "a model it cannot compile trains as it is, with a warning")
        form.addRow("Early stop on", self.early_metric)
        form.addRow("Patience", self.early_patience)
        form.addRow("Seed", self.seed)
        form.addRow("Checkpoints", self.keep_checkpoints)
        form.addRow("Device", self.device)
        form.addRow("Mixed precision", self.mixed_precision)
        self.histogram_every = self._int("training", "histogram_every", 0, 1_000_000, suffix=" steps")
        self.histogram_every.setSpecialValueText("off")
        self.histogram_every.setToolTip("Every this many steps, histograms of each layer's weights, gradients and "
                                        "outputs and the gradient norms (the Layers tab; the canvas marks layers "
                                        "whose gradients vanish or explode)")
        self.tensorboard = self._combo("training", "tensorboard",
                                       [("auto (if installed)", "auto"), ("on", True), ("off", False)])
        self.tensorboard.setToolTip("TensorBoard event files in the run's folder: tensorboard --logdir RUN_FOLDER")
        form.addRow("Histograms every", self.histogram_every)
        form.addRow("TensorBoard", self.tensorboard)
        form.addRow("Compile", self.compile)
        self.qat = self._combo("training", "qat", [("off", "off"), ("int8 (Linear layers, torchao)", "int8")])
        self.qat.setToolTip("Quantization-aware training: Linear layers train through int8 fake quantization "
                            "(torchao); the run also saves final_int8.pt")
        form.addRow("Quantization-aware", self.qat)
        return box

    def _distillation_group(self) -> QGroupBox:
        """The teacher (none, another network of this file, a project file), its weights, T and alpha."""
        box, form = _group("Distillation")
        self.teacher = TeacherChooser()
        self.teacher.chosen.connect(self._write_teacher)
        self.teacher_weights = QLineEdit()
        self.teacher_weights.setPlaceholderText("the teacher's final.pt")
        self._bind("training", "teacher_weights", self.teacher_weights, self.teacher_weights.text,
                   lambda v: self.teacher_weights.setText(v or ""))
        self.teacher_weights.editingFinished.connect(
            lambda: self._write("training", "teacher_weights", self.teacher_weights.text().strip() or None))
        self.distill_temperature = self._double("training", "distill_temperature", 0.1, 100.0, 0.5, 1)
        self.distill_temperature.setToolTip("T: softens the teacher's and the student's outputs")
        self.distill_alpha = self._double("training", "distill_alpha", 0.0, 1.0, 0.05, 2)
        self.distill_alpha.setToolTip("The weight of the teacher's term; the labels' cross entropy gets 1 - alpha")
        form.addRow("Teacher", self.teacher)
        form.addRow("Weights", self.teacher_weights)
        form.addRow("Temperature", self.distill_temperature)
        form.addRow("Alpha", self.distill_alpha)
        self._distil_form = form
        return box

    def _write_teacher(self, changes: dict) -> None:
        for key, value in changes.items():
            self._write("training", key, value)
        self.reload()

    def _data_group(self) -> QGroupBox:
        box, form = _group("Data")
        sources = describe_sources()
        self.source = self._combo("data", "source", [(f"{n}  ({k})", n) for n, k, _ in sources],
                                  default=COMMON_DEFAULTS["source"])
        for i, (_, _, description) in enumerate(sources):
            self.source.setItemData(i, description, Qt.ItemDataRole.ToolTipRole)
        self.source.currentIndexChanged.connect(self._update_rows)
        self.val_split = self._double("data", "val_split", 0.0, 0.9, 0.05, 2,
                                      default=COMMON_DEFAULTS["val_split"])
        self.test_split = self._double("data", "test_split", 0.0, 0.9, 0.05, 2,
                                       default=COMMON_DEFAULTS["test_split"])
        self.normalize = self._check("data", "normalize", "per-channel mean and std",
                                     default=COMMON_DEFAULTS["normalize"])
        augment = QWidget()
        grid = QGridLayout(augment)
        grid.setContentsMargins(0, 0, 0, 0)
        self.augment: dict[str, QCheckBox] = {}
        for i, (key, label, value) in enumerate(_AUGMENT):
            box_ = self._augment_check(key, label, value)
            self.augment[key] = box_
            grid.addWidget(box_, i // 2, i % 2)
        self.max_samples = self._int("data", "max_samples", 0, 10**9, default=None, zero_is_none=True)
        self.max_samples.setSpecialValueText("all")
        self.path_edits: dict[str, QWidget] = {}
        form.addRow("Source", self.source)
        self._data_form = form
        for key, folder in {k: f for paths in _SOURCE_PATHS.values() for k, f in paths}.items():
            row = self._path_row(key, folder)
            self.path_edits[key] = row
            form.addRow(key.capitalize(), row)
        form.addRow("Validation", self.val_split)
        form.addRow("Test", self.test_split)
        form.addRow("Normalise", self.normalize)
        form.addRow("Augment", augment)
        self.augment_preview = AugmentPreview(self)  # studio/ui/training/augment_preview.py
        form.addRow("", self.augment_preview)
        self.edited.connect(self.augment_preview.request)
        form.addRow("Max samples", self.max_samples)
        return box

    # --- controls bound to keys -------------------------------------------------------
    def _bind(self, section: str, key: str, widget: QWidget, read, show, default=None) -> None:
        if default is None and section == "training":
            default = _DEFAULTS[key]
        self._bindings.append(_Binding(section, key, default, read, show, widget))
        if "." not in key:  # a nested data key (augment.flip) is not a setting a sweep can set
            search_marks.offer(widget, self, ("setting", section, key), key,
                               lambda: _get(getattr(self.project, section) or {}, key) or read())

    def _combo(self, section: str, key: str, items: list[tuple[str, Any]], default=None) -> QComboBox:
        combo = QComboBox()
        for label, value in items:
            combo.addItem(label, value)

        def show(value: Any) -> None:
            index = next((i for i in range(combo.count()) if combo.itemData(i) == value
                          and type(combo.itemData(i)) is type(value)), -1)
            if index < 0:  # a value the list lacks (cuda:3 on this machine): show it as it is
                combo.addItem(str(value), value)
                index = combo.count() - 1
            combo.setCurrentIndex(index)

        self._bind(section, key, combo, combo.currentData, show, default)
        combo.currentIndexChanged.connect(lambda *_: self._write(section, key, combo.currentData()))
        return combo

    def _int(self, section: str, key: str, low: int, high: int, suffix: str = "", default=None,
             zero_is_none: bool = False) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setSuffix(suffix)
        spin.setKeyboardTracking(False)
        spin.setAccelerated(True)
        self._bind(section, key, spin, spin.value, lambda v: spin.setValue(int(v or 0)), default)
        spin.valueChanged.connect(lambda v: self._write(section, key, None if zero_is_none and not v else v))
        return spin

    def _double(self, section: str, key: str, low: float, high: float, step: float, decimals: int,
                default=None) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(low, high)
        spin.setSingleStep(step)
        spin.setDecimals(decimals)
        spin.setKeyboardTracking(False)
        self._bind(section, key, spin, spin.value, lambda v: spin.setValue(float(v or 0)), default)
        spin.valueChanged.connect(lambda v: self._write(section, key, v))
        return spin

    def _log_spin(self, section: str, key: str, low: float = 1e-7) -> LogSpinBox:
        spin = LogSpinBox(low=low)
        if low == 0.0:
            spin.setSpecialValueText("0")
        self._bind(section, key, spin, spin.value, lambda v: spin.setValue(float(v)))
        spin.valueChanged.connect(lambda v: self._write(section, key, v))
        return spin

    def _check(self, section: str, key: str, label: str, default=None) -> QCheckBox:
        box = QCheckBox(label)
        self._bind(section, key, box, box.isChecked, lambda v: box.setChecked(bool(v)), default)
        box.toggled.connect(lambda v: self._write(section, key, v))
        return box

    def _augment_check(self, key: str, label: str, on_value: Any) -> QCheckBox:
        box = QCheckBox(label)
        self._bind("data", f"augment.{key}", box, box.isChecked, lambda v: box.setChecked(bool(v)), False)
        box.toggled.connect(lambda v: self._write("data", f"augment.{key}", on_value if v else None))
        return box

    def _path_row(self, key: str, folder: bool | None) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        edit = QLineEdit()
        edit.setPlaceholderText("column name" if folder is None else "relative to the project file")
        layout.addWidget(edit, 1)
        if folder is not None:
            browse = QPushButton("…")
            browse.setFixedWidth(28)
            browse.setToolTip("Choose a folder" if folder else "Choose a file")
            browse.clicked.connect(lambda: self._browse(edit, folder))
            layout.addWidget(browse)
        row.edit = edit
        self._bind("data", key, edit, edit.text, lambda v: edit.setText("" if v is None else str(v)), "")
        edit.editingFinished.connect(lambda: self._write("data", key, edit.text().strip() or None))
        return row

    def _browse(self, edit: QLineEdit, folder: bool) -> None:
        if folder:
            chosen = QFileDialog.getExistingDirectory(self, "Choose the data folder", edit.text())
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, "Choose the data file", edit.text())
        if chosen:
            edit.setText(chosen)
            edit.editingFinished.emit()

    # --- project <-> controls ---------------------------------------------------------
    def set_project(self, project: Any, write: Callable[..., Any] | None = None) -> None:
        """Show (and from now on edit) ``project``'s settings; None empties and disables the form.

        ``write(section, key, value, merge_key=...)`` makes each change (default: `Project.set_setting`).
        """
        if self.project is not None:
            self.project.setting_changed.disconnect(self._settings_changed)
            self.project.search_changed.disconnect(self._show_marks)
        self.project = project
        self._write_setting = write or _plain_write(project)
        if project is not None:
            project.setting_changed.connect(self._settings_changed)
            project.search_changed.connect(self._show_marks)
        self.setEnabled(project is not None)
        self.reload()

    def _settings_changed(self, section: str, *_: Any) -> None:
        if section in ("training", "data") and not self._writing:
            self.reload()

    def reload(self) -> None:
        """Show the project's current values, the defaults with none (signals blocked: nothing is written back)."""
        for b in self._bindings:
            section = (getattr(self.project, b.section) or {}) if self.project is not None else {}
            value = _get(section, b.key)
            b.widget.blockSignals(True)
            try:
                b.show(b.default if value is None else value)
            finally:
                b.widget.blockSignals(False)
        self.teacher.show_project(self.project, self.path)
        self._update_rows()
        self._show_marks()
        self.augment_preview.request()

    def _show_marks(self, *_: Any) -> None:
        search_marks.show_marks({b.widget: ("setting", b.section, b.key) for b in self._bindings}, self.project)

    def _write(self, section: str, key: str, value: Any) -> None:
        if self.project is None:
            return
        current = dict(getattr(self.project, section) or {})
        if _get(current, key) == value and (value is not None or not _has(current, key)):
            return
        _set(current, key, value)
        top = key.split(".")[0]
        self._writing = True
        try:
            self._write_setting(section, top, current.get(top), merge_key=("setting", section, key))
        finally:
            self._writing = False
        self.edited.emit(section)

    def _update_rows(self, *_: Any) -> None:
        opt = self.optimizer.currentData()
        self._opt_form.setRowVisible(self.momentum, opt in ("sgd", "rmsprop"))
        schedule = self.schedule.currentData()
        self._schedule_form.setRowVisible(self.step_size, schedule == "step")
        self._schedule_form.setRowVisible(self.gamma, schedule == "step")
        self._schedule_form.setRowVisible(self.min_lr, schedule == "cosine")
        self._schedule_form.setRowVisible(self.plateau_patience, schedule == "plateau")
        self._schedule_form.setRowVisible(self.plateau_factor, schedule == "plateau")
        distil = self.project is not None and (self.project.training or {}).get("recipe") == "distillation"
        for row in (self.teacher_weights, self.distill_temperature, self.distill_alpha):
            self._distil_form.setRowVisible(row, distil)
        wanted = {k for k, _ in _SOURCE_PATHS.get(self.source.currentData(), ())}
        for key, row in self.path_edits.items():
            self._data_form.setRowVisible(row, key in wanted)


def available_devices() -> list[str]:
    """The devices this machine can train on: auto, cpu, then cuda / cuda:N and mps when present."""
    devices = ["auto", "cpu"]
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        devices += ["cuda"] if count == 1 else [f"cuda:{i}" for i in range(count)]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return devices


def _plain_write(project: Any) -> Callable[..., Any] | None:
    """Writes a setting straight into `project` (no undo): for a panel shown without an editor."""
    if project is None:
        return None
    return lambda section, key, value, merge_key=None: project.set_setting(section, key, value)


def _group(title: str) -> tuple[QGroupBox, QFormLayout]:
    box = QGroupBox(title)
    form = QFormLayout(box)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    form.setContentsMargins(8, 6, 8, 8)
    form.setVerticalSpacing(4)
    return box, form


def _get(section: dict, key: str) -> Any:
    for part in key.split(".")[:-1]:
        section = section.get(part) if isinstance(section.get(part), dict) else {}
    return section.get(key.split(".")[-1])


def _has(section: dict, key: str) -> bool:
    for part in key.split(".")[:-1]:
        section = section.get(part) if isinstance(section.get(part), dict) else {}
    return key.split(".")[-1] in section


def _set(section: dict, key: str, value: Any) -> None:
    """Set (or, for None, remove) a dotted key, copying each nested dict on the way."""
    parts = key.split(".")
    for part in parts[:-1]:
        inner = section.get(part)
        section[part] = dict(inner) if isinstance(inner, dict) else {}
        section = section[part]
    if value is None:
        section.pop(parts[-1], None)
    else:
        section[parts[-1]] = value
