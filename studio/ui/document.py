"""The open project as a file: where it lives, unsaved changes, saving, autosave and crash recovery.

`Document` holds the open `Editor` (None on the start page) and its file
`path` (None for a project never saved; a preset opens that way, so saving
never overwrites the library). It answers the question the window asks
before replacing or closing a project (`keep_work`: a running training, then
unsaved changes), saves atomically (asking for a file the first time),
autosaves unsaved work to the recovery file on a timer and finds it again
after a crash. It knows nothing of the window's views: the window opens and
closes projects (`attach`, `detach`) and follows the signals. All questions
go through `studio.ui.dialogs`, which tests replace.

Signals:
    changed()               the path or the unsaved state changed (the title follows)
    saved(Path, object)     written to this file; the second value is a weights file written beside it, or None
    message(str)            a line for the status bar
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QWidget

from studio.errors import ProjectFileError, StudioError
from studio.graph import Project
from studio.graph import io as project_io
from studio.ui import dialogs, recovery
from studio.ui.start_page import add_recent


class Document(QObject):
    """The open project's file (see the module docstring)."""

    changed = Signal()
    saved = Signal(object, object)
    message = Signal(str)

    def __init__(self, window: QWidget, place_weights: Callable[[Path], Path | None],
                 training_allows_close: Callable[[], bool]):
        super().__init__(window)
        self.window = window  # the parent of every question
        self.editor = None
        self.path: Path | None = None
        self._place_weights = place_weights
        self._training_allows_close = training_allows_close
        self.autosave = QTimer(self)
        self.autosave.setInterval(recovery.autosave_ms())
        self.autosave.timeout.connect(self.write_recovery)
        self.autosave.start()

    def attach(self, editor, path: Path | None, dirty: bool = False) -> None:
        """`editor`'s project is now the open one, saved at `path` (None: never saved)."""
        self.editor, self.path = editor, path
        editor.undo_stack.cleanChanged.connect(self.changed)
        if dirty:
            editor.undo_stack.resetClean()
        self.changed.emit()

    def detach(self) -> None:
        """No project is open any more; its autosave is dropped (the user chose to leave it)."""
        self.editor, self.path = None, None
        recovery.clear()
        self.changed.emit()

    def read(self, path: Path) -> Project | None:
        """The project in `path`; None after telling the user why it cannot be opened (what, file, where)."""
        try:
            return project_io.load(path)
        except ProjectFileError as e:
            dialogs.show_error(self.window, "Cannot open project", f"“{path.name}” cannot be opened: {e.detail}",
                               f"File: {e.path}" + (f"\nWhere: {e.where}" if e.where else ""))
        except StudioError as e:
            dialogs.show_error(self.window, "Cannot open project", str(e))
        return None

    def is_dirty(self) -> bool:
        """True when the open project has unsaved changes."""
        return self.editor is not None and not self.editor.undo_stack.isClean()

    def name(self) -> str:
        """The file's name, or the project's for one never saved."""
        return self.path.name if self.path else self.editor.project.name

    def keep_work(self) -> bool:
        """Asks about a running training and unsaved changes; True when the project may be replaced or closed."""
        if not self._training_allows_close():
            return False
        if not self.is_dirty():
            return True
        answer = dialogs.ask_save_changes(self.window, self.name())
        if answer == "save":
            return self.save()
        return answer == "discard"

    @Slot()
    def save(self) -> bool:
        """Saves to the project's file (asks for one the first time)."""
        if self.editor is None:
            return False
        return self.save_to(self.path) if self.path is not None else self.save_as()

    @Slot()
    def save_as(self) -> bool:
        """Asks where, then saves."""
        if self.editor is None:
            return False
        path = dialogs.ask_save_path(self.window, str(self.path or Path.home() / f"{self.editor.project.name}.json"))
        return self.save_to(path) if path else False

    def save_to(self, path: Path) -> bool:
        """Writes the project (and weights imported into memory) to `path`; on failure says why and keeps all."""
        project = self.editor.project
        before = dict(project.training)
        written = None
        try:
            written = self._place_weights(path)
            project_io.save(project, path)
        except (OSError, StudioError) as e:
            project.set_settings("training", before)
            if written is not None:
                written.unlink(missing_ok=True)
            dialogs.show_error(self.window, "Cannot save", f"“{path}” could not be written.", str(e))
            return False
        self.path = Path(path)
        self.editor.undo_stack.setClean()
        recovery.clear()
        add_recent(self.path)
        self.saved.emit(self.path, written)
        self.changed.emit()
        self.message.emit(f"saved {path}")
        return True

    @Slot()
    def write_recovery(self) -> Path | None:
        """Autosaves unsaved work to the recovery file."""
        if not self.is_dirty():
            return None
        try:
            return recovery.write(self.editor.project, self.path)
        except OSError as e:
            self.message.emit(f"autosave failed: {e}")
            return None

    def recovered(self):
        """At start: work autosaved by a session that crashed, if the user wants it back (else None)."""
        found = recovery.find()
        if found is None:
            return None
        where = f"It came from {found.original}." if found.original else "It was never saved to a file."
        if not dialogs.ask_restore(self.window, f"Unsaved work on “{found.project.name}” was autosaved. {where}"):
            recovery.clear()
            return None
        return found

    def stop(self) -> None:
        """The app is closing: no more autosaves, and none is left behind."""
        self.autosave.stop()
        recovery.clear()
