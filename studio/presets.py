"""The preset library: the project files in `presets/`, found in a checkout or an installed wheel.

`studio FILE` accepts a path or a preset name; `resolve` tells which.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from studio.errors import ProjectFileError

_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class PresetInfo:
    """A preset: its name (the file stem), task, title and one-line description."""

    name: str
    path: Path
    title: str
    task: str
    description: str
    category: str = "other"  # the gallery's filter: one of CATEGORIES
    params: int | None = None  # parameters of every network, counted when the preset was built
    trains_on: str = ""  # the data source or environment it trains on by default


CATEGORIES = ("vision", "sequence", "generative", "RL", "other")
_SEQUENCE_TASKS = ("language_model", "seq2seq", "masked_lm", "word_embedding")


def category(task: str, input_shape: str, data: str) -> str:
    """The gallery category of a preset from its task, its input shape ("3×224×224") and data source."""
    if task == "reinforcement":
        return "RL"
    if task == "generative":
        return "generative"
    if task in _SEQUENCE_TASKS or "sentence" in data or "sequence" in data or "text" in data:
        return "sequence"
    if input_shape.count("×") >= 2:
        return "vision"
    return "other"


def _info(path: Path, project: dict) -> PresetInfo:
    meta = project.get("metadata", {})
    data = (project.get("data") or {}).get("source") or (project.get("training") or {}).get("env") or ""
    task = meta.get("task", "")
    return PresetInfo(path.stem, path, meta.get("title", path.stem), task, meta.get("description", ""),
                      category(task, str(meta.get("input", "")), str(data)), meta.get("params"), str(data))


def presets_dir() -> Path:
    """The folder of preset files: `presets/` beside the package, or the copy inside a wheel."""
    for candidate in (_HERE.parent / "presets", _HERE / "_presets"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the presets folder is missing from this installation; reinstall Network Studio")


def list_presets() -> list[PresetInfo]:
    """Every preset, sorted by name; files that cannot be read are skipped."""
    out = []
    for path in sorted(presets_dir().glob("*.json")):
        try:
            out.append(_info(path, json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, AttributeError):
            continue
    return out


def is_preset(path: Path) -> bool:
    """True when `path` is a file of the preset library (not a user's copy of one)."""
    return Path(path).resolve().parent == presets_dir().resolve()


def resolve(file_or_name: str) -> Path:
    """A project path for `file_or_name`: an existing file, else the preset of that name.

    Only a file shadows a preset: a folder named ``lenet5`` in the current
    directory leaves ``lenet5`` the preset.
    """
    path = Path(file_or_name)
    if path.is_file() or path.suffix == ".json" or "/" in file_or_name:
        return path
    candidate = presets_dir() / f"{file_or_name}.json"
    if candidate.exists():
        return candidate
    names = ", ".join(p.name for p in list_presets())
    what = "a folder, not a project file" if path.is_dir() else "no such file"
    raise ProjectFileError(file_or_name, "", f"{what}, and no preset of that name (presets: {names})")
