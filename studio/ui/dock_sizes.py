"""The bottom docks take the room their content needs, no more.

Problems, Summary and Training share the bottom of the window as tabs. Left to
Qt, the shared area is as tall as the tallest tab's minimum (the training
dock's, about 370 pixels), so one line of Problems took ~40 % of the window.
`fit_bottom` lets each tab shrink and gives the area the height of the tab on
top: Problems as tall as its lines (a few at most, see
`ProblemsList.wanted_height`), Summary and Training the height their content
asks for.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

SUMMARY_HEIGHT = 220


def follow(window: QMainWindow, docks: list[QDockWidget]) -> None:
    """Sizes the bottom area whenever another of `docks` comes on top (call once, after tabifying)."""
    for dock in docks:
        dock.widget().setMinimumHeight(1)  # a tab's minimum would otherwise hold the whole area open
        dock.visibilityChanged.connect(lambda shown, w=window: shown and QTimer.singleShot(0, lambda: fit_bottom(w)))


def on_top(window: QMainWindow) -> QDockWidget | None:
    """The bottom dock that is shown and not hidden behind another tab."""
    for dock in (window.problems_dock, window.summary_dock, window.training_dock):
        if dock.isVisible() and not dock.visibleRegion().isEmpty():
            return dock
    return None


def wanted_height(window: QMainWindow, dock: QDockWidget) -> int:
    """The height `dock` should have: its content's, plus its title bar."""
    if dock is window.problems_dock:
        window.problems.setMinimumHeight(window.problems.wanted_height())  # every line shows, even when squeezed
        return dock.minimumSizeHint().height()
    if dock is window.training_dock:
        return dock.widget().layout().minimumSize().height() + dock.minimumSizeHint().height()
    return SUMMARY_HEIGHT


def fit_bottom(window: QMainWindow) -> None:
    """Gives the bottom area the height of the tab on top."""
    dock = on_top(window)
    if dock is not None:
        window.resizeDocks([dock], [wanted_height(window, dock)], Qt.Orientation.Vertical)
