"""One small editor widget per parameter kind, made by `editor_for(param, ...)`.

Every editor is a `ParamEditor`: `set_value(v)` shows a model value with the
widget's signals blocked (so nothing echoes back), `committed(value)` is sent
as the user changes it (each keystroke that parses, each arrow click, each
toggle), and `set_problem(text)` marks it red with the reason as tooltip.

    int             QSpinBox with the param's range
    float           line edit (accepts 1e-5)
    bool            check box
    choice          combo box
    ints            line edit: "3" or "3, 5" (or a named choice such as "same")
    shape           line edit: "1, 28, 28"
    str             line edit
    optional_*      line edit; empty means None
    inferred        read-only label with the value the input shape decided

Inside a block every non-bool editor is a line edit that also accepts a
`$expression` of the block's parameters ("$width * 2").
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QSpinBox, QWidget

from studio.catalog import Param, is_expression
from studio.catalog.values import format_value, parse_value

INT_MIN, INT_MAX = -2_147_483_647, 2_147_483_647


class ParamEditor(QWidget):
    """Base of the editors: `committed(value)`, `set_value(value)`, `set_problem(text)`."""

    committed = Signal(object)

    def __init__(self, param: Param, parent=None):
        super().__init__(parent)
        self.param = param
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.setToolTip(param.doc)

    def set_value(self, value) -> None:
        """Shows `value` without sending `committed`."""
        raise NotImplementedError

    def set_problem(self, text: str | None) -> None:
        """Marks the editor as refused (text) or fine (None)."""
        self.setProperty("problem", bool(text))
        self.setStyleSheet("QLineEdit, QSpinBox { border: 1.5px solid #d93025; border-radius: 3px; }" if text else "")
        self.setToolTip(text or self.param.doc)


class IntEditor(ParamEditor):
    """A spin box within the parameter's range."""

    def __init__(self, param, parent=None):
        super().__init__(param, parent)
        self.spin = QSpinBox()
        lo = int(param.min) if param.min is not None else INT_MIN
        hi = int(min(param.max, INT_MAX)) if param.max is not None else INT_MAX
        self.spin.setRange(lo, hi)
        self.spin.setKeyboardTracking(True)  # shapes follow each digit typed
        self._layout.addWidget(self.spin)
        self.spin.valueChanged.connect(self.committed.emit)

    def set_value(self, value) -> None:
        if isinstance(value, int) and value != self.spin.value():
            self.spin.blockSignals(True)
            self.spin.setValue(value)
            self.spin.blockSignals(False)


class BoolEditor(ParamEditor):
    """A check box."""

    def __init__(self, param, parent=None):
        super().__init__(param, parent)
        self.box = QCheckBox()
        self._layout.addWidget(self.box)
        self.box.toggled.connect(self.committed.emit)

    def set_value(self, value) -> None:
        self.box.blockSignals(True)
        self.box.setChecked(bool(value))
        self.box.blockSignals(False)


class ChoiceEditor(ParamEditor):
    """A combo box of the allowed values."""

    def __init__(self, param, parent=None):
        super().__init__(param, parent)
        self.combo = QComboBox()
        for c in param.choices:
            self.combo.addItem(str(c), c)
        self._layout.addWidget(self.combo)
        self.combo.currentIndexChanged.connect(lambda i: self.committed.emit(self.combo.itemData(i)))

    def set_value(self, value) -> None:
        i = self.combo.findData(value)
        if i >= 0:
            self.combo.blockSignals(True)
            self.combo.setCurrentIndex(i)
            self.combo.blockSignals(False)


class TextEditor(ParamEditor):
    """A line edit parsed by kind (floats, lists, optional values, `$expressions`)."""

    def __init__(self, param, allow_expr: bool = False, parent=None):
        super().__init__(param, parent)
        self.allow_expr = allow_expr
        self.line = QLineEdit()
        hint = {"ints": "e.g. 3 or 3, 5", "shape": "e.g. 1, 28, 28", "optional_int": "empty: none",
                "optional_float": "empty: none"}.get(param.kind, "")
        if allow_expr:
            hint = (hint + "; " if hint else "") + "or $expression"
        self.line.setPlaceholderText(hint)
        self._layout.addWidget(self.line)
        self.line.textEdited.connect(self._edited)
        self.line.editingFinished.connect(self._finished)

    def parsed(self):
        """The value typed (ValueError when it does not parse)."""
        return parse_value(self.param.kind, self.line.text(), self.param.choices, self.allow_expr)

    def _edited(self, _text: str) -> None:
        try:
            value = self.parsed()
        except ValueError as e:
            self.set_problem(str(e))
            return
        self.set_problem(None)
        self.committed.emit(value)

    def _finished(self) -> None:
        try:
            self.parsed()
        except ValueError as e:
            self.set_problem(str(e))

    def set_value(self, value) -> None:
        if self.line.hasFocus():
            try:
                if self.parsed() == value:
                    return  # the user is typing it: leave the cursor alone
            except ValueError:
                pass
        self.line.blockSignals(True)
        self.line.setText(format_value(value))
        self.line.blockSignals(False)


class InferredEditor(ParamEditor):
    """A read-only label: the value the input shape decided."""

    def __init__(self, param, parent=None):
        super().__init__(param, parent)
        self.label = QLabel("—")
        self.label.setEnabled(False)
        self._layout.addWidget(self.label)
        self.setToolTip(f"{param.doc} (inferred from the input shape)")

    def set_value(self, value) -> None:
        self.label.setText("—" if value is None else f"{format_value(value)}  (inferred)")


def editor_for(param: Param, allow_expr: bool = False, value=None) -> ParamEditor:
    """The editor widget for `param` (inside a block, `allow_expr` accepts `$expressions`)."""
    if param.inferred:
        return InferredEditor(param)
    if param.kind == "bool":
        return BoolEditor(param)
    if allow_expr or is_expression(value):
        return TextEditor(param, allow_expr=True)
    if param.kind == "int":
        return IntEditor(param)
    if param.kind == "choice":
        return ChoiceEditor(param)
    return TextEditor(param)
