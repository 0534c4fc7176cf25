"""`ConfigPanel`: a form over the project's "training" and "data" sections.

Which settings the panel shows, in which groups (optimisation, schedule,
regularisation, stopping and device, distillation, data), and which rows
only matter for the current choice (momentum for SGD and RMSprop, a
schedule's own figures, a source's files). Each control is bound to one
settings key by `SettingsForm` (`settings_form.py`): a change is one
undoable edit, and a change made elsewhere reloads the form.

Signals:
    edited(str): a section ("training" or "data") was written by the panel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox, QGridLayout, QGroupBox, QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget,
)

from studio.data import describe_sources
from studio.data.settings import COMMON_DEFAULTS
from studio.train.config import COMPILE_MODES, LOSS_NAMES, OPTIMIZER_NAMES, SCHEDULE_NAMES
from studio.ui.training.augment_preview import AugmentPreview
from studio.ui.training.settings_form import SettingsForm, form_group
from studio.ui.training.teacher import TeacherChooser

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


class ConfigPanel(SettingsForm):
    """The training and data settings of one project, as a scrollable form."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.path = None  # the project's file (the dock sets it): a teacher network of this project is read there
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
        box, form = form_group("Optimisation")
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
        box, form = form_group("Learning-rate schedule")
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
        box, form = form_group("Regularisation")
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
        box, form = form_group("Stopping and device")
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
        box, form = form_group("Distillation")
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
        box, form = form_group("Data")
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

    # --- project <-> controls ---------------------------------------------------------
    def reload(self) -> None:
        """Show the project's current values, the defaults with none (signals blocked: nothing is written back)."""
        self._show_values()
        self.teacher.show_project(self.project, self.path)
        self._update_rows()
        self._show_marks()
        self.augment_preview.request()


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

