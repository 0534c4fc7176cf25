"""The Test tab: after a run the dock evaluates its weights off the GUI thread and shows the figures."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from studio.graph import io
from studio.presets import resolve
from studio.ui.training import TrainingDock
from studio.ui.training.test_view import EvaluateView

from tests.core.test_evaluate import mlp, train

LONG = 60_000


@pytest.fixture
def trained(tmp_path):
    project = mlp()
    io.save(project, tmp_path / "mlp.json")
    return project, train(project, tmp_path / "run")


@pytest.fixture
def view(qtbot):
    v = EvaluateView()
    v.resize(700, 560)
    v.show()
    qtbot.waitExposed(v)
    yield v
    v.wait()
    v.close()


def test_evaluate_fills_the_table_headline_and_curves(qtbot, view, trained):
    project, weights = trained
    assert not view.evaluate_button.isEnabled()
    view.set_source(project, weights, None)
    assert view.evaluate_button.isEnabled() and "Press Evaluate" in view.headline.text()
    with qtbot.waitSignal(view.evaluated, timeout=LONG) as blocker:
        qtbot.mouseClick(view.evaluate_button, Qt.MouseButton.LeftButton)
        assert view.busy and not view.evaluate_button.isEnabled()  # the GUI thread is free meanwhile
    result = blocker.args[0]
    assert view.table.rowCount() == 10
    assert view.table.item(3, 0).text() == "3"
    assert float(view.table.item(3, 3).text()) == pytest.approx(result["per_class"][3]["f1"], abs=1e-3)
    assert f"{result['accuracy']:.4f}" in view.headline.text() and "test split" in view.headline.text()
    assert len(view.plots.plot.listDataItems()) == 1 + 10  # the diagonal, then one ROC curve per class
    roc = view.plots.plot.listDataItems()[4].getData()
    assert list(roc[0]) == result["curves"][3]["roc"]["fpr"]
    view.plots.kind.setCurrentText("Precision-recall curves")
    assert len(view.plots.plot.listDataItems()) == 10
    assert list(view.plots.plot.listDataItems()[3].getData()[1]) == result["curves"][3]["pr"]["precision"]
    qtbot.waitUntil(lambda: view.evaluate_button.isEnabled(), timeout=LONG)


def test_bad_weights_say_so_in_the_tab(qtbot, view, trained, tmp_path):
    project, _ = trained
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    view.set_source(project, tmp_path / "bad.pt", None)
    view.evaluate()
    qtbot.waitUntil(lambda: view.headline.text().startswith("Could not evaluate"), timeout=LONG)
    assert "weights-only" in view.headline.text() and view.table.rowCount() == 0


def test_the_dock_evaluates_a_finished_run_in_its_test_tab(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    project = io.load(resolve("lenet5"))
    project.data = {**project.data, "test_split": 0.2, "max_samples": 400}
    project.training = {**project.training, "epochs": 1}
    dock = TrainingDock()
    dock.set_project(project, None)
    dock.resize(1400, 620)
    dock.show()
    qtbot.waitExposed(dock)
    try:
        with qtbot.waitSignal(dock.tabs.test_view.evaluated, timeout=LONG) as blocker:
            assert dock.start()
        assert blocker.args[0]["split"] == "test" and blocker.args[0]["samples"] == 80
        assert dock.tabs.test_view.weights.name == "final.pt" and dock.tabs.test_view.table.rowCount() == 10
        assert dock.tabs.tabText(dock.tabs.indexOf(dock.tabs.test_view)) == "Test"
    finally:
        dock.shutdown()
        dock.close()
        dock.deleteLater()


def two_networks():
    """A project whose first network is the student and whose second, 'teacher', is wider."""
    project = mlp(width=8)
    teacher = mlp(width=32).network()
    net = project.add_network("teacher")
    ids = {n.id: net.add_node(n.type, n.name, n.params) for n in teacher.iter_nodes()}
    for e in teacher.edges:
        net.connect(ids[e.src], e.src_port, ids[e.dst], e.dst_port)
    return project


def test_the_panel_picks_a_teacher_network_of_the_same_file_and_back(qtbot, tmp_path):
    from studio.ui.training.config_panel import ConfigPanel

    project = two_networks()
    panel = ConfigPanel()
    qtbot.addWidget(panel)
    panel.set_project(project)  # unsaved: the other network cannot teach yet (it is read from the file)
    index = panel.teacher.findData("network:teacher")
    assert index > 0 and not panel.teacher.model().item(index).isEnabled()
    assert not panel.distill_alpha.isVisibleTo(panel)
    panel.path = tmp_path / "two.json"
    panel.set_project(project)
    assert panel.teacher.model().item(index).isEnabled()
    panel.teacher.activated.emit(index)
    assert project.training["recipe"] == "distillation"
    assert project.training["teacher"] == str(tmp_path / "two.json")
    assert project.training["teacher_network"] == "teacher"
    assert panel.teacher.currentIndex() == index and panel.distill_alpha.isVisibleTo(panel)
    panel.distill_alpha.setValue(0.25)
    panel.teacher_weights.setText("runs/teacher/final.pt")
    panel.teacher_weights.editingFinished.emit()
    assert project.training["distill_alpha"] == 0.25
    assert project.training["teacher_weights"] == "runs/teacher/final.pt"
    panel.teacher.activated.emit(0)
    assert not {"recipe", "teacher", "teacher_network", "teacher_weights"} & set(project.training)
    assert not panel.distill_alpha.isVisibleTo(panel)


def test_closing_the_project_empties_the_test_tab(qtbot, tmp_path, monkeypatch, trained):
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    project, weights = trained
    dock = TrainingDock()
    qtbot.addWidget(dock)
    dock.set_project(project, None)
    dock.tabs.test_view.set_source(project, weights, None)
    assert dock.tabs.test_view.evaluate_button.isEnabled()
    dock.set_project(None, None)
    assert dock.tabs.test_view.weights is None and not dock.tabs.test_view.evaluate_button.isEnabled()
    dock.shutdown()
