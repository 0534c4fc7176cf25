"""Crash recovery: an autosave of unsaved work, offered back at the next start.

While a project has unsaved changes the main window writes it every minute
(`AUTOSAVE_MS`, or `STUDIO_AUTOSAVE_MS` for tests) to `recovery.json` in the
recovery folder: `STUDIO_RECOVERY_DIR` when set, else the app's data folder
(`studio.ui.app_dirs.data_dir`). The file holds the project and the path it
came from. A clean close or a save deletes it, so finding one at start means
the app did not end cleanly: the start offers to restore it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from studio.files import write_atomic
from studio.graph import Project
from studio.graph.io import from_dict, to_dict
from studio.ui.app_dirs import data_dir

AUTOSAVE_MS = 60_000


def autosave_ms() -> int:
    """How often to autosave, in milliseconds."""
    return int(os.environ.get("STUDIO_AUTOSAVE_MS", AUTOSAVE_MS))


def recovery_dir() -> Path:
    """Where the recovery file lives."""
    env = os.environ.get("STUDIO_RECOVERY_DIR")
    if env:
        return Path(env)
    return data_dir()


def recovery_file() -> Path:
    """The recovery file's path."""
    return recovery_dir() / "recovery.json"


@dataclass
class Recovered:
    """What an autosave held: the project, the file it came from (if any), when it was written."""

    project: Project
    original: Path | None
    saved_at: float


def write(project: Project, original: Path | None) -> Path:
    """Writes the recovery file (atomically) and returns its path."""
    path = recovery_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"recovery": 1, "original": str(original) if original else None, "saved_at": time.time(),
            "project": to_dict(project)}
    return write_atomic(path, json.dumps(data), what="the autosave")


def find() -> Recovered | None:
    """The autosave left by a session that did not end cleanly, or None (an unreadable one is dropped)."""
    path = recovery_file()
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        project = from_dict(data["project"], path)
        original = Path(data["original"]) if data.get("original") else None
        return Recovered(project, original, float(data.get("saved_at", 0)))
    except Exception:  # a half-written or foreign file: nothing to offer
        clear()
        return None


def clear() -> None:
    """Deletes the recovery file (after a save or a clean close)."""
    try:
        recovery_file().unlink()
    except FileNotFoundError:
        pass
