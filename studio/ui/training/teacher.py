"""Picking the teacher of a distillation run: none, another network of this file, or a project file.

`TeacherChooser` is the combo box of the training panel's Distillation group.
It shows the project's ``training.teacher`` / ``teacher_network`` and, when
the user picks, emits `chosen` with the training keys to write: the
distillation recipe, the teacher file (this project's own file for one of its
other networks: the saved version is what trains) and the network, or, for
"none", the keys removed (None) and the supervised recipe back.

Signals:
    chosen(dict): training key -> new value (None removes the key).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QFileDialog, QWidget

_NONE = "none (labels only)"
_FILE = "a project file…"


class TeacherChooser(QComboBox):
    """The teacher choice (see the module docstring)."""

    chosen = Signal(dict)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.path: Path | None = None
        self.setToolTip("Distil from a trained teacher: its softened outputs and the labels train this network")
        self.activated.connect(self._picked)

    def show_project(self, project: Any, path: Path | None) -> None:
        """Lists the choices for `project` (saved at `path`) and shows its current teacher; emits nothing."""
        self.path = Path(path) if path is not None else None
        training = (project.training or {}) if project is not None else {}
        others = list(project.networks)[1:] if project is not None else []
        self.blockSignals(True)
        self.clear()
        self.addItem(_NONE, None)
        for name in others:
            self.addItem(f"network '{name}' of this file", f"network:{name}")
            if self.path is None:  # the child process reads the teacher from disk
                self.model().item(self.count() - 1).setEnabled(False)
                self.setItemData(self.count() - 1, "Save the project first: the teacher is read from its file",
                                 Qt.ItemDataRole.ToolTipRole)
        teacher = training.get("teacher") or ""
        if teacher and self.path is not None and Path(teacher) == self.path and training.get("teacher_network"):
            index = self.findData(f"network:{training['teacher_network']}")
        elif teacher:
            self.addItem(f"file {Path(teacher).name}", f"file:{teacher}")
            index = self.count() - 1
        else:
            index = 0
        self.addItem(_FILE, "browse")
        self.setCurrentIndex(max(index, 0))
        self.blockSignals(False)

    @Slot(int)
    def _picked(self, index: int) -> None:
        data = self.itemData(index)
        if data == "browse":
            chosen, _ = QFileDialog.getOpenFileName(self, "Choose the teacher project", "",
                                                    "Network Studio projects (*.json)")
            if not chosen:
                return
            data = f"file:{chosen}"
        self.chosen.emit(teacher_settings(data, self.path))


def teacher_settings(choice: str | None, own_path: Path | None) -> dict[str, Any]:
    """The training keys a choice ("network:NAME", "file:PATH"; None: back to the labels alone) writes."""
    if choice is None:
        return {"recipe": None, "teacher": None, "teacher_network": None, "teacher_weights": None}
    kind, _, value = choice.partition(":")
    if kind == "network":
        return {"recipe": "distillation", "teacher": str(own_path), "teacher_network": value}
    return {"recipe": "distillation", "teacher": value, "teacher_network": None}
