"""The mouse wheel over a spin box or drop-down scrolls the form it sits in, unless the user clicked into it.

Qt gives the wheel to any spin box or combo box under the pointer, so scrolling
the training settings (or the inspector, or a dialog) with the wheel silently
changed the epochs, the batch size or the optimiser the pointer passed over,
and the form did not scroll. With the guard installed a control changes by
the wheel only while it has the keyboard focus (the user clicked or tabbed
into it); otherwise the wheel goes to the scroll bar of the scroll area that
holds the control, or nowhere when there is none. The wheel no longer gives
these controls the focus either (Qt's WheelFocus becomes StrongFocus as each
is polished): Qt hands out that focus before any event filter sees the wheel.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox, QWidget

CONTROLS = (QAbstractSpinBox, QComboBox)


class WheelGuard(QObject):
    """An application-wide event filter; see the module docstring."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Polish and isinstance(obj, CONTROLS):
            if obj.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                obj.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            return False
        if event.type() != QEvent.Type.Wheel or not isinstance(obj, QWidget):
            return False
        control = _control(obj)
        if control is None or control.hasFocus():
            return False
        area = _scroll_area(control)
        if area is not None:
            delta = event.angleDelta()
            bar = area.horizontalScrollBar() if abs(delta.x()) > abs(delta.y()) else area.verticalScrollBar()
            QApplication.sendEvent(bar, event)
        return True


def install(app: QApplication) -> None:
    """Installs the guard on `app` once (later calls do nothing)."""
    if app.findChild(WheelGuard) is None:
        app.installEventFilter(WheelGuard(app))


def _control(widget: QWidget) -> QWidget | None:
    """The spin box or combo box `widget` is, or is part of (a spin box's line edit); None otherwise."""
    for candidate in (widget, widget.parentWidget()):
        if isinstance(candidate, CONTROLS):
            return candidate
    return None


def _scroll_area(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent
