"""`MessageLine`: a red banner for why a run failed or could not start; hidden while empty.

Its colours follow the application's palette (light or dark) through `restyle`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QLabel


class MessageLine(QLabel):
    """A selectable, word-wrapped banner (see the module docstring)."""

    def __init__(self):
        super().__init__()
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setVisible(False)
        self.restyle()

    def show_text(self, text: str) -> None:
        """Shows `text`; an empty one hides the banner."""
        self.setText(text)
        self.setVisible(bool(text))

    def restyle(self) -> None:
        """Colours for the application's palette (its parent calls this when the palette changes:
        a widget with a style sheet hears of no palette change itself)."""
        dark = QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128
        fg, bg = ("#ff8a80", "#4a2624") if dark else ("#a1201a", "#fde8e6")
        sheet = (f"QLabel {{ color: {fg}; background: {bg}; border: 1px solid {QColor(fg).name()}; "
                 f"border-radius: 4px; padding: 6px; }}")
        if sheet != self.styleSheet():  # setting it changes the palette again
            self.setStyleSheet(sheet)
