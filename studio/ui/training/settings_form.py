"""`SettingsForm`: a scrollable form whose controls are bound to keys of a project's settings sections.

Every control is bound to one key (`_Binding`): it shows the section's value,
or the default when the key is absent, and a change writes just that key back
through the `write` function it was given (the editor's undoable
`Editor.set_setting`; `Project.set_setting` when there is none), so a
settings edit marks the project unsaved, is autosaved and undoes with Ctrl+Z
like any other, and keys the form does not know (``input_shape``, a
source's own options) are kept. When the project's settings change elsewhere
(undo, another editor) the form reloads with its signals blocked, so nothing
echoes. Each setting's context menu can mark it as searched by a sweep;
a searched setting's label starts with ⚲ (`studio.ui.search_marks`).

The controls are made by the form's factories (`_combo`, `_int`, `_double`,
`_log_spin`, `_check`, `_augment_check`, `_path_row`); which settings a form
shows, and how they are grouped, is its subclass's (`ConfigPanel`).

Signals:
    edited(str): a section ("training" or "data") was written by the form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLineEdit,
    QPushButton, QScrollArea, QSpinBox, QWidget,
)

from studio.train.config import TrainConfig
from studio.ui import search_marks
from studio.ui.training.log_spin import LogSpinBox

_DEFAULTS = TrainConfig().to_dict()


@dataclass
class _Binding:
    """One control bound to one key of a section (a dotted key reaches into a nested dict)."""

    section: str
    key: str
    default: Any
    read: Callable[[], Any]
    show: Callable[[Any], None]
    widget: QWidget


class SettingsForm(QScrollArea):
    """A scrollable form of controls bound to settings keys (see the module docstring)."""

    edited = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.project = None
        self._bindings: list[_Binding] = []
        self._writing = False
        self._write_setting: Callable[..., Any] | None = None
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QScrollArea.Shape.NoFrame)

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
        self._show_values()
        self._show_marks()

    def _show_values(self) -> None:
        for b in self._bindings:
            section = (getattr(self.project, b.section) or {}) if self.project is not None else {}
            value = _get(section, b.key)
            b.widget.blockSignals(True)
            try:
                b.show(b.default if value is None else value)
            finally:
                b.widget.blockSignals(False)

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


def _plain_write(project: Any) -> Callable[..., Any] | None:
    """Writes a setting straight into `project` (no undo): for a panel shown without an editor."""
    if project is None:
        return None
    return lambda section, key, value, merge_key=None: project.set_setting(section, key, value)


def form_group(title: str) -> tuple[QGroupBox, QFormLayout]:
    """A titled box holding a form of label / control rows, labels right-aligned."""
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
