"""Undo in the Qt app: `RecordedCommand` wraps one Qt-free `Change` (`studio.graph.history`).

The change records the document's own events while the edit runs, so the
command holds ids and plain values, never widgets, and undo is complete by
construction for every kind of edit: layers, wires, blocks, settings and
frozen layers alike.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtGui import QUndoCommand

from studio.graph import Project
from studio.graph.history import Change


class RecordedCommand(QUndoCommand):
    """One user edit: `run` makes it and records it; undo and redo replay the recorded `Change`.

    Attributes:
        events: what the edit changed, in order; empty when it changed nothing
            (the editor then drops the command).
        result: what `action` returned on its first run.
    """

    def __init__(self, project: Project, text: str, action: Callable[[], object], merge_key=None):
        super().__init__(text)
        self.project = project
        self.merge_key = merge_key  # consecutive edits with the same key (typing a number) merge into one
        self.action = action
        self.change = Change(project, text)
        self.result = None
        self._skip_redo = False

    @property
    def events(self) -> list[tuple]:
        return self.change.events

    def run(self) -> None:
        """Makes the edit once, recording it; an exception propagates after a rollback."""
        self.change, self.result = Change.record(self.project, self.text(), self.action)
        self._skip_redo = True

    def redo(self) -> None:
        if self._skip_redo:  # QUndoStack.push calls redo; the edit was already made by run()
            self._skip_redo = False
            return
        self.change.redo()

    def undo(self) -> None:
        self.change.undo()

    def id(self) -> int:
        return 1 if self.merge_key is not None else -1

    def mergeWith(self, other) -> bool:
        if not isinstance(other, RecordedCommand) or other.merge_key != self.merge_key:
            return False
        self.change.absorb(other.change)
        self.setText(other.text())
        return True
