"""The training dock with real widgets: press Train, watch the curves, pause, stop, fail, close.

Every test that starts a run waits for it to end; the `dock` fixture
fails a test that leaves a run going.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from studio.graph import io
from studio.presets import resolve
from studio.train import RunFailed, RunFinished
from studio.ui.training import dock as dock_module
from studio.ui.training import TrainingDock
from studio.ui.training.config_panel import available_devices

LONG = 60_000  # ms; the machines running tests can be slow and shared


@pytest.fixture
def runs_dir(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "runs"
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(path))
    return path


@pytest.fixture
def project():
    return io.load(resolve("lenet5"))


@pytest.fixture
def dock(qtbot, project, runs_dir):
    d = TrainingDock()
    d.set_project(project, None)
    d.resize(1400, 620)
    d.show()
    qtbot.waitExposed(d)
    ended: list = []
    d.run_ended.connect(ended.append)
    d.ended = ended
    messages: list[str] = []
    d.status_message.connect(messages.append)
    d.messages = messages
    yield d
    leaked = d.running
    d.shutdown()
    d.close()
    d.deleteLater()
    assert not leaked, "the test left a training run going"


def short_run(dock, epochs: int = 1, samples: int = 400) -> None:
    """Make the next run short, through the panel's own widgets."""
    dock.panel.epochs.setValue(epochs)
    dock.panel.max_samples.setValue(samples)


def press(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def show_tab(qtbot, dock, view) -> None:
    """Click the tab of ``view`` in the dock's tab bar."""
    bar = dock.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(dock.tabs.indexOf(view)).center())
    assert dock.tabs.currentWidget() is view


def wait_done(qtbot, dock) -> None:
    qtbot.waitUntil(lambda: not dock.running, timeout=LONG)


def test_panel_shows_and_writes_the_project_settings(dock, project):
    panel = dock.panel
    assert panel.lr.value() == pytest.approx(0.002)
    assert panel.epochs.value() == 8
    assert panel.loss.currentData() == "cross_entropy"
    assert panel.source.currentData() == "digits"
    project.training["input_shape"] = [1, 32, 32]  # a key the panel does not show stays
    panel.lr.setValue(0.01)
    panel.augment["flip"].setChecked(True)
    panel.optimizer.setCurrentIndex(panel.optimizer.findData("sgd"))
    assert project.training["lr"] == pytest.approx(0.01)
    assert project.training["optimizer"] == "sgd"
    assert project.training["input_shape"] == [1, 32, 32]
    assert project.data["augment"] == {"flip": True}
    assert not panel.momentum.isHidden()  # SGD has momentum
    panel.augment["flip"].setChecked(False)
    assert project.data["augment"] == {}
    project.set_settings("training", {**project.training, "epochs": 3})  # undo, another editor...
    assert panel.epochs.value() == 3
    assert [panel.device.itemData(i) for i in range(panel.device.count())] == available_devices()
    panel.lr.stepBy(1)
    assert panel.lr.value() == pytest.approx(0.02)


def test_lenet5_trains_to_95_percent_with_moving_plots(qtbot, dock):
    """The main acceptance: the preset as it is, Train pressed, ≥ 95 % in its 8 epochs."""
    press(qtbot, dock.header.train_button)
    assert dock.running
    seen = []
    qtbot.waitUntil(lambda: len(dock.dashboard.points(1, "train_loss")[0]) > 0, timeout=LONG)
    seen.append(len(dock.dashboard.points(1, "train_loss")[0]))
    qtbot.waitUntil(lambda: not dock.running or len(dock.dashboard.points(1, "train_loss")[0]) > seen[0],
                    timeout=LONG)
    wait_done(qtbot, dock)
    assert isinstance(dock.ended[-1], RunFinished) and dock.ended[-1].reason == "completed"
    record = dock.records[0]
    assert len(record.epochs) == 8
    assert max(e["val_accuracy"] for e in record.epochs) >= 0.95
    x, y = dock.dashboard.points(1, "train_loss")
    assert len(x) > seen[0] > 0 and y[-1] < y[0]
    assert len(dock.dashboard.points(1, "val_loss")[0]) == 8
    assert dock.tabs.currentWidget() is dock.tabs.confusion, "a classifier opens on its confusion matrix"
    assert dock.tabs.confusion.matrix is not None and dock.tabs.confusion.matrix.sum() == 359
    assert dock.tabs.class_table.rowCount() == 0, "hidden tabs are drawn when shown, not while training"
    show_tab(qtbot, dock, dock.tabs.class_table)
    assert dock.tabs.class_table.rowCount() == 10
    show_tab(qtbot, dock, dock.tabs.samples)
    assert len(dock.tabs.samples.samples) == 8
    assert (record.out_dir / "final.pt").exists() and (record.out_dir / "last.pt").exists()
    assert dock.header.start_action.isEnabled() and not dock.header.stop_action.isEnabled()


def test_pause_resume_stop(qtbot, dock):
    dock.panel.epochs.setValue(200)
    press(qtbot, dock.header.train_button)
    qtbot.waitUntil(lambda: dock.controller.batch_events > 0, timeout=LONG)
    press(qtbot, dock.header.pause_button)
    assert dock.header.pause_action.text() == "Resume"
    qtbot.wait(400)  # the child finishes its batch; events already on their way arrive
    count = dock.controller.batch_events
    qtbot.wait(700)
    assert dock.controller.batch_events == count, "batch events kept coming while paused"
    press(qtbot, dock.header.pause_button)
    assert dock.header.pause_action.text() == "Pause"
    qtbot.waitUntil(lambda: dock.controller.batch_events > count, timeout=LONG)
    press(qtbot, dock.header.stop_button)
    wait_done(qtbot, dock)
    assert isinstance(dock.ended[-1], RunFinished) and dock.ended[-1].reason == "stopped"
    assert dock.records[0].status == "stopped"
    assert dock.dashboard.points(1, "train_loss")[0], "the curve stays after a stop"


def test_two_runs_overlay_then_clear(qtbot, dock):
    short_run(dock)
    for _ in range(2):
        press(qtbot, dock.header.train_button)
        wait_done(qtbot, dock)
    assert [r.status for r in dock.records] == ["completed", "completed"]
    first, second = (dock.dashboard.runs[n]["train_loss"].item for n in (1, 2))
    assert len(first.getData()[0]) > 0 and len(second.getData()[0]) > 0
    assert first.opts["pen"].color() != second.opts["pen"].color()
    labels = [label.text for _, label in dock.dashboard.legend.items]
    assert labels == ["run 1", "run 2"]  # one entry a run: its validation curve is the dashed one
    assert dock.tabs.runs_table.rowCount() == 2
    assert dock.records[0].out_dir != dock.records[1].out_dir
    press(qtbot, dock.header.clear_button)
    assert dock.dashboard.runs == {} and dock.records == [] and not dock.dashboard.legend.items
    assert first not in dock.dashboard.loss_plot.listDataItems()


def test_nan_loss_shows_the_failure_and_keeps_the_curves(qtbot, dock):
    short_run(dock)
    press(qtbot, dock.header.train_button)
    wait_done(qtbot, dock)
    kept = dock.dashboard.points(1, "train_loss")
    dock.panel.lr.setValue(1e6)  # diverges: the loss becomes inf, then NaN
    assert dock.project.training["lr"] == 1e6
    press(qtbot, dock.header.train_button)
    wait_done(qtbot, dock)
    failed = dock.ended[-1]
    assert isinstance(failed, RunFailed) and failed.kind == "non_finite"
    assert dock.message.isVisible()
    assert "non-finite" in dock.message.text() and f"epoch {failed.epoch}" in dock.message.text()
    assert any(m.startswith("Training failed at epoch 1, batch") for m in dock.messages)
    assert dock.records[1].status == "failed"
    assert dock.dashboard.points(1, "train_loss") == kept, "run 1's curve is kept"
    assert 2 in dock.dashboard.runs
    assert dock.header.progress.format().startswith("Failed at epoch 1")


def test_a_training_process_that_dies_fails_the_run_and_the_app_carries_on(qtbot, dock):
    dock.panel.epochs.setValue(200)
    press(qtbot, dock.header.train_button)
    qtbot.waitUntil(lambda: dock.controller.batch_events > 0, timeout=LONG)
    dock.controller.kill()  # as the kernel's OOM killer would
    wait_done(qtbot, dock)
    failed = dock.ended[-1]
    assert isinstance(failed, RunFailed) and "killed by signal" in failed.message
    assert dock.records[0].status == "failed" and dock.message.isVisible()
    assert dock.dashboard.points(1, "train_loss")[0], "the curve so far stays"
    short_run(dock)
    press(qtbot, dock.header.train_button)  # the next run starts as usual
    wait_done(qtbot, dock)
    assert isinstance(dock.ended[-1], RunFinished)


def test_bad_data_setting_says_so_and_does_not_start(qtbot, dock, project):
    panel = dock.panel
    panel.source.setCurrentIndex(panel.source.findData("csv"))
    assert project.data["source"] == "csv"
    assert not panel.path_edits["path"].isHidden()
    press(qtbot, dock.header.train_button)
    qtbot.waitUntil(lambda: dock.message.isVisible(), timeout=LONG)
    wait_done(qtbot, dock)
    assert "needs a 'path' setting" in dock.message.text()
    assert dock.records == [] and dock.dashboard.runs == {} and not dock.ended
    edit = panel.path_edits["path"].edit
    edit.setText("no/such/file.csv")
    edit.editingFinished.emit()
    assert project.data["path"] == "no/such/file.csv"
    press(qtbot, dock.header.train_button)
    qtbot.waitUntil(lambda: "not found" in dock.message.text(), timeout=LONG)
    wait_done(qtbot, dock)
    assert any("Cannot start training" in m and "file.csv" in m for m in dock.messages)
    assert dock.records == [] and dock.header.start_action.isEnabled()


def test_a_setting_that_does_not_fit_the_task_says_so(qtbot, dock):
    dock.panel.early_metric.setCurrentIndex(dock.panel.early_metric.findData("val_r2"))
    dock.panel.early_patience.setValue(2)
    press(qtbot, dock.header.train_button)
    wait_done(qtbot, dock)
    assert "val_r2" in dock.message.text() and "not reported" in dock.message.text()
    assert dock.records == []


def test_a_run_that_would_fail_at_its_first_batch_is_refused_with_the_fix(qtbot, dock, project):
    net = project.network()
    source = net.incoming(net.by_name("flatten").id)["in"].src
    net.remove_node(net.by_name("flatten").id)
    net.connect(source, "out", net.by_name("fc1").id, "in")
    press(qtbot, dock.header.train_button)
    assert not dock.running and dock.records == []
    assert dock.message.text().startswith("Cannot start training: main/logits: Output 'logits' gets 16×5×10 values")
    assert "insert a Flatten (or a pooling layer) before Linear 'fc1'" in dock.message.text()


def test_a_loss_that_does_not_fit_the_last_layer_trains_with_a_warning(qtbot, dock, project):
    short_run(dock)
    dock.panel.loss.setCurrentIndex(dock.panel.loss.findData("kl_div"))
    press(qtbot, dock.header.train_button)
    assert dock.running
    assert dock.message.text().startswith("Training, but: main/logits: warning: loss kl_div")
    wait_done(qtbot, dock)
    assert isinstance(dock.ended[-1], RunFinished)


def test_a_class_count_that_differs_from_the_datas_is_asked_about_once(qtbot, dock, project, monkeypatch):
    asked = []
    monkeypatch.setattr(dock_module.dialogs, "ask_classes", lambda parent, text, data, drawn: asked.append(text))
    net = project.network()
    net.set_params(net.by_name("logits").id, {"classes": 20})
    short_run(dock)
    for _ in range(2):
        press(qtbot, dock.header.train_button)
        wait_done(qtbot, dock)
    assert asked == ["the digits data has 10 classes, but Output 'logits' is set to 20"]  # kept 20: asked once
    assert [r.status for r in dock.records] == ["completed", "completed"]
    net.set_params(net.by_name("logits").id, {"classes": 5})  # kept, 5 scores cannot learn 10 classes
    press(qtbot, dock.header.train_button)
    assert not dock.running and len(asked) == 2
    assert dock.message.text() == ("Cannot start training: the digits data has 10 classes, but Output 'logits' is "
                                   "set to 5, so classes 5 and above have no score to learn; set the Output's "
                                   "classes to 10 (studio train: --classes 10)")


def test_request_close_asks_then_stops_and_keeps_the_checkpoint(qtbot, dock, monkeypatch):
    dock.panel.epochs.setValue(200)
    answers = [False, True]
    asked = []
    monkeypatch.setattr(dock_module.dialogs, "confirm_stop", lambda parent: asked.append(1) or answers.pop(0))
    assert dock.request_close()  # nothing running: no question
    assert not asked
    press(qtbot, dock.header.train_button)
    qtbot.waitUntil(lambda: bool(dock.records and dock.records[0].last_checkpoint), timeout=LONG)
    assert not dock.request_close()  # "no": keeps training
    assert dock.running
    assert dock.request_close()  # "yes": stops and waits
    assert not dock.running and len(asked) == 2
    record = dock.records[0]
    assert record.status == "stopped"
    assert Path(record.last_checkpoint).exists() and (record.out_dir / "last.pt").exists()


def test_taking_the_datas_class_count_sets_the_output_as_one_undoable_edit(qtbot, lenet, runs_dir, monkeypatch):
    from studio.ui import dialogs

    monkeypatch.setattr(dialogs, "ask_classes", lambda parent, text, data, drawn: True)
    ed, dock = lenet.editor, lenet.training_dock
    dock.raise_()  # a project opens with Problems on top of the bottom docks
    ed.edit("five classes", lambda: ed.network.set_params("logits", {"classes": 5}))
    short_run(dock)
    press(qtbot, dock.header.train_button)
    assert ed.network.nodes["logits"].params["classes"] == 10 and dock.running
    wait_done(qtbot, dock)
    assert dock.records[-1].status == "completed"
    assert ed.undo_stack.undoText() == "set logits.classes"
    ed.undo_stack.undo()
    assert ed.network.nodes["logits"].params["classes"] == 5


def test_making_the_dock_starts_no_process_and_a_project_gets_the_first_runs_child_ready(qtbot, project, runs_dir):
    def standby() -> list:
        return [t for t in threading.enumerate() if t.name == "studio-training-standby"]

    waiting = standby()
    d = TrainingDock()
    qtbot.addWidget(d)
    assert standby() == waiting and not d.controller.launcher.ready  # nothing to train yet
    d.set_project(project, None)
    qtbot.waitUntil(lambda: d.controller.launcher.ready, timeout=LONG)
