"""Comparing two runs: `compare_runs(RUN_A, RUN_B)`, what ``studio diff`` prints and the GUI shows.

Each run folder holds the project as the run started (`studio.train.run_copy`).
The comparison has three parts:

- settings side by side: every training key either run sets (the other's
  value is its default when it leaves the key out) and every data key,
  nested ones as ``data.augment.flip``; a row ``differs`` when the values do;
- the architecture diff of the two projects (`studio.graph.diff`);
- the last epoch's figures of each run (metrics.jsonl; numbers only), side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.graph.diff import GraphDiff, describe, diff_projects
from studio.train.config import TrainConfig
from studio.train.run_copy import load_run_project
from studio.train.run_folders import read_run


@dataclass(frozen=True)
class Row:
    """One setting or figure of both runs (None: the run has none)."""

    key: str
    a: Any
    b: Any

    @property
    def differs(self) -> bool:
        """Whether the two runs' values differ."""
        return self.a != self.b


@dataclass
class RunDiff:
    """What differs between run A and run B (their folders, settings, architecture and last figures)."""

    run_a: Path
    run_b: Path
    settings: list[Row]
    architecture: list[GraphDiff]
    metrics: list[Row]

    def to_dict(self) -> dict[str, Any]:
        """JSON-native; what ``studio diff --json`` prints."""
        return {"run_a": str(self.run_a), "run_b": str(self.run_b), "settings": _json_rows(self.settings),
                "architecture": [d.to_dict() for d in self.architecture], "metrics": _json_rows(self.metrics)}


def _json_rows(rows: list[Row]) -> list[dict[str, Any]]:
    return [{"key": r.key, "a": r.a, "b": r.b, "differs": r.differs} for r in rows]


def compare_runs(run_a: str | Path, run_b: str | Path) -> RunDiff:
    """Compare the runs in two folders.

    Raises:
        TrainingError: a folder is missing or holds no project copy.
    """
    old, new = load_run_project(run_a), load_run_project(run_b)
    settings = _training_rows(old.training, new.training) + _rows(_flat(old.data, "data."), _flat(new.data, "data."))
    last = [_scalars((read_run(Path(r)).epochs or [{}])[-1]) for r in (run_a, run_b)]
    return RunDiff(Path(run_a), Path(run_b), settings, diff_projects(old, new), _rows(*last))


def _training_rows(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    defaults = TrainConfig().to_dict()
    keys = list(a) + [k for k in b if k not in a]
    return [Row(k, a.get(k, defaults.get(k)), b.get(k, defaults.get(k))) for k in keys]


def _scalars(record: dict[str, Any]) -> dict[str, Any]:
    """The figures of a metrics.jsonl line that fit a cell (no per-class lists, no matrices)."""
    return {k: v for k, v in record.items() if isinstance(v, (int, float, str)) or v is None}


def _rows(a: dict[str, Any], b: dict[str, Any]) -> list[Row]:
    return [Row(k, a.get(k), b.get(k)) for k in list(a) + [k for k in b if k not in a]]


def _flat(section: dict[str, Any], prefix: str) -> dict[str, Any]:
    """``{"augment": {"flip": true}}`` -> ``{"data.augment.flip": true}``."""
    flat: dict[str, Any] = {}
    for key, value in (section or {}).items():
        if isinstance(value, dict) and value:
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


def diff_text(diff: RunDiff) -> str:
    """The comparison as ``studio diff`` prints it: settings (``*`` marks a difference), architecture, figures."""
    lines = _table("setting", diff.settings, diff)
    lines += ["", "architecture:" + ("" if diff.architecture else " the same")]
    for graph in diff.architecture:
        lines.append(f"  {graph.kind} {graph.name}")
        lines += [f"    {line}" for line in describe(graph)]
    if diff.metrics:
        lines += ["", *_table("last epoch", diff.metrics, diff)]
    return "\n".join(lines)


def _table(title: str, rows: list[Row], diff: RunDiff) -> list[str]:
    cells = [(title, f"A: {diff.run_a.name}", f"B: {diff.run_b.name}")]
    cells += [(r.key, _show(r.a), _show(r.b)) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(3)]
    marks = [" "] + ["*" if r.differs else " " for r in rows]
    return [f"{m} " + "  ".join(c[i].ljust(widths[i]) for i in range(3)).rstrip() for m, c in zip(marks, cells)]


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
