"""The Compare tab: two runs picked in the Runs tab, their settings, curves and architecture diff on a canvas."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from studio.graph import io
from studio.presets import resolve
from studio.train.checkpoint import append_metrics
from studio.train.run_copy import save_run_project
from studio.ui import theme
from studio.ui.diff_scene import diff_colour


def _run_folder(folder, project, lr: float, losses: list[float]) -> None:
    """A run as the app leaves it: its project copy and its metrics.jsonl."""
    save_run_project(folder, project, {**project.training, "lr": lr}, project.data)
    for epoch, loss in enumerate(losses, 1):
        append_metrics(folder / "metrics.jsonl", {"epoch": epoch, "train_loss": loss, "val_loss": loss * 1.1,
                                                  "val_accuracy": 1 - loss / 3})


def _two_runs(tmp_path):
    """lenet5 saved beside two runs: the second with fc1 narrower, relu3 gone and a dropout in its place."""
    project = io.load(resolve("lenet5"))
    path = tmp_path / "lenet.json"
    io.save(project, path)
    _run_folder(tmp_path / "runs" / "lenet-1", project, 0.002, [2.0, 1.2, 0.8])
    net = project.network()
    fc1, relu, fc2 = (net.by_name(n) for n in ("fc1", "relu3", "fc2"))
    net.set_params(fc1.id, {"out_features": 64})
    net.remove_node(relu.id)
    drop = net.add_node("Dropout", "drop", {"p": 0.3}, pos=relu.pos)
    net.connect(fc1.id, "out", drop, "in")
    net.connect(drop, "out", fc2.id, "in")
    _run_folder(tmp_path / "runs" / "lenet-2", project, 0.01, [1.8, 0.9, 0.5])
    return path


def _pick_both(qtbot, table) -> None:
    for row, mods in ((0, Qt.KeyboardModifier.NoModifier), (1, Qt.KeyboardModifier.ControlModifier)):
        rect = table.visualRect(table.model().index(row, 0))
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, mods, rect.center())


def test_two_runs_picked_in_the_runs_tab_are_compared(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.delenv("STUDIO_RUNS_DIR", raising=False)
    assert window.open_path(_two_runs(tmp_path))
    dock = window.training_dock
    dock.tabs.setCurrentWidget(dock.tabs.runs_table)
    assert dock.tabs.runs_table.rowCount() == 2
    assert not dock.tabs.isTabVisible(dock.tabs.indexOf(dock.tabs.compare))  # until two runs are picked
    _pick_both(qtbot, dock.tabs.runs_table)
    compare = dock.tabs.compare
    assert dock.tabs.currentWidget() is compare
    assert "run 1" in compare.summary.text() and "1 setting and 3 layers differ" in compare.summary.text()

    scene = compare.scene
    assert {name: mark.kind for name, mark in scene.marks.items()} == {
        "drop": "added", "fc1": "changed", "relu3": "removed"}
    assert "out_features 120 → 64" in scene.marks["fc1"].toolTip()
    assert scene.ghosts["relu3"].opacity() < 1 and "relu3" not in [n.name for n in scene.network.nodes.values()]
    lines = [compare.changes.item(i).text() for i in range(compare.changes.count())]
    assert "~ changed fc1 (Linear): out_features 120 → 64" in lines
    assert compare.changes.item(0).foreground().color() == diff_colour("added")

    settings = compare.settings
    rows = {settings.item(r, 0).text().strip(): (settings.item(r, 1).text(), settings.item(r, 2).text())
            for r in range(settings.rowCount())}
    assert rows["* lr"] == ("0.002", "0.01") and rows["optimizer"] == ("adam", "adam")
    assert settings.item(0, 0).font().bold() is False
    assert len(compare.curves.getPlotItem().listDataItems()) == 4  # train and val loss of both runs

    window.set_theme("dark")  # the marks follow the theme
    QApplication.processEvents()
    assert compare.scene.marks["fc1"].kind == "changed" and compare.view.backgroundBrush().color() == theme.current().canvas
    window.set_theme("light")

    shots = os.environ.get("STUDIO_SHOTS")
    if shots:  # screenshots to look at: STUDIO_SHOTS=folder
        dock.setFloating(True)
        dock.resize(1300, 700)
        for theme_name in ("light", "dark"):
            window.set_theme(theme_name)
            QApplication.processEvents()
            dock.grab().save(os.path.join(shots, f"compare_{theme_name}.png"))
            compare.pages.setCurrentIndex(1)
            dock.grab().save(os.path.join(shots, f"compare_settings_{theme_name}.png"))
            compare.pages.setCurrentIndex(2)
            dock.grab().save(os.path.join(shots, f"compare_curves_{theme_name}.png"))
            compare.pages.setCurrentIndex(0)
        dock.setFloating(False)


def test_a_run_without_a_project_copy_is_refused_in_plain_words(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.delenv("STUDIO_RUNS_DIR", raising=False)
    path = _two_runs(tmp_path)
    (tmp_path / "runs" / "lenet-1" / "project.json").unlink()  # a run from before runs kept their project
    assert window.open_path(path)
    dock = window.training_dock
    dock.tabs.setCurrentWidget(dock.tabs.runs_table)
    _pick_both(qtbot, dock.tabs.runs_table)
    assert "cannot be compared" in dock.tabs.compare.summary.text() and "holds no project.json" in dock.tabs.compare.summary.text()
    assert not dock.tabs.compare.pages.isVisible()


def test_the_compile_setting_and_its_warning_in_the_training_dock(window, qtbot):
    from studio.train.events import RunWarning

    assert window.open_path(resolve("lenet5"))
    dock = window.training_dock
    panel = dock.panel
    assert panel.compile.currentData() == "off"
    panel.compile.setCurrentIndex(panel.compile.findData("max-autotune"))
    assert window.editor.project.training["compile"] == "max-autotune"
    # A warning from the run (here as the pipe-reading thread delivers it) shows above the plots.
    dock.controller._on_event(RunWarning("training.compile=default: torch.compile could not compile the model"))
    assert dock.message.isVisible() and "could not compile" in dock.message.text()
