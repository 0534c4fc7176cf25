"""What the training dock checks before a run starts (`studio.train.preflight`, with questions).

A run that would fail at its first batch is refused with its first problem;
its warnings are returned to be shown as it starts. When the data's class
count differs from the Output's, the user is asked once per project and
count (`dialogs.ask_classes`) whether to set the Output to the data's count,
through the editor's undo.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from studio.data import SOURCES, class_count
from studio.errors import StudioError
from studio.graph import Analyzer
from studio.train.preflight import class_mismatch, run_problems
from studio.ui import dialogs


class StartCheck:
    """The checks before a run; `forget()` when another project opens."""

    def __init__(self):
        self._asked: set[tuple] = set()  # the class counts asked about for this project

    def forget(self) -> None:
        """Another project: its class counts have not been asked about."""
        self._asked = set()

    def warnings(self, parent, project, editor, training: dict, data: dict, root: Path | None) -> list:
        """The warnings of the run about to start; StudioError (its message) when it would fail."""
        self._settle_classes(parent, project, editor, training, data, root)
        analyzer = editor.analyzer if editor is not None else Analyzer(project)
        errors, warnings = run_problems(project, analyzer, training)
        if errors:
            more = f" (and {len(errors) - 1} more in the Problems list)" if len(errors) > 1 else ""
            raise StudioError(f"{errors[0]}{more}")
        return warnings

    def _settle_classes(self, parent, project, editor, training: dict, data: dict, root: Path | None) -> None:
        source = SOURCES.get(data.get("source", "digits"))
        if source is None or source.kind == "file":  # reading the user's files would hold up the window: the run checks
            return
        analyzer = editor.analyzer if editor is not None else None
        mismatch = class_mismatch(project, training, data, lambda: class_count(data, root), analyzer)
        if mismatch is None:
            return
        key = (mismatch.output.id, mismatch.drawn, mismatch.data)
        if mismatch.settable and key not in self._asked:
            self._asked.add(key)
            if dialogs.ask_classes(parent, str(mismatch), mismatch.data, mismatch.drawn):
                action = partial(mismatch.network.set_params, mismatch.output.id, {"classes": mismatch.data})
                if editor is not None:
                    editor.edit(f"set {mismatch.output.name}.classes", action)
                else:
                    action()
                return
        if mismatch.data > mismatch.drawn:
            raise StudioError(mismatch.unlearnable)
