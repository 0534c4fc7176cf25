"""A project's run folders: naming the next one, and reading back the runs already on disk.

The app trains each run of a project into ``ROOT/<stem>-<n>``: ``stem`` names
the project (its file's name without ``.json``, made safe for a folder name),
``n`` counts up from 1 past the highest number taken, so the newest run has
the highest number and no folder is reused. `find_runs` reads them back from
the files every run writes (`studio.train.checkpoint` lists them): the epochs
from ``metrics.jsonl``, how it ended from ``result.json`` (none while it runs,
or when its process died), the test figures from ``test.json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from studio.train.events import RunFailed, RunFinished, event_from_dict


def safe_name(name: str) -> str:
    """``name`` made into a folder name: letters, digits, ``-`` and ``_`` only."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")
    return cleaned or "run"


def _numbered(root: Path, name: str) -> list[tuple[int, Path]]:
    """The folders ``root/<safe name>-<n>`` as (n, path), lowest n first."""
    if not root.is_dir():
        return []
    pattern = re.compile(re.escape(safe_name(name)) + r"-(\d+)")
    found = [(int(m.group(1)), child) for child in root.iterdir()
             if (m := pattern.fullmatch(child.name)) and child.is_dir()]
    return sorted(found)


def next_run_dir(root: Path, name: str) -> Path:
    """``root/<name>-<n>``, ``n`` one past the highest taken (1 when none is); not created."""
    taken = _numbered(Path(root), name)
    return Path(root) / f"{safe_name(name)}-{taken[-1][0] + 1 if taken else 1}"


@dataclass(frozen=True)
class SavedRun:
    """A run found on disk.

    Attributes:
        number: the ``n`` of its folder's name.
        out_dir: its folder.
        epochs: one dict per line of metrics.jsonl.
        result: its last event (`RunFinished` or `RunFailed`), None when it has none.
        test: its test figures (test.json), or None.
    """

    number: int
    out_dir: Path
    epochs: list[dict[str, Any]]
    result: RunFinished | RunFailed | None
    test: dict[str, Any] | None

    @property
    def final_weights(self) -> Path | None:
        """Its final.pt, when the run finished and the file is there."""
        path = self.out_dir / "final.pt"
        return path if isinstance(self.result, RunFinished) and path.is_file() else None


def find_runs(root: Path, name: str) -> list[SavedRun]:
    """The runs of project ``name`` in ``root``, oldest first; folders with no metrics.jsonl are skipped."""
    runs = []
    for number, folder in _numbered(Path(root), name):
        if (folder / "metrics.jsonl").is_file():
            runs.append(read_run(folder, number))
    return runs


def read_run(folder: Path, number: int = 0) -> SavedRun:
    """The run in ``folder``; unreadable files count as missing (a run may still be writing them)."""
    epochs = [line for line in _json_lines(folder / "metrics.jsonl") if isinstance(line, dict)]
    result = _read_json(folder / "result.json")
    try:
        event = event_from_dict(result) if isinstance(result, dict) else None
    except (KeyError, TypeError):  # a result.json this version does not know
        event = None
    if isinstance(event, RunFinished):  # final.pt where it is now: the folder may have moved with its project
        event = replace(event, final_weights=str(folder / "final.pt") if (folder / "final.pt").is_file() else None)
    test = _read_json(folder / "test.json")
    return SavedRun(number, folder, epochs, event if isinstance(event, (RunFinished, RunFailed)) else None,
                    test if isinstance(test, dict) else None)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _json_lines(path: Path) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    lines = []
    for line in text.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:  # a line being written
            continue
    return lines
