"""`RunHeader`: the training dock's Train, Pause, Stop and Clear buttons and its progress bar.

The actions carry the shortcuts (F5 trains, F6 pauses or resumes, Shift+F5
stops) and live on the dock, so the window's Train menu shows the same
ones. The header only draws: `draw(state)` shows a `RunState`'s progress,
`set_running` which actions apply.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QStyle, QToolButton, QWidget

from studio.train.run_state import RunState

_PLAY, _PAUSE = QStyle.StandardPixmap.SP_MediaPlay, QStyle.StandardPixmap.SP_MediaPause


class RunHeader(QWidget):
    """The buttons and progress bar of a training dock; `owner` gets the actions and runs the slots."""

    def __init__(self, owner: QWidget, start, toggle_pause, stop, clear):
        super().__init__()
        self.owner = owner
        self.start_action = self._action("Train", "F5", _PLAY, start, "Train the network with these settings (F5)")
        self.pause_action = self._action("Pause", "F6", _PAUSE, toggle_pause,
                                         "Pause or resume after the current batch (F6)")
        self.stop_action = self._action("Stop", "Shift+F5", QStyle.StandardPixmap.SP_MediaStop, stop,
                                        "Stop after the current batch; checkpoints are kept (Shift+F5)")
        self.clear_action = self._action("Clear runs", None, QStyle.StandardPixmap.SP_DialogResetButton, clear,
                                         "Remove the curves of earlier runs")
        self.train_button, self.pause_button, self.stop_button, self.clear_button = (
            self._button(a) for a in (self.start_action, self.pause_action, self.stop_action, self.clear_action))
        self.progress = QProgressBar()
        self.progress.setMinimumWidth(320)
        self.progress.setTextVisible(True)
        self.progress.setFormat("Ready")
        self.progress.setValue(0)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        for w in (self.train_button, self.pause_button, self.stop_button):
            row.addWidget(w)
        row.addWidget(self.progress, 1)
        row.addWidget(self.clear_button)

    def _action(self, text: str, shortcut: str | None, icon, slot, tip: str) -> QAction:
        action = QAction(self.owner.style().standardIcon(icon), text, self.owner)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(tip)
        action.triggered.connect(slot)
        self.owner.addAction(action)
        return action

    @staticmethod
    def _button(action: QAction) -> QToolButton:
        button = QToolButton()
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setAutoRaise(False)
        return button

    def draw(self, state: RunState) -> None:
        """The progress bar as `state` says: busy while starting, batches done of all, its line of text."""
        self.progress.setRange(0, 0 if state.phase == "starting" else max(state.total_batches, 1))
        self.progress.setValue(min(state.done_batches, self.progress.maximum()))
        self.progress.setFormat(state.progress_text())

    def set_running(self, running: bool, paused: bool, can_start: bool) -> None:
        """Which actions apply: Train when idle with a project, Pause (or Resume) and Stop while running."""
        self.start_action.setEnabled(not running and can_start)
        self.pause_action.setEnabled(running)
        self.stop_action.setEnabled(running)
        self.pause_action.setText("Resume" if paused else "Pause")
        self.pause_action.setIcon(self.owner.style().standardIcon(_PLAY if paused else _PAUSE))
