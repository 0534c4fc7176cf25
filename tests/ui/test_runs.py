"""A project's runs belong to it: they go beside its file, are listed again when it reopens, and the
newest one's weights are offered again; an unsaved project's go to one per-user folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from PySide6.QtCore import QCoreApplication, QStandardPaths, Qt
from PySide6.QtWidgets import QApplication

from studio.graph import io
from studio.presets import presets_dir, resolve
from studio.ui.training.runs import runs_root

LONG = 60_000  # ms; the machines running tests can be slow and shared


def saved_xor(folder: Path) -> Path:
    """The XOR preset saved as ``folder/xor.json``, set to train one epoch with a test split."""
    project = io.load(resolve("mlp_xor"))
    project.training = {**project.training, "epochs": 1, "device": "cpu"}
    project.data = {**project.data, "test_split": 0.2}
    path = folder / "xor.json"
    io.save(project, path)
    return path


def table(dock) -> list[list[str]]:
    t = dock.tabs.runs_table
    return [[t.item(row, col).text() for col in range(t.columnCount())] for row in range(t.rowCount())]


def test_reopening_a_project_lists_its_runs_and_offers_the_last_weights(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.delenv("STUDIO_RUNS_DIR", raising=False)
    path = saved_xor(tmp_path)
    assert window.open_path(path)
    dock = window.training_dock
    dock.raise_()  # a project opens with Problems on top of the bottom docks
    assert dock.panel.keep_checkpoints.value() == 2
    qtbot.mouseClick(dock.header.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dock.running, timeout=LONG)
    run = tmp_path / "runs" / "xor-1"
    assert dock.records[0].out_dir == run and dock.records[0].status == "completed"
    assert (run / "test.json").is_file() and "test.json" in dock.summary.text()
    assert window.files.last_run_weights == run / "final.pt"
    dock.tabs.setCurrentWidget(dock.tabs.runs_table)
    assert table(dock)[0][1] == "completed" and table(dock)[0][4].endswith("acc")

    assert window.open_path(presets_dir() / "lenet5.json")  # another project: none of these runs
    assert dock.tabs.runs_table.rowCount() == 0 and window.files.last_run_weights is None
    assert window.open_path(path)
    rows = table(dock)
    assert len(rows) == 1
    label, status, epochs, best, test, folder = rows[0]
    assert (label, status, epochs, folder) == ("run 1", "completed", "1", str(run))
    assert best.endswith("acc") and test.endswith("acc")
    assert window.files.last_run_weights == run / "final.pt"
    assert "1 earlier run(s)" in dock.summary.text()
    saved = dock.records[0].epochs[0]  # its curves are drawn again, from metrics.jsonl
    dock.dashboard.flush()
    assert dock.dashboard.points(1, "val_loss") == ([1], [pytest.approx(saved["val_loss"])])
    assert dock.dashboard.points(1, "metric") == ([1], [pytest.approx(100 * saved["val_accuracy"])])
    assert dock.dashboard.points(1, "train_loss") == ([0.5], [pytest.approx(saved["train_loss"])])
    # The next run follows on, in the same folder, numbered as its folder is, past one that failed at once.
    (tmp_path / "runs" / "xor-2").mkdir()
    qtbot.mouseClick(dock.header.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dock.running, timeout=LONG)
    assert [(r.number, r.out_dir.name) for r in dock.records] == [(1, "xor-1"), (3, "xor-3")]
    assert window.files.last_run_weights == tmp_path / "runs" / "xor-3" / "final.pt"


def test_an_unsaved_projects_runs_go_to_one_per_user_folder(monkeypatch, qapp):
    monkeypatch.delenv("STUDIO_RUNS_DIR", raising=False)
    before = QCoreApplication.organizationName(), QCoreApplication.applicationName()
    QApplication.setOrganizationName("NetworkStudio")  # as `studio` sets them
    QApplication.setApplicationName("Network Studio")
    try:
        root = runs_root(None)
    finally:
        QApplication.setOrganizationName(before[0])
        QApplication.setApplicationName(before[1])
    user_data = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation))
    assert root == user_data / "NetworkStudio" / "runs"


def test_a_new_projects_first_run_brings_up_its_figures_whatever_tab_the_last_project_left(
        window, qtbot, tmp_path, monkeypatch):
    monkeypatch.delenv("STUDIO_RUNS_DIR", raising=False)
    first = saved_xor(tmp_path)
    (tmp_path / "b").mkdir()
    second = saved_xor(tmp_path / "b")
    assert window.open_path(first)
    dock, tabs = window.training_dock, window.training_dock.tabs
    dock.raise_()
    qtbot.mouseClick(dock.header.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dock.running and tabs.isTabVisible(tabs.indexOf(tabs.test_view)), timeout=LONG)
    bar = tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(tabs.indexOf(tabs.test_view)).center())
    assert tabs.currentWidget() is tabs.test_view
    assert window.open_path(second)  # its Test tab hides: Qt would land on Sweep
    assert tabs.currentWidget() is tabs.runs_table
    qtbot.mouseClick(dock.header.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dock.running, timeout=LONG)
    assert tabs.currentWidget() is tabs.confusion
