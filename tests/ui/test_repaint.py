"""Regression: PySide6 6.12.0 crashed (none_dealloc) in long repaint loops; we pin <6.12.

Thousands of custom items repainted many times and a pyqtgraph curve updated
thousands of times must not crash the process.
"""

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsView

from studio.graph import Project
from studio.ui.scene import NetworkScene


def test_thousands_of_node_items_repaint(qtbot):
    project = Project("big")
    net = project.add_network("main")
    prev = None
    for i in range(3000):
        nid = net.add_node("ReLU", pos=((i % 60) * 180.0, (i // 60) * 90.0))
        if prev is not None and i % 60:
            net.connect(prev, "out", nid, "in")
        prev = nid
    scene = NetworkScene(net)
    view = QGraphicsView(scene)
    view.resize(800, 600)
    view.show()
    qtbot.waitExposed(view)
    view.fitInView(scene.itemsBoundingRect())
    for i in range(20):
        for item in list(scene.nodes.values())[:: 7]:
            item.update()
        view.viewport().repaint()
    assert len(scene.nodes) == 3000
    view.close()
    scene.detach()


def test_pyqtgraph_curve_updates_many_times(qtbot):
    plot = pg.PlotWidget()
    plot.show()
    qtbot.waitExposed(plot)
    curve = plot.plot()
    xs = np.arange(200, dtype=float)
    for i in range(2000):
        curve.setData(xs, np.sin(xs / 10 + i / 50))
        if i % 200 == 0:
            plot.repaint()
    assert curve.getData()[0].shape == (200,)
    plot.close()
