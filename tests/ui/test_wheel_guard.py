"""The wheel over a form's spin box or drop-down scrolls the form; it changes a value only after a click into it."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication


def _wheel_down(widget, notches: int = 3) -> None:
    """Wheel events at `widget` (a spin box's line edit passes a real one on to the spin box; one sent by
    QApplication.sendEvent is not passed on, so these go to the control itself)."""
    centre = QPointF(widget.rect().center())
    for _ in range(notches):
        event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre)), QPoint(0, 0), QPoint(0, -120),
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
                            False)
        QApplication.sendEvent(widget, event)


def test_the_wheel_scrolls_the_training_settings_past_a_spin_box_without_changing_it(lenet, qtbot):
    dock = lenet.training_dock
    dock.show()
    dock.raise_()
    panel = dock.panel
    lenet.resize(1200, 700)  # the settings do not fit: the panel scrolls
    qtbot.waitUntil(lambda: panel.verticalScrollBar().maximum() > 0)
    epochs, optimiser = panel.epochs.value(), lenet.editor.project.training.get("optimizer")
    # Qt gives a real wheel's focus to a WheelFocus control before any filter sees the event
    assert Qt.FocusPolicy.WheelFocus not in (panel.epochs.focusPolicy(), panel.optimizer.focusPolicy())
    _wheel_down(panel.epochs)
    assert panel.epochs.value() == epochs and lenet.editor.undo_stack.count() == 0
    assert panel.verticalScrollBar().value() > 0  # the form scrolled instead
    _wheel_down(panel.optimizer)
    assert lenet.editor.project.training.get("optimizer") == optimiser
    QTest.mouseClick(panel.epochs.lineEdit(), Qt.MouseButton.LeftButton)  # clicked into: the wheel is its own
    _wheel_down(panel.epochs, 2)
    assert panel.epochs.value() == epochs - 2
