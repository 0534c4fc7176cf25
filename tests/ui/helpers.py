"""Helpers for driving the canvas with the mouse."""

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication


def port_point(window, node_id: str, side: str, port: str) -> QPoint:
    """Where a port is on the view's viewport."""
    item = window.editor.scene.nodes[node_id]
    return window.view.mapFromScene(item.port_scene_pos(side, port))


def scene_point(window, x: float, y: float) -> QPoint:
    """A scene position on the viewport."""
    return window.view.mapFromScene(QPointF(x, y))


def drag(window, start: QPoint, end: QPoint, steps: int = 6) -> None:
    """A left-button drag on the canvas with intermediate moves."""
    vp = window.view.viewport()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, steps + 1):
        p = start + (end - start) * (i / steps)
        QTest.mouseMove(vp, p)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def label(window, src: str, dst: str) -> str:
    """The shape label on the wire from node `src` to node `dst`."""
    for edge, item in window.editor.scene.edges.items():
        if edge.src == src and edge.dst == dst:
            return item.label
    raise AssertionError(f"no wire {src} -> {dst}")


def drop_layer(window, type_name: str, at: QPoint):
    """Drags a palette entry onto the canvas.

    A real QDrag cannot be driven synchronously offscreen, so the view gets the
    drag-enter, drag-move and drop events with the palette's own MIME data.
    """
    item = window.palette.item_for(type_name)
    mime = window.palette.tree.mimeData([item])
    vp = window.view.viewport()
    actions = Qt.DropAction.CopyAction
    for ev in (QDragEnterEvent(at, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier),
               QDragMoveEvent(at, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)):
        QApplication.sendEvent(vp, ev)
        assert ev.isAccepted()
    drop = QDropEvent(QPointF(at), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, drop)
