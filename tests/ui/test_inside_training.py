"""Seeing inside a run: the Layers tab (per-layer histograms), the canvas marks, and explanations from the confusion matrix."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import QPointF, Qt

from tests.ui.test_training import (  # noqa: F401  (fixtures)
    dock, press, project, runs_dir, short_run, show_tab, wait_done,
)

SHOTS = os.environ.get("STUDIO_SHOTS")  # a folder: the tests save what they show there, to look at


def shot(widget, name: str) -> None:
    if SHOTS:
        widget.grab().save(os.path.join(SHOTS, f"{name}.png"))


def shots(qtbot, widget, name: str) -> None:
    """``widget`` in the light and the dark theme, when STUDIO_SHOTS names a folder."""
    if not SHOTS:
        return
    from PySide6.QtWidgets import QApplication

    from studio.ui import theme

    for mode in ("dark", "light"):
        theme.apply(QApplication.instance(), mode)
        qtbot.wait(50)
        shot(widget, f"{name}_{mode}")


def test_a_run_with_histograms_fills_the_layers_tab(qtbot, dock):
    short_run(dock, epochs=1, samples=400)
    dock.panel.histogram_every.setValue(2)
    assert dock.project.training["histogram_every"] == 2
    layers_tab = dock.tabs.indexOf(dock.tabs.layer_stats)
    assert not dock.tabs.isTabVisible(layers_tab)
    press(qtbot, dock.header.train_button)
    wait_done(qtbot, dock)
    assert dock.tabs.isTabVisible(layers_tab)
    show_tab(qtbot, dock, dock.tabs.layer_stats)
    view = dock.tabs.layer_stats
    steps = [e.step for e in view.events]
    assert steps[:3] == [1, 3, 5] and len(steps) >= 3
    names = [view.chooser.itemText(i) for i in range(view.chooser.count())]
    assert {"conv1", "conv2", "fc1", "fc3"} <= set(names)
    view.chooser.setCurrentIndex(names.index("conv1"))
    xs, ys = view.total_curve.xData, view.total_curve.yData
    assert [int(x) for x in xs] == steps and all(y > 0 for y in ys)
    assert len(view.layer_curve.getData()[0]) == len(steps)
    for kind in ("weights", "grads", "activations"):
        counts = view.bars[kind].getData()[1]
        assert counts.sum() > 0, kind
    assert view.bars["weights"].getData()[1].sum() == 6 * 1 * 5 * 5 + 6  # conv1's weights and biases
    assert "Step" in view.status.text() and "No layer's gradients vanish or explode" in view.status.text()
    shots(qtbot, dock, "layers_tab")


def test_the_canvas_marks_the_nodes_whose_gradients_vanish_or_explode(qtbot, lenet):
    window = lenet
    net = window.editor.network
    ids = {node.name: nid for nid, node in net.nodes.items()}
    window.training_dock.gradients_flagged.emit({net.name: {ids["conv1"]: "vanishing", ids["fc3"]: "exploding"}})
    items = window.editor.scene.nodes
    assert items[ids["conv1"]].gradient == "vanishing" and items[ids["fc3"]].gradient == "exploding"
    assert items[ids["fc1"]].gradient == "ok"
    assert "Gradients vanishing" in items[ids["conv1"]].toolTip()
    for theme in ("light", "dark"):
        window.set_theme(theme)
        shot(window.view, f"canvas_gradients_{theme}")
    window.training_dock.gradients_flagged.emit({})
    assert items[ids["conv1"]].gradient == "ok"


def click_cell(qtbot, confusion, true: int, pred: int) -> None:
    """A left click in the middle of a cell of the confusion matrix."""
    scene_point = confusion.plot.vb.mapViewToScene(QPointF(pred + 0.5, true + 0.5))
    at = confusion.view.mapFromScene(scene_point)
    qtbot.mouseClick(confusion.view.viewport(), Qt.MouseButton.LeftButton, pos=at)


def test_click_a_confusion_cell_then_a_sample_to_see_its_explanation(qtbot, dock):
    pytest.importorskip("captum")
    short_run(dock, epochs=1, samples=400)
    press(qtbot, dock.header.train_button)
    wait_done(qtbot, dock)
    show_tab(qtbot, dock, dock.tabs.confusion)
    dock.refresh_all()
    matrix = dock.tabs.confusion.matrix
    true = int(matrix.diagonal().argmax())  # a cell with samples in it
    click_cell(qtbot, dock.tabs.confusion, true, true)
    view = dock.tabs.explain_view
    assert dock.tabs.currentWidget() is view and dock.tabs.isTabVisible(dock.tabs.indexOf(view))
    assert view.working and view.busy.isVisible() and "loading the samples" in view.title.text()
    qtbot.waitUntil(lambda: not view.working, timeout=60_000)  # the network and data load in a worker thread
    assert view.samples.count() == int(matrix[true, true]) >= 2 and not view.busy.isVisible()
    assert f"True {true}, predicted {true}" in view.title.text()
    assert view.node.count() == 2 and view.node.currentText() == "conv2"
    first = view.samples.item(0)
    qtbot.mouseClick(view.samples.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.samples.visualItemRect(first).center())
    # the click returned to the event loop at once: the explanation is computed in the worker thread
    assert view.explanation is None and view.working and view.busy.isVisible()
    shot(view, "explain_tab_busy")
    qtbot.waitUntil(lambda: view.explanation is not None, timeout=60_000)
    result = view.explanation
    assert result.sample == first.data(Qt.ItemDataRole.UserRole)
    assert (result.method, result.node, result.true, result.pred) == ("gradcam", "conv2", true, true)
    assert not view.picture.pixmap().isNull() and view.picture.pixmap().width() >= 200
    assert "Grad-CAM at conv2" in view.caption.text()
    view.method.setCurrentIndex(view.method.findData("integrated_gradients"))
    assert not view.node.isEnabled()
    qtbot.waitUntil(lambda: view.explanation.method == "integrated_gradients", timeout=60_000)
    assert "Integrated gradients, explaining" in view.caption.text()
    shown = []
    view.explained.connect(shown.append)
    qtbot.waitUntil(lambda: not view.working, timeout=60_000)
    view.samples.setCurrentRow(1)  # its integrated gradients start...
    view.method.setCurrentIndex(view.method.findData("saliency"))  # ...and a newer choice follows at once
    qtbot.waitUntil(lambda: not view.working and view.explanation.method == "saliency", timeout=60_000)
    second = view.samples.item(1).data(Qt.ItemDataRole.UserRole)
    assert [(r.sample, r.method) for r in shown] == [(second, "saliency")]  # the older answer never showed
    assert "Saliency, explaining" in view.caption.text() and not view.busy.isVisible()
    view.method.setCurrentIndex(0)
    qtbot.waitUntil(lambda: not view.working and view.explanation.method == "gradcam", timeout=60_000)
    shots(qtbot, dock, "explain_tab")
