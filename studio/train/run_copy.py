"""The project as a run started, kept in its folder as ``project.json``.

Every run (``studio train``, a GUI run, each node of a multi-node run)
writes the project it trains — its networks and blocks, and the "training"
and "data" sections it runs with, command-line overrides included — into
its folder before training starts. Later edits to the project file leave it
alone, so two runs can always be compared (`studio.train.run_diff`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from studio.errors import TrainingError
from studio.files import write_atomic
from studio.graph import Project, io

PROJECT_FILE = "project.json"


def save_run_project(out_dir: str | Path, project: Project | dict[str, Any], training: dict[str, Any],
                     data: dict[str, Any]) -> Path:
    """Write ``project`` (a `Project` or its `io.to_dict` form) with these sections into ``out_dir``; the path."""
    content = dict(io.to_dict(project) if isinstance(project, Project) else project)
    # The frozen marks travel in the file's own training section; the run's settings go over it.
    content["training"] = {**content.get("training", {}), **training}
    content["data"] = dict(data)
    path = Path(out_dir) / PROJECT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(content, indent=1, ensure_ascii=False) + "\n", what="the run's project copy")
    return path


def load_run_project(run_dir: str | Path) -> Project:
    """The project a run started with.

    Raises:
        TrainingError: ``run_dir`` is not a folder, or holds no project copy.
        ProjectFileError: the copy is unreadable.
    """
    folder = Path(run_dir)
    if not folder.is_dir():
        raise TrainingError(f"{folder}: no such run folder; give the folder a run wrote (e.g. runs/lenet5-1)")
    path = folder / PROJECT_FILE
    if not path.is_file():
        raise TrainingError(f"{folder}: holds no {PROJECT_FILE}; runs keep their project from this version on, "
                            "so train it again to compare it")
    return io.load(path)
