"""A project's search marks as Optuna's search space: suggestions, grids and samplers.

Each mark (`studio.graph.search`) becomes one Optuna parameter named by the
mark's text (``training.lr``, ``main/fc1.out_features``), so a study's
parameters read like the project. `suggest` draws a trial's values,
`trial_project` applies them to a copy of the project; the project itself
is never changed. A grid search needs finite lists: a choice is its list, an
integer range its whole numbers (at most `GRID_POINTS`, evenly spread), a
float range `GRID_POINTS` evenly spread values (geometrically for a log range).
"""

from __future__ import annotations

import numpy as np
import optuna

from studio.errors import StudioError, TrainingError
from studio.graph import Project, io
from studio.graph.search import apply_value, target_from_text, target_text

SAMPLERS = ("tpe", "grid", "random")
GRID_POINTS = 5


def search_space(project: Project) -> dict[str, dict]:
    """Mark text -> range; TrainingError when the project marks nothing."""
    space = {target_text(project, t): spec for t, spec in project.search_marks().items()}
    if not space:
        raise TrainingError(f"project '{project.name}' marks nothing as searched: mark a layer parameter or a "
                            "training setting (in the inspector, or the file's \"search\" section) first")
    return space


def suggest(trial: optuna.Trial, space: dict[str, dict]) -> dict:
    """The trial's value for each mark, drawn by its sampler."""
    values = {}
    for name, spec in space.items():
        kind = spec["kind"]
        if kind == "choice":
            values[name] = trial.suggest_categorical(name, spec["choices"])
        elif kind == "int":
            values[name] = trial.suggest_int(name, spec["low"], spec["high"], step=spec.get("step", 1))
        else:
            values[name] = trial.suggest_float(name, spec["low"], spec["high"], log=kind == "log")
    return values


def grid(space: dict[str, dict]) -> dict[str, list]:
    """Mark text -> the values a grid search tries (see the module docstring)."""
    out = {}
    for name, spec in space.items():
        kind, low, high = spec["kind"], spec.get("low"), spec.get("high")
        if kind == "choice":
            out[name] = list(spec["choices"])
        elif kind == "int":
            whole = list(range(low, high + 1, spec.get("step", 1)))
            picks = np.linspace(0, len(whole) - 1, min(len(whole), GRID_POINTS)).round().astype(int)
            out[name] = [whole[i] for i in sorted(set(picks.tolist()))]
        else:
            points = np.geomspace(low, high, GRID_POINTS) if kind == "log" else np.linspace(low, high, GRID_POINTS)
            out[name] = [float(v) for v in points]
    return out


def grid_size(space: dict[str, dict]) -> int:
    """How many trials a grid search of `space` has."""
    return int(np.prod([len(v) for v in grid(space).values()]))


def make_sampler(name: str, space: dict[str, dict], seed: int | None = None) -> optuna.samplers.BaseSampler:
    """The sampler called `name` (tpe, grid or random); TrainingError for another name."""
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "grid":
        return optuna.samplers.GridSampler(grid(space), seed=seed)
    raise TrainingError(f"unknown sampler '{name}': use one of {', '.join(SAMPLERS)}")


def trial_project(project: Project, values: dict) -> Project:
    """A copy of `project` with each mark set to its value (checked as an edit in the window would be)."""
    copy = io.from_dict(io.to_dict(project), f"project '{project.name}'")
    for name, value in values.items():
        try:
            apply_value(copy, target_from_text(copy, name), value)
        except StudioError as e:  # a value the layer refuses: say which mark and which value
            raise TrainingError(f"search mark '{name}' = {value!r}: {e}") from None
    return copy
