"""UI test settings: every window a test opens must be closed by its end; settings and autosaves go to a temp folder."""

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture(autouse=True, scope="module")
def gui_thread_collection(qapp):
    """Collects garbage as the app does (in the GUI thread), and only while UI tests run."""
    from studio.ui.collector import collect_anywhere, collect_in_gui_thread

    collect_in_gui_thread()
    yield
    collect_anywhere()


@pytest.fixture(autouse=True)
def no_leaked_windows(qapp):
    """Fails a test that leaves a top-level window visible."""
    yield
    qapp.processEvents()
    visible = [w for w in qapp.topLevelWidgets() if w.isVisible()]
    for w in visible:
        w.close()
    assert not visible, f"test left windows open: {[type(w).__name__ for w in visible]}"


@pytest.fixture(autouse=True)
def empty_clipboard(qapp):
    """Clears the clipboard after a test: data left on the offscreen clipboard crashes Qt at exit."""
    yield
    qapp.clipboard().clear()
    qapp.processEvents()


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """Recent files, theme and the recovery file live in this test's temp folder."""
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    monkeypatch.setenv("STUDIO_RECOVERY_DIR", str(tmp_path / "recovery"))
    yield


@pytest.fixture
def window(qtbot):
    """A main window (light theme) that is closed, without questions, at the end."""
    from studio.ui.app import make_window

    w = make_window(None)
    w.set_theme("light")
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    if w.editor is not None:
        w.editor.undo_stack.setClean()  # closing must not stop on the unsaved-changes question
    w.close()
    w.deleteLater()


@pytest.fixture
def lenet(window):
    """The window with the LeNet-5 preset open."""
    from studio.presets import presets_dir

    assert window.open_path(presets_dir() / "lenet5.json")
    return window
