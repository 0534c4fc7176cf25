"""Search marks in the inspector and the training panel, and the dock's Sweep tab, with real widgets."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from studio.graph import io
from studio.presets import resolve
from studio.train import RunFinished
from studio.ui.search_marks import RangeDialog, SearchButton, form_label
from tests.ui.test_training import dock, runs_dir  # noqa: F401 (fixtures)

LONG = 180_000  # ms: trials are training processes, on machines that are shared


def _answer_dialog(qtbot, fill) -> None:
    """When the range dialog opens, `fill` it and press OK (it runs modally)."""
    def answer():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, RangeDialog):
            QTimer.singleShot(20, answer)
            return
        fill(dialog)
        qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok),
                         Qt.MouseButton.LeftButton)
    QTimer.singleShot(20, answer)


def test_marking_a_layer_parameter_in_the_inspector_is_an_undoable_edit(lenet, qtbot):
    window = lenet
    net = window.editor.network
    fc1 = net.by_name("fc1").id
    window.editor.scene.select_nodes([fc1])
    inspector = window.inspector
    button = next(b for b in inspector.findChildren(SearchButton) if b.target[3] == "out_features")
    assert not button.isChecked()

    def fill(dialog):
        dialog.kind.setCurrentIndex(dialog.kind.findData("int"))
        dialog.low.setText("32")
        dialog.high.setText("256")
        dialog.step.setValue(32)

    _answer_dialog(qtbot, fill)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    target = ("node", net.name, fc1, "out_features")
    assert window.editor.project.search_marks() == {target: {"kind": "int", "low": 32, "high": 256, "step": 32}}
    assert button.isChecked() and "32 … 256" in button.toolTip()
    assert window.editor.undo_stack.undoText() == "search out_features"
    window.editor.undo_stack.undo()
    assert window.editor.project.search_marks() == {}
    qtbot.waitUntil(lambda: not button.isChecked())


def test_a_layer_inside_a_block_is_marked_from_the_opened_block(window, qtbot, tmp_path):
    from PySide6.QtWidgets import QPushButton

    from tests.core.helpers import residual_block_project

    io.save(residual_block_project(), tmp_path / "res.json")
    assert window.open_path(tmp_path / "res.json")
    window.editor.scene.select_nodes([window.editor.network.by_name("stage").id])
    opener = next(b for b in window.inspector.findChildren(QPushButton) if b.text() == "Open block 'basic'")
    qtbot.mouseClick(opener, Qt.MouseButton.LeftButton)
    assert window.editor.network.name == "basic"
    conv1 = window.editor.network.by_name("conv1").id
    window.editor.scene.select_nodes([conv1])
    offered = {b.target[3]: b for b in window.inspector.findChildren(SearchButton)}
    assert "out_channels" not in offered  # set from the block's argument ($width): marked on the Block node
    button = offered["bias"]

    def fill(dialog):
        assert dialog.kind.currentData() == "choice"  # a true/false parameter starts as a choice
        dialog.choices.setText("true, false")

    _answer_dialog(qtbot, fill)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    marks = window.editor.project.search_marks()
    assert marks == {("node", "basic", conv1, "bias"): {"kind": "choice", "choices": [True, False]}}
    assert button.isChecked()
    window.editor.undo_stack.undo()
    assert window.editor.project.search_marks() == {}


def test_the_range_dialog_refuses_a_bad_range_in_words(qtbot):
    dialog = RangeDialog("lr", {"kind": "log", "low": 1e-4, "high": 0.1}, marked=False)
    qtbot.addWidget(dialog)
    dialog.low.setText("0")
    dialog._accept()
    assert "above 0" in dialog.problem.text() and dialog.spec is None
    dialog.kind.setCurrentIndex(dialog.kind.findData("choice"))
    dialog.choices.setText("adam, sgd, 3, true")
    dialog._accept()
    assert dialog.spec == {"kind": "choice", "choices": ["adam", "sgd", 3, True]}


def test_a_searched_setting_shows_the_mark_on_its_label_in_the_panel(lenet, qtbot):
    window = lenet
    panel = window.training_dock.panel
    label = form_label(panel.lr)  # the lr sits in a row with its Find… button
    window.editor.edit("search lr", lambda: window.editor.project.set_search(
        ("setting", "training", "lr"), {"kind": "log", "low": 1e-4, "high": 0.1}))
    assert label.text() == "⚲ Learning rate"
    window.editor.undo_stack.undo()
    assert label.text() == "Learning rate"


@pytest.fixture
def project(monkeypatch):
    """The XOR preset (a tiny network and data) with its learning rate searched; `dock` trains it unsaved."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    project = io.load(resolve("mlp_xor"))
    project.set_search(("setting", "training", "lr"), {"kind": "log", "low": 1e-3, "high": 0.1})
    return project


def test_the_sweep_tab_runs_a_sweep_shows_its_trials_and_opens_one_as_a_run(dock, qtbot, runs_dir):
    view = dock.tabs.sweep_view
    dock.tabs.setCurrentWidget(view)
    view.trials.setValue(2)
    view.jobs.setValue(2)
    view.epochs.setValue(1)
    qtbot.mouseClick(view.start_button, Qt.MouseButton.LeftButton)
    assert view.running and not view.start_button.isEnabled()
    qtbot.waitUntil(lambda: not view.running, timeout=LONG)
    assert view.out == runs_dir / "mlp_xor-sweep-1"  # an unsaved project's sweeps go beside its runs
    states = [view.table.item(r, 1).text() for r in range(view.table.rowCount())]
    assert states == ["complete", "complete"]
    assert view.best_label.text().startswith("Best so far: trial ")
    bars = [i for i in view.importance_plot.getPlotItem().items if isinstance(i, pg.BarGraphItem)]
    assert len(bars) == 1  # one searched parameter: its share is all of it
    lines = [i for i in view.parallel_plot.getPlotItem().items if isinstance(i, pg.PlotDataItem)]
    assert len(lines) == 2
    view.table.selectRow(0)
    qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
    assert dock.tabs.currentWidget() is dock.tabs.runs_table
    assert dock.tabs.runs_table.rowCount() == 1
    assert dock.tabs.runs_table.item(0, 5).text() == str(view.out / "trials" / "trial-000")
    assert isinstance(dock.ended[-1], RunFinished) and dock.ended[-1].final_weights.endswith("final.pt")
