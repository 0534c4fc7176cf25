"""Every question the app asks, as plain module functions so tests can replace them.

Tests monkeypatch these (`monkeypatch.setattr(dialogs, "ask_save_changes",
lambda *a: "discard")`); the main window always calls them through this
module, never QMessageBox directly.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

FILTER = "Network Studio projects (*.json);;All files (*)"


def ask_save_changes(parent, name: str) -> str:
    """"save", "discard" or "cancel" for unsaved changes to `name`."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes",
                      f"“{name}” has changes that are not saved.", parent=parent)
    box.setInformativeText("Save them before going on?")
    box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                           | QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    return {QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard"}.get(QMessageBox.StandardButton(answer), "cancel")


def show_error(parent, title: str, text: str, detail: str = "") -> None:
    """Tells the user what went wrong (and where)."""
    box = QMessageBox(QMessageBox.Icon.Critical, title, text, parent=parent)
    if detail:
        box.setInformativeText(detail)
    box.exec()


def ask_run_code(parent, name: str, targets: list[str]) -> bool:
    """True when the user trusts the code a project runs (its "Module" nodes) and wants it run."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Run code from this project?",
                      f"“{name}” runs Python code from:\n\n" + "\n".join(targets), parent=parent)
    box.setInformativeText("Opening it imports and runs that code. Open it only if you trust where the project "
                           "and the code came from; your answer is remembered for this code.")
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes


def ask_restore(parent, description: str) -> bool:
    """True when the user wants the autosaved work back."""
    answer = QMessageBox.question(parent, "Restore unsaved work?",
                                  f"Network Studio did not close cleanly last time.\n\n{description}\n\n"
                                  "Restore that work?")
    return answer == QMessageBox.StandardButton.Yes


def confirm_stop(parent) -> bool:
    """True when the user agrees to stop the running training to close."""
    answer = QMessageBox.question(
        parent, "Training is running",
        "Training is running: stop it and close?\n\nThe last epoch's checkpoint is kept.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def ask_classes(parent, mismatch: str, data_classes: int, drawn: int) -> bool:
    """True to train with the data's class count (the Output changes, undoably), False to keep the Output's."""
    box = QMessageBox(QMessageBox.Icon.Question, "Classes", f"{mismatch[0].upper()}{mismatch[1:]}.", parent=parent)
    box.setInformativeText(f"Set the Output to {data_classes} classes before training? "
                           f"(Undo sets it back to {drawn}.)")
    use = box.addButton(f"Use {data_classes}", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(f"Keep {drawn}", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(use)
    box.exec()
    return box.clickedButton() is use


def ask_text(parent, title: str, label: str, text: str = "") -> str | None:
    """A line of text, or None when cancelled."""
    value, ok = QInputDialog.getText(parent, title, label, text=text)
    return value if ok and value else None


def ask_open_path(parent) -> Path | None:
    """A project file to open, or None."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open project", "", FILTER)
    return Path(path) if path else None


def ask_save_path(parent, suggested: str) -> Path | None:
    """Where to save, or None."""
    path, _ = QFileDialog.getSaveFileName(parent, "Save project as", suggested, FILTER)
    if not path:
        return None
    p = Path(path)
    return p if p.suffix else p.with_suffix(".json")


def ask_weights_path(parent, folder: str = "") -> Path | None:
    """A weights file to read (final.pt, last.pt, checkpoint_epochN.pt, a state_dict), or None."""
    path, _ = QFileDialog.getOpenFileName(parent, "Choose weights", folder,
                                          "Weights (*.pt *.pth *.safetensors);;All files (*)")
    return Path(path) if path else None


def ask_export_path(parent, suggested: str, suffix: str) -> Path | None:
    """Where to write an export (the format's `suffix` added when none is typed), or None."""
    path, _ = QFileDialog.getSaveFileName(parent, "Export to", suggested, f"*{suffix};;All files (*)")
    if not path:
        return None
    p = Path(path)
    return p if p.suffix else p.with_suffix(suffix)


def ask_python_file(parent) -> Path | None:
    """A Python file holding the module class to import, or None."""
    path, _ = QFileDialog.getOpenFileName(parent, "Python file with the module", "", "Python (*.py);;All files (*)")
    return Path(path) if path else None
