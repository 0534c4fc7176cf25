"""The breadcrumb bar above the canvas: "main › stage1 › inner", each part a button back up.

`set_path(names)` shows the levels; clicking level i sends `level_chosen(i)`.
The last part (where you are) is shown bold and is not clickable.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget


class Breadcrumb(QWidget):
    """The way down into blocks. Signal: level_chosen(int)."""

    level_chosen = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(8, 3, 8, 3)
        self._layout.setSpacing(2)
        self.buttons: list[QToolButton] = []

    def set_path(self, names: list[str]) -> None:
        """Shows `names` (top network first)."""
        while self._layout.count():
            w = self._layout.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self.buttons = []
        for i, name in enumerate(names):
            if i:
                self._layout.addWidget(QLabel("›"))
            b = QToolButton()
            b.setText(name if i == 0 else f"block {name}")
            b.setAutoRaise(True)
            last = i == len(names) - 1
            b.setEnabled(not last)
            if last:
                f = b.font()
                f.setBold(True)
                b.setFont(f)
            b.clicked.connect(lambda _=False, i=i: self.level_chosen.emit(i))
            self._layout.addWidget(b)
            self.buttons.append(b)
        self._layout.addStretch(1)
        self.setVisible(len(names) > 1)
