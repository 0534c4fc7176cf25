"""`EditorView`: the canvas widget: zoom, pan, rubber-band selection, drops from the palette.

Wheel zooms about the cursor (Ctrl+0 fits everything: `fit_all`); the middle
button, or Space held with the left button, pans; a left drag on empty canvas
selects with a rubber band. Dropping a palette item (MIME `LAYER_MIME`, the
type name as UTF-8) adds that layer where it lands, or splices it into the
wire it lands on (the wire is highlighted while the drag is over it). Tab opens the quick-add
popup at the cursor, Delete removes the selection, F2 renames the selected
node in place. The view only forwards intent to the `Editor`.
"""

from __future__ import annotations

from PySide6.QtCore import QLineF, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPen, QTransform
from PySide6.QtWidgets import QFrame, QGraphicsView, QLineEdit

from studio.ui import theme
from studio.ui.node_item import NodeItem

LAYER_MIME = "application/x-network-studio-layer"
MIN_ZOOM, MAX_ZOOM = 0.08, 3.0


class EditorView(QGraphicsView):
    """The canvas. Signals: quick_add_requested(QPointF scene pos, QPoint global pos)."""

    quick_add_requested = Signal(QPointF, QPoint)

    def __init__(self, editor, parent=None):
        super().__init__(parent)
        self.editor = editor
        self._pan_from: QPoint | None = None
        self._space = False
        self._rename: QLineEdit | None = None
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.set_editor(editor)

    def set_editor(self, editor) -> None:
        """Shows `editor`'s scene now and whenever it changes network."""
        self.editor = editor
        editor.scene_changed.connect(self._scene_changed)
        self._scene_changed()

    def _scene_changed(self) -> None:
        self.setScene(self.editor.scene)
        self.editor.scene.quick_add_requested.connect(self._double_click_add)
        self.fit_all()

    def _double_click_add(self, pos: QPointF) -> None:
        self.quick_add_requested.emit(pos, self.mapToGlobal(self.mapFromScene(pos)))

    # --- zoom and pan ------------------------------------------------------------
    def zoom(self) -> float:
        """The current scale (1.0 = 100%)."""
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        """Zooms by `factor`, within limits."""
        new = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom() * factor))
        f = new / self.zoom()
        self.scale(f, f)

    def fit_all(self, min_zoom: float = MIN_ZOOM) -> None:
        """Shows every node, at no more than 100%.

        With `min_zoom` (used when a project opens and after auto-layout) a
        graph too big to read whole is shown at that zoom from its top left
        corner, where its inputs are.
        """
        scene = self.scene()
        if scene is None:
            return
        self.resetTransform()
        rect = scene.items_rect()
        self.setSceneRect(rect.adjusted(-3000, -3000, 3000, 3000))
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > 1.0:
            self.resetTransform()
        elif self.zoom() < min_zoom:
            self.resetTransform()
            self.scale(min_zoom, min_zoom)
            hw = self.viewport().width() / 2 / min_zoom
            hh = self.viewport().height() / 2 / min_zoom
            self.centerOn(QPointF(rect.center().x() if rect.width() <= 2 * hw else rect.left() + hw,
                                  rect.center().y() if rect.height() <= 2 * hh else rect.top() + hh))
            self.resetCachedContent()
            return
        self.centerOn(rect.center())
        self.resetCachedContent()

    def view_state(self) -> tuple[QTransform, QPointF]:
        """(zoom transform, scene point at the centre): what `set_view_state` brings back."""
        return QTransform(self.transform()), self.mapToScene(self.viewport().rect().center())

    def set_view_state(self, state: tuple[QTransform, QPointF]) -> None:
        """Shows the zoom and centre that `view_state` returned."""
        self.setTransform(state[0])
        self.centerOn(state[1])
        self.resetCachedContent()

    def keep_view_with(self, stack, command_index: int, before) -> None:
        """Undoing the command at `command_index` of `stack` shows `before` again; redoing it, today's view.

        Auto-layout changes the zoom with the positions, so its undo restores both
        (the zoom itself stays out of the undo history, docs/architecture.md).
        """
        views = {command_index: before, command_index + 1: self.view_state()}
        command = stack.command(command_index)

        def follow(index: int) -> None:
            try:
                if stack.command(command_index) is not command:  # the command is gone: stop following
                    stack.indexChanged.disconnect(follow)
                elif index in views:
                    self.set_view_state(views[index])
            except RuntimeError:  # the stack or this view is being deleted with its project
                pass
        stack.indexChanged.connect(follow)

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta().y()
        if delta:
            self.zoom_by(1.15 ** (delta / 120))
        event.accept()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton or (self._space and event.button() == Qt.MouseButton.LeftButton):
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._pan_from is not None:
            p = event.position().toPoint()
            d = p - self._pan_from
            self._pan_from = p
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - d.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - d.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space else Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:
        key = event.key()
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        elif key == Qt.Key.Key_Tab:
            cursor = self.mapFromGlobal(self.cursor().pos())
            if not self.viewport().rect().contains(cursor):
                cursor = self.viewport().rect().center()
            self.quick_add_requested.emit(self.mapToScene(cursor), self.viewport().mapToGlobal(cursor))
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.editor.delete_selection()
        elif key == Qt.Key.Key_F2:
            self.start_rename()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
        super().keyReleaseEvent(event)

    def focusNextPrevChild(self, forward: bool) -> bool:
        return False  # Tab belongs to quick-add, not to focus changes

    # --- rename in place -----------------------------------------------------------
    def start_rename(self) -> QLineEdit | None:
        """Opens a line edit over the selected node's name; Enter renames, Escape cancels."""
        ids = self.editor.scene.selected_node_ids()
        if len(ids) != 1:
            return None
        item: NodeItem = self.editor.scene.nodes[ids[0]]
        top_left = self.mapFromScene(item.mapToScene(QPointF(6, 6)))
        bottom_right = self.mapFromScene(item.mapToScene(QPointF(item.card().width() - 6, 26)))
        edit = QLineEdit(self.editor.network.nodes[ids[0]].name, self.viewport())
        edit.setGeometry(top_left.x(), top_left.y(), max(90, bottom_right.x() - top_left.x()),
                         max(edit.sizeHint().height(), bottom_right.y() - top_left.y()))
        edit.selectAll()
        edit.show()
        edit.setFocus()
        node_id = ids[0]

        def finish():
            if self._rename is edit:
                self._rename = None
                if edit.text() and edit.text() != self.editor.network.nodes[node_id].name:
                    self.editor.rename(node_id, edit.text())
                edit.deleteLater()
                self.setFocus()
        edit.editingFinished.connect(finish)
        self._rename = edit
        return edit

    # --- drops from the palette ------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            self.editor.scene.mark_drop_wire(self.editor.wire_at(self.mapToScene(event.position().toPoint())))
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dragLeaveEvent(self, event) -> None:
        self.editor.scene.mark_drop_wire(None)
        super().dragLeaveEvent(event)

    def dropEvent(self, event) -> None:
        if not event.mimeData().hasFormat(LAYER_MIME):
            super().dropEvent(event)
            return
        what = bytes(event.mimeData().data(LAYER_MIME)).decode("utf-8")
        pos = self.mapToScene(event.position().toPoint())
        self.editor.scene.mark_drop_wire(None)
        on_wire = self.editor.wire_at(pos)  # dropped on a wire: spliced into it
        if what.startswith("Block:"):
            self.editor.add_block_node(what[6:], (pos.x(), pos.y()), on_wire)
        else:
            self.editor.add_node(what, pos, on_wire)
        event.acceptProposedAction()
        self.setFocus()

    # --- background ------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        t = theme.current()
        painter.fillRect(rect, t.canvas)
        if self.zoom() < 0.35:
            return  # a grid that dense is noise
        step = 20.0 if self.zoom() >= 0.7 else 100.0
        painter.setPen(QPen(t.grid, 0))
        left = int(rect.left() // step) * step
        top = int(rect.top() // step) * step
        lines = []
        x = left
        while x < rect.right():
            lines.append(QLineF(x, rect.top(), x, rect.bottom()))
            x += step
        y = top
        while y < rect.bottom():
            lines.append(QLineF(rect.left(), y, rect.right(), y))
            y += step
        painter.drawLines(lines)
