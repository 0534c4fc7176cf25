"""Never lose work: save, reopen, unsaved-changes questions, autosave recovery, corrupt files."""

import json

from studio.graph import io as project_io
from studio.ui import dialogs, recovery
from studio.ui.app import make_window


def test_save_and_reopen(lenet, tmp_path, monkeypatch):
    ed = lenet.editor
    ed.set_params("fc1", {"out_features": 99})
    assert lenet.windowTitle().startswith("lenet5*")
    target = tmp_path / "mine.json"
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: target)
    assert lenet.save()  # a preset has no file of its own yet: asks where
    assert "*" not in lenet.windowTitle() and lenet.windowTitle().startswith("mine.json")
    assert project_io.load(target).network().nodes["fc1"].params["out_features"] == 99
    ed.undo_stack.undo()
    assert "*" in lenet.windowTitle()
    lenet.editor.undo_stack.redo()
    assert "*" not in lenet.windowTitle()  # back at the saved state
    assert lenet.open_path(target)
    assert lenet.path == target and lenet.editor.network.nodes["fc1"].params["out_features"] == 99
    assert str(target.resolve()) in [lenet.start_page.recent.item(i).data(256) for i in range(lenet.start_page.recent.count())]


def test_replacing_unsaved_work_asks_first(lenet, monkeypatch):
    lenet.editor.set_params("fc1", {"out_features": 99})
    asked = []
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a: asked.append(a) or "cancel")
    lenet.new()
    assert asked and lenet.editor.network.nodes["fc1"].params["out_features"] == 99  # cancelled: kept
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a: "discard")
    lenet.new()
    assert "fc1" not in lenet.editor.network.nodes


def test_closing_with_unsaved_work_can_be_cancelled(lenet, monkeypatch):
    lenet.editor.set_params("fc1", {"out_features": 99})
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a: "cancel")
    assert not lenet.close()
    assert lenet.isVisible()


def test_corrupt_file_shows_dialog_and_keeps_project(lenet, tmp_path, monkeypatch):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": 1, "networks": {"main": {"nodes": [', encoding="utf-8")
    shown = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, text, detail="": shown.append((text, detail)))
    project, nodes = lenet.editor.project, dict(lenet.editor.network.nodes)
    assert not lenet.open_path(bad)
    assert shown and "bad.json" in shown[0][0] and "line 1" in shown[0][1]
    assert lenet.editor.project is project and lenet.editor.network.nodes == nodes


def test_autosave_then_recover_after_a_crash(lenet, monkeypatch, qtbot):
    lenet.editor.set_params("fc1", {"out_features": 42})
    path = lenet.write_recovery()
    assert path is not None and path.exists()
    assert json.loads(path.read_text())["project"]["name"] == "lenet5"
    # the "crashed" session never cleared it; a new start offers it back
    monkeypatch.setattr(dialogs, "ask_restore", lambda *a: True)
    w = make_window(None)
    try:
        assert w.editor is not None
        assert w.editor.network.nodes["fc1"].params["out_features"] == 42
        assert w.is_dirty() and "*" in w.windowTitle()
    finally:
        w.editor.undo_stack.setClean()
        w.close()
        w.deleteLater()
    assert recovery.find() is None  # a clean close deletes it


def test_autosave_timer_writes_unsaved_work(window, monkeypatch, qtbot):
    window.new()
    window.editor.add_node("ReLU", (200, 100))
    window.autosave.setInterval(10)
    qtbot.waitUntil(lambda: recovery.recovery_file().exists(), timeout=2000)
    window.save_as = lambda: False
    monkeypatch.setattr(dialogs, "ask_save_path", lambda *a: None)


def test_declined_recovery_is_deleted(lenet, monkeypatch):
    lenet.editor.set_params("fc1", {"out_features": 42})
    lenet.write_recovery()
    monkeypatch.setattr(dialogs, "ask_restore", lambda *a: False)
    w = make_window(None)
    try:
        assert w.editor is None and recovery.find() is None
    finally:
        w.close()
        w.deleteLater()
