"""Marking a layer parameter or a training setting as searched by a sweep.

`SearchButton` is the small "⚲" toggle the inspector puts beside a parameter:
lit when the parameter is marked, its tooltip the range; a click opens
`RangeDialog`. The training panel offers the same dialog from each setting's
context menu ("Search this setting…", `offer`) and marks the label of a
searched setting with "⚲" (`show_marks`). Every mark is one undoable edit
(`Project.set_search` through `Editor.edit`), so it marks the project unsaved
and undoes with Ctrl+Z; see docs/architecture.md. The ranges themselves are
`studio.graph.search`'s.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QMenu, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from studio.errors import StudioError
from studio.graph.search import checked_range, describe

GLYPH = "⚲"
_KINDS = (("range", "float"), ("log range", "log"), ("whole numbers", "int"), ("choices", "choice"))


def suggestion(value: Any, choices: list | tuple = (), low: float | None = None) -> dict:
    """A first range to offer for a value: its choices, a decade either side, half to double."""
    if choices:
        return {"kind": "choice", "choices": list(choices)}
    if isinstance(value, bool):
        return {"kind": "choice", "choices": [True, False]}
    if isinstance(value, int):
        start = max(int(low) if low is not None else 1, value // 2)
        return {"kind": "int", "low": start, "high": max(value * 2, start + 1)}
    if isinstance(value, float) and value > 0:
        return {"kind": "log", "low": float(f"{value / 10:.3g}"), "high": float(f"{value * 10:.3g}")}
    if isinstance(value, float):
        return {"kind": "float", "low": 0.0, "high": 1.0}
    return {"kind": "choice", "choices": [value] if value not in (None, "") else []}


def parse_choice(text: str) -> Any:
    """One typed choice: a whole number, a number, true/false, else the text itself."""
    t = text.strip()
    for read in (int, float):
        try:
            return read(t)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(t.lower(), t)


class RangeDialog(QDialog):
    """Edits one search range; `spec` is the result (None: the mark is to be removed)."""

    def __init__(self, title: str, start: dict, marked: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Search {title}")
        self.spec: dict | None = None
        self.kind = QComboBox()
        for label, kind in _KINDS:
            self.kind.addItem(label, kind)
        self.low, self.high, self.choices = QLineEdit(), QLineEdit(), QLineEdit()
        self.step = QSpinBox()
        self.step.setRange(1, 1_000_000)
        self.choices.setPlaceholderText("adam, sgd")
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #d93025;")
        self.problem.setWordWrap(True)
        self.form = QFormLayout()
        for label, widget in (("Kind", self.kind), ("Low", self.low), ("High", self.high), ("Step", self.step),
                              ("Choices", self.choices)):
            self.form.addRow(label, widget)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        if marked:
            remove = buttons.addButton("Remove mark", QDialogButtonBox.ButtonRole.DestructiveRole)
            remove.clicked.connect(self._remove)
        layout = QVBoxLayout(self)
        hint = QLabel(f"A sweep tries values of <b>{title}</b> in this range.")
        hint.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(hint)
        layout.addLayout(self.form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.kind.currentIndexChanged.connect(self._show_rows)
        self._load(start)

    def _load(self, spec: dict) -> None:
        self.kind.setCurrentIndex(next(i for i, (_, k) in enumerate(_KINDS) if k == spec.get("kind", "float")))
        self.low.setText(str(spec.get("low", "")))
        self.high.setText(str(spec.get("high", "")))
        self.step.setValue(spec.get("step", 1))
        self.choices.setText(", ".join(str(c).lower() if isinstance(c, bool) else str(c)
                                       for c in spec.get("choices", [])))
        self._show_rows()

    def _show_rows(self, *_) -> None:
        kind = self.kind.currentData()
        for widget in (self.low, self.high):
            self.form.setRowVisible(widget, kind != "choice")
        self.form.setRowVisible(self.step, kind == "int")
        self.form.setRowVisible(self.choices, kind == "choice")

    def typed(self) -> dict:
        """The range as typed (not yet checked)."""
        kind = self.kind.currentData()
        if kind == "choice":
            return {"kind": kind, "choices": [parse_choice(t) for t in self.choices.text().split(",") if t.strip()]}
        spec = {"kind": kind, "low": parse_choice(self.low.text()), "high": parse_choice(self.high.text())}
        if kind != "int":  # "1" typed into a float range means 1.0
            spec = {**spec, **{k: float(v) for k, v in spec.items() if isinstance(v, int) and k != "kind"}}
        elif self.step.value() != 1:
            spec["step"] = self.step.value()
        return spec

    def _accept(self) -> None:
        try:
            self.spec = checked_range(self.typed())
        except StudioError as e:
            self.problem.setText(str(e))
            return
        self.accept()

    def _remove(self) -> None:
        self.spec = None
        self.accept()


def apply_mark(editor, project, target: tuple, spec: dict | None, title: str) -> None:
    """Sets or removes a mark, as an undoable edit when there is an `Editor` (plain otherwise)."""
    action = lambda: project.set_search(target, spec)  # noqa: E731
    if editor is not None and hasattr(editor, "edit"):
        editor.edit(f"{'search' if spec else 'stop searching'} {title}", action)
    else:
        action()


def ask_and_mark(parent: QWidget, editor, project, target: tuple, title: str, start: Callable[[], dict]) -> None:
    """Opens the range dialog for a target (its mark, else `start()`) and applies what the user chose."""
    marked = project.search_marks().get(target)
    dialog = RangeDialog(title, marked or start(), marked is not None, parent)
    if dialog.exec() == QDialog.DialogCode.Accepted and (dialog.spec or marked):
        apply_mark(editor, project, target, dialog.spec, title)


class SearchButton(QToolButton):
    """The ⚲ toggle beside one parameter: lit when it is searched; a click edits the range."""

    def __init__(self, editor, target: tuple, title: str, start: Callable[[], dict], parent: QWidget | None = None):
        super().__init__(parent)
        self.editor, self.target, self.title, self.start = editor, target, title, start
        self.setText(GLYPH)
        self.setCheckable(True)
        self.setAutoRaise(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.clicked.connect(self._clicked)
        self.sync()

    def sync(self) -> None:
        """Shows whether the target is marked now (after an edit, an undo, a load)."""
        spec = self.editor.project.search_marks().get(self.target)
        self.setChecked(spec is not None)
        self.setToolTip(f"searched by a sweep: {describe(spec)} (click to change)" if spec
                        else "mark as searched by a sweep")

    def _clicked(self) -> None:
        ask_and_mark(self, self.editor, self.editor.project, self.target, self.title, self.start)
        self.sync()


def with_button(field: QWidget, button: SearchButton) -> QWidget:
    """`field` with the ⚲ button on its right, as one form field."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(field, 1)
    layout.addWidget(button)
    return row


def offer(widget: QWidget, panel, target: tuple, title: str, current: Callable[[], Any]) -> None:
    """Gives a training-panel control the context menu "Search this setting…" (`panel`: its ConfigPanel)."""
    widget.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def show_menu(pos) -> None:
        if panel.project is None:
            return
        menu = QMenu(widget)
        marked = target in panel.project.search_marks()
        menu.addAction(f"Change search range of {title}…" if marked else f"Search {title}…", lambda: ask_and_mark(
            widget, _editor_of(panel), panel.project, target, title, lambda: _start_for(widget, current())))
        if marked:
            menu.addAction(f"Stop searching {title}", lambda: apply_mark(
                _editor_of(panel), panel.project, target, None, title))
        menu.exec(widget.mapToGlobal(pos))

    widget.customContextMenuRequested.connect(show_menu)


def _editor_of(panel):
    # The panel writes settings through the window's Editor.set_setting; its Editor makes marks undoable too.
    return getattr(getattr(panel, "_write_setting", None), "__self__", None)


def _start_for(widget: QWidget, value: Any) -> dict:
    choices = [widget.itemData(i) for i in range(widget.count())] if isinstance(widget, QComboBox) else ()
    return suggestion(value, choices)


def show_marks(fields: dict[QWidget, tuple], project) -> None:
    """Puts ⚲ before the form label of each field whose target is searched (and takes it off the others)."""
    marks = project.search_marks() if project is not None else {}
    for widget, target in fields.items():
        label = form_label(widget)
        if label is None:
            continue
        text = label.text().removeprefix(GLYPH + " ")
        label.setText(f"{GLYPH} {text}" if target in marks else text)
        label.setToolTip(f"searched by a sweep: {describe(marks[target])}" if target in marks else "")


def form_label(widget: QWidget) -> QLabel | None:
    """The label of the form row that holds `widget`, itself or inside a row of widgets (the lr and its Find…)."""
    while widget is not None and widget.parentWidget() is not None:
        form = widget.parentWidget().layout()
        label = form.labelForField(widget) if isinstance(form, QFormLayout) else None
        if label is not None:
            return label
        widget = widget.parentWidget()
    return None
