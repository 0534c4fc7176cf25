"""Undoable changes to keys of a project's settings sections ("training", "data", "metadata").

The model's `Project.set_settings(section, values)` sends only
``settings_changed(section)``, without the old values, so the recording
`RecordedCommand` cannot invert it. `SettingsCommand` stores, for the keys
it changes only, their old and new values (plain values; `MISSING` for a key
that is absent) and sets one or the other, leaving every other key as it is
then: undoing "freeze conv1" never takes back an ``init_weights`` set
meanwhile. `change_training` pushes one onto the editor's undo stack:
freezing layers and choosing the initial weights are edits like any other
(they mark the project unsaved and undo with Ctrl+Z).
"""

from __future__ import annotations

import copy

from PySide6.QtGui import QUndoCommand

from studio.graph import Project

class _Missing:
    """The value of a key that is absent (survives deepcopy as itself)."""

    def __deepcopy__(self, memo):
        return self

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


class SettingsCommand(QUndoCommand):
    """Sets some keys of one settings section of `project`; undo puts their old values back."""

    def __init__(self, project: Project, section: str, old: dict, new: dict, text: str):
        super().__init__(text)
        self.project = project
        self.section = section
        self.old = copy.deepcopy(old)
        self.new = copy.deepcopy(new)

    def _set(self, values: dict) -> None:
        current = dict(getattr(self.project, self.section))
        for key, value in values.items():
            if value is MISSING:
                current.pop(key, None)
            else:
                current[key] = copy.deepcopy(value)
        self.project.set_settings(self.section, current)

    def redo(self) -> None:
        self._set(self.new)

    def undo(self) -> None:
        self._set(self.old)


def change_training(editor, text: str, changes: dict) -> bool:
    """Sets keys of ``project.training`` as one undoable edit (a value of None removes the key).

    Returns False (and pushes nothing) when nothing would change.
    """
    training = editor.project.training
    old = {k: training.get(k, MISSING) for k in changes}
    new = {k: MISSING if v is None else v for k, v in changes.items()}
    if all((old[k] is MISSING and new[k] is MISSING) or old[k] == new[k] for k in changes):
        return False
    editor.undo_stack.push(SettingsCommand(editor.project, "training", old, new, text))
    return True
