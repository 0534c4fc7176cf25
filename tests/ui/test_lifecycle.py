"""Opening and closing projects one after another through the real actions (Ctrl+W, preset cards)."""

from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtTest import QTest

from studio.ui.start_page import PresetCard


def _flush_deletes(qapp) -> None:
    qapp.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qapp.processEvents()


def _card(window, name: str) -> PresetCard:
    return next(c for c in window.start_page.findChildren(PresetCard) if c.info.path.stem == name)


def test_close_then_open_five_projects_in_a_row(window, qtbot, qapp):
    for name in ("lenet5", "mlp_xor", "lenet5", "rnn_classifier", "mlp_xor"):
        assert window.editor is None and window.stack.currentWidget() is window.start_page
        card = _card(window, name)
        QTest.mouseClick(card, Qt.MouseButton.LeftButton)
        assert window.editor is not None, f"clicking the {name} card opened nothing"
        assert window.editor.project.name
        window.editor.delete([next(iter(window.editor.network.nodes))])  # an edit: undo must work
        assert window.act_undo.isEnabled()
        QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert window.editor.undo_stack.index() == 0
        window.editor.undo_stack.setClean()
        _flush_deletes(qapp)
        QTest.keyClick(window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
        _flush_deletes(qapp)
    assert window.editor is None
    assert not window.act_undo.isEnabled() and not window.act_redo.isEnabled()


def test_closing_a_project_with_a_node_selected_raises_nothing(window, qtbot, qapp):
    """The canvas, deleted with a node selected, said its selection changed to an inspector reading it."""
    QTest.mouseClick(_card(window, "lenet5"), Qt.MouseButton.LeftButton)
    scene = window.editor.scene
    item = scene.nodes[window.editor.network.by_name("conv1").id]
    view = window.view
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(item.sceneBoundingRect().center()))
    assert window.inspector.node_id == item.node_id
    window.editor.undo_stack.setClean()
    QTest.keyClick(window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    _flush_deletes(qapp)  # pytest-qt fails the test on an exception in a slot
    assert window.editor is None


def test_a_closed_project_cannot_be_trained_and_leaves_nothing_stale(window, qtbot, qapp):
    window.act_open.setEnabled(True)
    QTest.mouseClick(_card(window, "lenet5"), Qt.MouseButton.LeftButton)
    dock = window.training_dock
    assert dock.header.start_action.isEnabled()
    dock.dashboard.begin_run(1)  # curves of a run on show
    QTest.keyClick(window, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    _flush_deletes(qapp)
    assert window.editor is None
    assert dock.project is None
    assert not dock.header.start_action.isEnabled()
    assert not dock.dashboard.runs
    assert not dock.start()


def _type_into(spin, text: str) -> None:
    spin.setFocus()
    spin.selectAll()
    QTest.keyClicks(spin.lineEdit(), text)
    QTest.keyClick(spin.lineEdit(), Qt.Key.Key_Return)


def test_a_training_setting_is_an_undoable_edit_that_is_saved_and_asked_about(lenet, qtbot, monkeypatch, tmp_path):
    from studio.ui import dialogs, recovery

    panel = lenet.training_dock.panel
    lenet.training_dock.show()
    project = lenet.editor.project
    before = project.training.get("epochs")
    _type_into(panel.epochs, "11")
    assert project.training["epochs"] == 11
    assert "*" in lenet.windowTitle()
    assert lenet.editor.undo_stack.count() == 1  # the digits typed merge into one step
    lenet.autosave.setInterval(10)
    qtbot.waitUntil(lambda: recovery.recovery_file().exists(), timeout=2000)
    assert recovery.find().project.training["epochs"] == 11
    asked = []
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a: asked.append(a) or "cancel")
    lenet.close_project()
    assert asked and lenet.editor is not None
    QTest.keyClick(lenet, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert project.training.get("epochs") == before and panel.epochs.value() == before
    assert "*" not in lenet.windowTitle()
    QTest.keyClick(lenet, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert project.training["epochs"] == 11 and panel.epochs.value() == 11


def test_no_key_is_bound_twice_so_every_shortcut_fires(lenet):
    """Qt ignores a key bound twice in one window ("Ambiguous shortcut overload"), e.g. X11's Redo = Ctrl+Shift+Z."""
    from PySide6.QtGui import QAction

    seen = {}
    for action in lenet.findChildren(QAction):
        if action.shortcutContext() != Qt.ShortcutContext.WindowShortcut or not action.isEnabled():
            continue
        for key in action.shortcuts():
            assert seen.setdefault(key.toString(), action) is action or not key.toString(), \
                f"{key.toString()} is bound to '{seen[key.toString()].text()}' and '{action.text()}'"
        keys = [k.toString() for k in action.shortcuts()]
        assert len(keys) == len(set(keys)), f"'{action.text()}' lists a key twice: {keys}"


def test_the_training_failure_banner_follows_the_theme(window, qtbot):
    banner = window.training_dock.message
    banner.show_text("Training failed: the loss became NaN")
    window.set_theme("dark")
    qtbot.waitUntil(lambda: "#4a2624" in banner.styleSheet())
    window.set_theme("light")
    qtbot.waitUntil(lambda: "#fde8e6" in banner.styleSheet())


def test_the_window_with_a_project_open_fits_a_laptop_screen(lenet):
    assert lenet.minimumSizeHint().width() <= 1366
