"""The flat view: the whole network with every block opened, read-only, for reading (as Netron draws it).

`FlatView(project, network)` is a window of its own over a copy of the
project (`studio.graph.inline.flat_copy`), laid out afresh and analysed, so
every wire carries its shape; the wheel zooms, dragging pans, and nothing in
it can change the project. The editor's own canvas stays as it was.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QDialog, QGraphicsView, QLabel, QVBoxLayout

from studio.graph import Analyzer, Project
from studio.graph.inline import flat_copy
from studio.graph.layout import layered
from studio.ui import theme
from studio.ui.scene import NetworkScene


READABLE = 0.6  # the smallest zoom the view opens at: node names stay readable


class _ReadOnlyView(QGraphicsView):
    """A canvas that zooms with the wheel and pans by dragging; it forwards no edits."""

    def __init__(self, scene, parent=None):
        super().__init__(scene, parent)
        self.setInteractive(False)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setBackgroundBrush(theme.current().canvas)

    def wheelEvent(self, event) -> None:
        factor = 1.15 ** (event.angleDelta().y() / 120)
        if 0.05 <= self.transform().m11() * factor <= 3.0:
            self.scale(factor, factor)
        event.accept()


class FlatView(QDialog):
    """A read-only window showing network `network` of `project` with every block inlined."""

    def __init__(self, project: Project, network: str, parent=None):
        super().__init__(parent)
        flat = flat_copy(project, network)  # GraphError when too large: the caller reports it
        self.network = flat.network(network)
        for nid, pos in layered(self.network).items():
            self.network.move(nid, pos)
        self.scene = NetworkScene(self.network, self)
        self.scene.apply_report(Analyzer(flat).analyse(network))
        self.view = _ReadOnlyView(self.scene)
        n = len(self.network.nodes)
        self.setWindowTitle(f"Flat view of {network} — {n} layers, every block opened (read-only)")
        note = QLabel(f"{n} layers with every block opened. Read-only: edit in the main window "
                      "(Expand Block in Place or Ungroup Block change the network itself).")
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(note)
        layout.addWidget(self.view, 1)
        self.resize(1100, 760)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        rect = self.scene.items_rect()
        self.view.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        zoom = self.view.transform().m11()
        if zoom < READABLE or zoom > 1.0:  # start readable, where the inputs are
            zoom = min(max(zoom, READABLE), 1.0)
            self.view.resetTransform()
            self.view.scale(zoom, zoom)
            half_w = self.view.viewport().width() / 2 / zoom
            half_h = self.view.viewport().height() / 2 / zoom
            self.view.centerOn(min(rect.center().x(), rect.left() + half_w),
                               min(rect.center().y(), rect.top() + half_h))

    def closeEvent(self, event) -> None:
        self.scene.detach()
        super().closeEvent(event)
