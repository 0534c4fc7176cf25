"""`LogSpinBox`: a spin box for values that span decades (a learning rate, a weight decay).

The arrows step through the 1-2-5 series (1, 2, 5, 10, 20...), the text shows
four significant digits (3e-4 stays 0.0003), and typing accepts any float.
"""

from __future__ import annotations

import math

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QWidget


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
