"""The app's own per-user folder, for what belongs to no project file (autosaves, unsaved projects' runs).

``<user data>/NetworkStudio``: ``~/.local/share/NetworkStudio`` on Linux,
``~/Library/Application Support/NetworkStudio`` on macOS,
``%LOCALAPPDATA%/NetworkStudio`` on Windows. Qt's AppDataLocation would add
the organisation and the application name, one inside the other
(``NetworkStudio/Network Studio``); one level is enough.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths

APP_FOLDER = "NetworkStudio"


def data_dir() -> Path:
    """The app's per-user data folder (not created here)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
    return Path(base or Path.home() / ".local" / "share") / APP_FOLDER
