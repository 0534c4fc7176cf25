"""A sweep's results as the files and tables people read: trials.csv, best.json, the printed table.

``trials.csv`` has one row per trial (trials an interruption cut short and
tried again are left out): ``trial``, ``state`` (complete, pruned, fail,
running), the metric under its own name (the best epoch's value), one column
per search mark, ``epochs`` (epochs trained) and ``run`` (the trial's run
folder, relative to the sweep's). ``best.json`` is ``{"metric", "direction",
"value", "trial", "values": {mark: value}, "run"}``, written once a trial has
completed. Both are rewritten after every trial (`studio.files.write_atomic`).
"""

from __future__ import annotations

import csv
import io as text_io
import json
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

from studio.files import write_atomic

INTERRUPTED = "interrupted"  # user attribute of a trial a killed sweep left running
DATABASE = "sweep.db"
STUDY = "sweep"


def storage_of(out: Path) -> optuna.storages.RDBStorage:
    """The Optuna storage of the sweep in folder `out` (SQLite; waits for a writer instead of failing)."""
    return optuna.storages.RDBStorage(f"sqlite:///{Path(out) / DATABASE}",
                                      engine_kwargs={"connect_args": {"timeout": 60}})


def load_results(out: Path) -> optuna.Study | None:
    """The study of the sweep in `out`, to read (nothing is changed); None before the sweep made it."""
    if not (Path(out) / DATABASE).exists():
        return None
    try:
        return optuna.load_study(study_name=STUDY, storage=storage_of(out))
    except KeyError:  # the database exists but the study is not in it yet
        return None


def metric_of(study: optuna.Study) -> str:
    """The metric the study optimises (recorded when it was made)."""
    return study.user_attrs.get("metric", "value")


def shown_trials(study: optuna.Study) -> list[FrozenTrial]:
    """Every trial but those an interruption cut short (they were tried again)."""
    return [t for t in study.get_trials(deepcopy=False) if not t.user_attrs.get(INTERRUPTED)]


def trial_rows(study: optuna.Study) -> tuple[list[str], list[list]]:
    """(header, rows) of the trials table; a value not known yet is an empty text."""
    trials = shown_trials(study)
    params = list(dict.fromkeys(name for t in trials for name in t.params))
    header = ["trial", "state", metric_of(study), *params, "epochs", "run"]
    rows = [[t.number, t.state.name.lower(), "" if t.value is None else t.value,
             *[t.params.get(p, "") for p in params], t.user_attrs.get("epochs", ""), t.user_attrs.get("run", "")]
            for t in trials]
    return header, rows


def best(study: optuna.Study) -> dict | None:
    """The best completed trial as best.json holds it; None before one completes."""
    if not any(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False)):
        return None
    trial = study.best_trial
    return {"metric": metric_of(study), "direction": study.direction.name.lower(), "value": trial.value,
            "trial": trial.number, "values": dict(trial.params), "run": trial.user_attrs.get("run", "")}


def write_results(study: optuna.Study, out: Path) -> None:
    """Rewrites ``out/trials.csv`` and (once a trial completed) ``out/best.json``."""
    header, rows = trial_rows(study)
    buffer = text_io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    write_atomic(out / "trials.csv", buffer.getvalue(), what="the sweep's trials table")
    found = best(study)
    if found is not None:
        write_atomic(out / "best.json", json.dumps(found, indent=1) + "\n", what="the sweep's best trial")


def table(study: optuna.Study) -> str:
    """The trials table as aligned text, the best trial last on its own line."""
    header, rows = trial_rows(study)
    cells = [header] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    found = best(study)
    if found is not None:
        values = ", ".join(f"{k}={_cell(v)}" for k, v in found["values"].items())
        lines.append(f"best: trial {found['trial']}, {found['metric']} {_cell(found['value'])} ({values})")
    return "\n".join(lines)


def importances(study: optuna.Study) -> dict[str, float]:
    """Optuna's parameter importances (name -> share); empty until two trials completed with different values."""
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    if len(complete) < 2:
        return {}
    try:
        return dict(optuna.importance.get_param_importances(study))
    except (RuntimeError, ValueError):  # every completed trial had the same values: nothing to attribute
        return {}


def _cell(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
