"""Export through the dialog (worker thread, progress, result or error), weights loading, import, freezing."""

import os
import stat
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QContextMenuEvent, QImage, QPainter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu

from studio.graph.frozen import frozen_names
from studio.compile import compile_network
from studio.graph import io as project_io
from studio.ui import dialogs
from studio.ui.export_dialog import FILE, FRESH, LAST_RUN, PROJECT

WAIT = 60_000  # ms; a LeNet export takes about a second


def run_export(qtbot, dlg, fmt: str, target: Path):
    """Chooses `fmt`, types `target`, clicks Export and waits for the worker to finish."""
    dlg.format.setCurrentIndex(dlg.format.findData(fmt))
    dlg.path.clear()
    qtbot.keyClicks(dlg.path, str(target))
    qtbot.mouseClick(dlg.export_button, Qt.MouseButton.LeftButton)
    assert dlg.running and not dlg.export_button.isEnabled() and not dlg.close_button.isEnabled()
    qtbot.waitUntil(lambda: not dlg.running and (dlg.result is not None or dlg.error is not None), timeout=WAIT)
    assert dlg.export_button.isEnabled()


def close(qtbot, window, dlg) -> None:
    qtbot.mouseClick(dlg.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.files.export_dialog is None)


def test_export_torchscript_and_state_dict(lenet, tmp_path, qtbot):
    before = project_io.to_dict(lenet.editor.project)
    assert lenet.act_export.shortcut().toString() == "Ctrl+E"
    lenet.act_export.trigger()
    dlg = lenet.files.export_dialog
    assert dlg is not None and dlg.isVisible()
    assert not dlg.network.isVisible()  # one network: no choice to make
    assert dlg.weights_kinds() == [FRESH, FILE]

    run_export(qtbot, dlg, "torchscript", tmp_path / "lenet.pt")
    assert dlg.error is None, dlg.error
    assert dlg.result.files == [tmp_path / "lenet.pt"] and (tmp_path / "lenet.pt").is_file()
    assert dlg.result.max_abs_diff < 1e-5
    shown = dlg.outcome.text()
    assert "max difference" in shown and f"{dlg.result.max_abs_diff:.2g}" in shown
    assert "lenet.pt" in shown and "untrained" in shown  # the note about fresh weights
    x = torch.randn(2, 1, 32, 32)
    assert torch.jit.load(str(tmp_path / "lenet.pt"))(x).shape == (2, 10)

    # the path's suffix follows the format; a weights-only export next
    dlg.format.setCurrentIndex(dlg.format.findData("python"))
    assert dlg.path.text().endswith("lenet.py")
    run_export(qtbot, dlg, "state_dict", tmp_path / "weights.pt")
    assert dlg.error is None, dlg.error
    state = torch.load(tmp_path / "weights.pt", weights_only=True)
    assert set(state) == set(compile_network(lenet.editor.project).state_dict())
    assert "max difference" in dlg.outcome.text()

    # the project is untouched and still clean
    assert project_io.to_dict(lenet.editor.project) == before
    assert not lenet.is_dirty()
    close(qtbot, lenet, dlg)


def _unwritable_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if not os.access(folder, os.W_OK):
        return folder
    folder.chmod(0o700)  # root ignores the mode bits: use a folder the kernel refuses
    if os.path.isdir("/sys/kernel"):
        return Path("/sys/kernel")
    pytest.skip("no unwritable folder available")


def test_export_to_unwritable_folder_shows_error_and_leaves_nothing(lenet, tmp_path, qtbot):
    folder = _unwritable_folder(tmp_path)
    before = set(os.listdir(folder))
    dlg = lenet.files.open_export_dialog()
    try:
        run_export(qtbot, dlg, "torchscript", folder / "lenet_export_test.pt")
    finally:
        if folder.is_relative_to(tmp_path):
            folder.chmod(0o700)
    assert dlg.result is None and dlg.error
    assert "lenet_export_test.pt" in dlg.error and "Nothing was written" in dlg.error
    shown = dlg.outcome.text()
    assert "Export failed" in shown and "choose a folder you may write to" in shown
    assert set(os.listdir(folder)) == before  # no file, no staging folder

    # a folder that does not exist: also refused with a message, and the dialog can try again
    run_export(qtbot, dlg, "onnx", tmp_path / "missing" / "lenet.onnx")
    assert "does not exist" in dlg.error and not (tmp_path / "missing").exists()
    close(qtbot, lenet, dlg)


def _render(item) -> QImage:
    image = QImage(180, 70, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    painter.translate(10, 10)
    item.paint(painter, None)
    painter.end()
    return image


def test_freeze_by_shortcut_draws_frozen_counts_and_undoes(lenet, qtbot):
    ed = lenet.editor
    item = ed.scene.nodes["conv1"]
    ed.scene.select_nodes(["conv1"])
    plain = _render(item)
    lenet.view.setFocus()
    QTest.keyClick(lenet.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert frozen_names(ed.project) == ["conv1"]
    assert item.frozen and _render(item) != plain
    lenet.summary_dock.raise_()
    qtbot.waitUntil(lenet.summary.isVisible)
    assert "(61,550 trainable, 156 frozen)" in lenet.summary.totals.text()
    assert "61,550 trainable" in lenet.memory.text()
    assert "frozen" in lenet.summary.table.item(lenet.summary.row_of("conv1"), 1).text()
    assert lenet.is_dirty()

    ed.undo_stack.undo()
    assert not frozen_names(ed.project) and not item.frozen
    assert "(61,706 trainable)" in lenet.summary.totals.text() and "trainable" not in lenet.memory.text()
    assert _render(item) == plain
    ed.undo_stack.redo()
    assert item.frozen and frozen_names(ed.project) == ["conv1"]

    # the context menu offers the opposite for the node under the cursor (and selects it)
    pos = lenet.view.mapFromScene(ed.scene.nodes["fc1"].sceneBoundingRect().center())
    menu = lenet.files.node_menu(pos)
    try:
        assert ed.scene.selected_node_ids() == ["fc1"]
        assert "Freeze fc1" in [a.text() for a in menu.actions()]
    finally:
        menu.close()
        menu.deleteLater()
    # a real right-click opens it
    pos = lenet.view.mapFromScene(ed.scene.nodes["relu1"].sceneBoundingRect().center())
    QApplication.sendEvent(lenet.view.viewport(), QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos,
                                                                     lenet.view.viewport().mapToGlobal(pos)))
    popup = QApplication.activePopupWidget()
    assert isinstance(popup, QMenu) and "Freeze relu1" in [a.text() for a in popup.actions()]
    popup.close()
    ed.scene.select_nodes(["fc1"])
    lenet.files.toggle_frozen()
    assert frozen_names(ed.project) == ["conv1", "fc1"]
    ed.scene.select_nodes(["conv1", "fc1"])
    lenet.files.toggle_frozen()  # all selected frozen: unfreezes them
    assert not frozen_names(ed.project) and not item.frozen


def test_load_weights_report_sets_init_weights_and_export_uses_them(lenet, tmp_path, qtbot, monkeypatch):
    project = lenet.editor.project
    state = compile_network(project).state_dict()
    good = tmp_path / "trained.pt"
    torch.save(state, good)
    monkeypatch.setattr(dialogs, "ask_weights_path", lambda *a: good)
    lenet.act_load_weights.trigger()
    dlg = lenet.files.weights_dialog
    assert dlg is not None and dlg.isVisible()
    assert f"All {len(state)} tensors" in dlg.headline.text()
    assert dlg.counts.text().startswith(f"{len(state)} matched · 0 missing · 0 unexpected · 0 of the wrong shape")
    assert all(dlg.state_of(name) == "matched" for name in state)
    qtbot.mouseClick(dlg.use_button, Qt.MouseButton.LeftButton)
    assert project.training["init_weights"] == str(good)
    assert lenet.is_dirty()
    lenet.editor.undo_stack.undo()
    assert "init_weights" not in project.training
    lenet.editor.undo_stack.redo()

    # the export dialog now offers the project's weights first, and they are the ones exported
    export = lenet.files.open_export_dialog()
    assert export.weights_kinds()[:2] == [FRESH, PROJECT] and export.weights.currentIndex() == 1
    run_export(qtbot, export, "state_dict", tmp_path / "out.pt")
    assert export.error is None and "untrained" not in export.outcome.text()
    out = torch.load(tmp_path / "out.pt", weights_only=True)
    assert all(torch.equal(out[k], state[k]) for k in state)
    close(qtbot, lenet, export)

    # a file that does not fit: the problems are listed, with shapes
    bad = dict(state)
    bad["fc1.weight"] = torch.zeros(3, 3)
    bad["extra.bias"] = torch.zeros(2)
    del bad["fc2.bias"]
    torch.save(bad, tmp_path / "bad.pt")
    dlg = lenet.files.load_weights_from(tmp_path / "bad.pt")
    assert dlg.state_of("fc1.weight") == "wrong shape" and dlg.state_of("extra.bias") == "unexpected"
    assert dlg.state_of("fc2.bias") == "missing"
    row = next(r for r in range(dlg.table.rowCount()) if dlg.table.item(r, 0).text() == "fc1.weight")
    assert dlg.table.item(row, 2).text() == "120×400" and dlg.table.item(row, 3).text() == "3×3"
    assert dlg.use_button.text() == "Use the matching weights"
    dlg.reject()
    assert project.training["init_weights"] == str(good)  # cancelled: unchanged


def test_last_run_weights_are_offered(lenet, tmp_path, qtbot):
    run = tmp_path / "run1" / "final.pt"
    run.parent.mkdir()
    torch.save(compile_network(lenet.editor.project).state_dict(), run)
    lenet.files.set_last_run_weights(run)
    dlg = lenet.files.open_export_dialog()
    assert dlg.weights_kinds() == [FRESH, LAST_RUN, FILE]
    assert dlg.weights.currentText() == "Weights of the last run (run1/final.pt)"
    close(qtbot, lenet, dlg)


SMALL = '''
import torch
from torch import nn


class Small(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 6 * 6, classes)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        return self.fc(x.flatten(1))


class Odd(nn.Module):
    def forward(self, x):
        return torch.cumsum(x, 1)
'''


def test_import_module_from_file_opens_new_project(window, tmp_path, qtbot, monkeypatch):
    source = tmp_path / "small.py"
    source.write_text(SMALL, encoding="utf-8")
    window.act_import.trigger()
    dlg = window.files.import_dialog
    assert dlg is not None and dlg.isVisible()

    # a refusal names the operation and opens nothing
    qtbot.keyClicks(dlg.module, str(source))
    qtbot.keyClicks(dlg.class_name, "Odd")
    qtbot.keyClicks(dlg.shape, "1,8,8")
    qtbot.mouseClick(dlg.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dlg.running and dlg.error is not None, timeout=WAIT)
    assert "torch.cumsum" in dlg.outcome.text() and window.editor is None

    # bad JSON is caught before anything runs
    dlg.class_name.clear()
    qtbot.keyClicks(dlg.class_name, "Small")
    qtbot.keyClicks(dlg.args, '{"classes": 5')
    qtbot.mouseClick(dlg.import_button, Qt.MouseButton.LeftButton)
    assert not dlg.running and "not valid JSON" in dlg.outcome.text()

    # an input shape the module cannot take: the same one-line message as the command line
    dlg.args.clear()
    qtbot.keyClicks(dlg.args, '{"classes": 5}')
    dlg.shape.clear()
    qtbot.keyClicks(dlg.shape, "3,8,8")
    qtbot.mouseClick(dlg.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dlg.running and dlg.error is not None, timeout=WAIT)
    assert dlg.error == ("the input shape 3,8,8 (float) does not fit Small: layer 'conv' (Conv2d) expects 1 "
                         "channels, got 3; give the input shape 1,8,8") and window.editor is None

    dlg.shape.clear()
    qtbot.keyClicks(dlg.shape, "1,8,8")
    qtbot.mouseClick(dlg.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dlg.running and dlg.result is not None, timeout=WAIT)
    assert window.editor is not None and window.editor.project is dlg.result.project
    net = window.editor.network
    assert sorted(n.type for n in net.nodes.values()) == ["Conv2d", "Flatten", "Input", "Linear", "Output", "ReLU"]
    assert window.is_dirty() and window.path is None
    assert "max difference" in dlg.outcome.text() and "6 nodes" in dlg.outcome.text()
    assert window.files.memory_weights is not None
    assert window.files.weights_choices()[1].kind == PROJECT
    qtbot.mouseClick(dlg.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.files.import_dialog is None)

    # saving writes the weights beside the project and names them in init_weights
    target = tmp_path / "saved" / "small.json"
    target.parent.mkdir()
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: target)
    assert window.save()
    assert window.editor.project.training["init_weights"] == "small.pt"
    assert (target.parent / "small.pt").is_file() and window.files.memory_weights is None
    from studio.export import load_weights

    loaded = project_io.load(target)
    report = load_weights(loaded, target.parent / loaded.training["init_weights"])
    assert report.ok and len(report.matched) == 4


def test_several_networks_freeze_one_and_choose_what_to_export(window, qtbot):
    from studio.graph import Project

    project = Project("pair")
    for name in ("gen", "disc"):
        net = project.add_network(name)
        x = net.add_node("Input", "x", {"shape": [8]}, (0, 0))
        fc = net.add_node("Linear", "fc", {"out_features": 4}, (200, 0))
        y = net.add_node("Output", "y", {}, (400, 0))
        net.connect(x, "out", fc, "in")
        net.connect(fc, "out", y, "in")
    window.set_project(project, None)
    window.editor.scene.select_nodes([n.id for n in window.editor.network.nodes.values() if n.name == "fc"])
    window.files.toggle_frozen()
    assert frozen_names(project) == ["gen/fc"]  # not the discriminator's fc
    assert "0 trainable" in window.memory.text()
    dlg = window.files.open_export_dialog()
    assert dlg.network.isVisible() and [dlg.network.itemText(i) for i in range(2)] == ["gen", "disc"]
    assert dlg.path.text().endswith("pair_gen.pt")
    dlg.network.setCurrentIndex(1)
    assert dlg.path.text().endswith("pair_disc.pt")
    close(qtbot, window, dlg)
