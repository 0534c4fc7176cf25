"""Sweeps: Optuna trials over a project's search marks, each a real training run in its own process.

`run_sweep` opens (or reopens) an Optuna study in ``OUT/sweep.db`` (SQLite),
so a sweep that was interrupted resumes where it stopped: finished trials are
kept, trials that were running are marked interrupted and tried again with
the same values, and only the missing trials run. Each trial applies its
values to a copy of the project, saves it as ``OUT/trials/trial-NNN/project.json``
and trains it in a child process (`studio.train.sweep_trial`) into that folder,
a normal run (metrics.jsonl, checkpoints) that opens as one. After every
epoch the child reports its metrics and waits; the trial reports the metric to
Optuna and the median pruner may stop it there. ``jobs`` trials train at once
(Optuna's threads, one child process each). After each trial ``trials.csv``
(one row per trial: number, state, the metric, the values, epochs, run folder)
and ``best.json`` (the best trial's values and metric) are rewritten.
See docs/architecture.md ("Sweeps").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import FrozenTrial, TrialState

import studio
from studio.errors import TrainingError
from studio.graph import Project, io
from studio.train.metrics import higher_is_better
from studio.train.search_space import grid_size, make_sampler, search_space, suggest, trial_project
from studio.train.sweep_results import INTERRUPTED, STUDY, storage_of, write_results
from studio.train.sweep_trial import MARK



@dataclass
class SweepOptions:
    """How to sweep.

    Attributes:
        trials: trials in all, those of an earlier interrupted run of the sweep included.
        jobs: trials training at once, each in its own process.
        sampler: "tpe", "grid" or "random".
        metric: the epoch metric to optimise (the project's early-stopping metric, val_loss by default).
        epochs: epochs per trial (the project's own when None).
        seed: the sampler's seed (None: a random one).
        startup_trials: trials that finish before the median pruner stops any.
        device: the training device of every trial (the project's when None).
    """

    trials: int
    jobs: int = 1
    sampler: str = "tpe"
    metric: str | None = None
    epochs: int | None = None
    seed: int | None = None
    startup_trials: int = 5
    device: str | None = None


def run_sweep(project: Project, source: Path, out: Path, options: SweepOptions, log=None) -> optuna.Study:
    """Runs (or resumes) the sweep of `project` (read from `source`) into `out`; the finished study.

    `log` is called with one line of text per finished trial (nothing when None).
    """
    space = search_space(project)
    metric = options.metric or project.training.get("early_stop_metric", "val_loss")
    sampler = make_sampler(options.sampler, space, options.seed)
    study = open_study(out, metric, sampler, optuna.pruners.MedianPruner(n_startup_trials=options.startup_trials))
    wanted = min(options.trials, grid_size(space)) if options.sampler == "grid" else options.trials
    remaining = wanted - len(done_trials(study))
    if remaining > 0:
        runner = _TrialRunner(project, Path(source), out, space, metric, options)
        lock = threading.Lock()

        def finished(study: optuna.Study, trial: FrozenTrial) -> None:
            with lock:
                write_results(study, out)
            if log is not None:
                log(_trial_line(trial, metric))

        study.optimize(runner, n_trials=remaining, n_jobs=max(1, options.jobs), catch=(TrialFailed,),
                       callbacks=[finished])
    write_results(study, out)
    return study


def open_study(out: Path, metric: str, sampler=None, pruner=None) -> optuna.Study:
    """The sweep's study in ``out/sweep.db`` (made when new); trials a killed run left running are marked."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # a line per trial comes from `run_sweep` instead
    out.mkdir(parents=True, exist_ok=True)
    storage = storage_of(out)
    direction = "maximize" if higher_is_better(metric) else "minimize"
    study = optuna.create_study(storage=storage, study_name=STUDY, load_if_exists=True, direction=direction,
                                sampler=sampler, pruner=pruner)
    earlier = study.user_attrs.get("metric")
    if earlier is None:
        study.set_user_attr("metric", metric)
    elif earlier != metric:
        raise TrainingError(f"the sweep in {out} optimises {earlier}, not {metric}: "
                            f"use --metric {earlier} to resume it, or another --out folder")
    _retry_interrupted(study)
    return study


def _retry_interrupted(study: optuna.Study) -> None:
    """Marks trials left running by a killed sweep as failed and interrupted, and queues their values again."""
    storage = study._storage  # Optuna offers no public call that changes a finished run's trial state
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        storage.set_trial_user_attr(trial._trial_id, INTERRUPTED, True)
        storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        if trial.params:
            study.enqueue_trial(trial.params)


def done_trials(study: optuna.Study) -> list[FrozenTrial]:
    """Trials that ended (completed, pruned or failed), not those an interruption cut short."""
    ended = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    return [t for t in study.get_trials(deepcopy=False, states=ended) if not t.user_attrs.get(INTERRUPTED)]


class TrialFailed(Exception):
    """A trial's run failed (its message is the run's last line)."""


class _TrialRunner:
    """The objective: one trial trained in a child process, reported epoch by epoch."""

    def __init__(self, project: Project, source: Path, out: Path, space: dict, metric: str, options: SweepOptions):
        self.project, self.source, self.out = project, source, out
        self.space, self.metric, self.options = space, metric, options
        self.maximize = higher_is_better(metric)

    def __call__(self, trial: optuna.Trial) -> float:
        values = suggest(trial, self.space)
        run = self.out / "trials" / f"trial-{trial.number:03d}"
        run.mkdir(parents=True, exist_ok=True)
        io.save(trial_project(self.project, values), run / "project.json")
        trial.set_user_attr("run", str(run.relative_to(self.out)))
        with open(run / "train.log", "w", encoding="utf-8") as log:
            proc = subprocess.Popen(self._command(run), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=log, text=True, env=self._env())
            try:
                best, pruned, reported = self._follow(trial, proc)
            finally:
                proc.stdin.close()
                proc.wait()
                proc.stdout.close()
        if pruned:
            raise optuna.TrialPruned()
        failure = None
        if reported is not None and self.metric not in reported:
            failure = (f"the run reports no '{self.metric}' (it reports {', '.join(sorted(reported))}): "
                       "pick one of those with --metric")
        elif proc.returncode != 0 or best is None:
            failure = _last_line(run / "train.log") or f"the run ended with exit code {proc.returncode}"
        if failure is not None:
            trial.set_user_attr("failure", failure)
            raise TrialFailed(failure)
        return best

    def _follow(self, trial: optuna.Trial, proc: subprocess.Popen) -> tuple[float | None, bool, dict | None]:
        """Reads the child's epochs, reports them and answers go or stop: (best value, pruned, last metrics)."""
        best, pruned, metrics = None, False, None
        for line in proc.stdout:
            if not line.startswith(MARK):
                continue
            report = json.loads(line[len(MARK):])
            metrics = report["metrics"]
            value = metrics.get(self.metric)
            trial.set_user_attr("epochs", report["epoch"])
            if value is not None and not pruned:
                trial.report(float(value), report["epoch"])
                best = value if best is None else (max if self.maximize else min)(best, value)
                pruned = trial.should_prune()
            proc.stdin.write("stop\n" if pruned or value is None else "go\n")
            proc.stdin.flush()
        return best, pruned, metrics

    def _command(self, run: Path) -> list[str]:
        command = [sys.executable, "-m", "studio.train.sweep_trial", str(run / "project.json"),
                   "--source", str(self.source), "--out", str(run)]
        if self.options.epochs is not None:
            command += ["--epochs", str(self.options.epochs)]
        if self.options.device is not None:
            command += ["--device", self.options.device]
        return command

    def _env(self) -> dict:
        env = dict(os.environ)
        # The children import this same studio, wherever it was imported from.
        root = str(Path(studio.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        # Several trials at once share the cores instead of each taking them all.
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // max(1, self.options.jobs))))
        return env


def _last_line(path: Path) -> str:
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def _trial_line(trial: FrozenTrial, metric: str) -> str:
    """``trial 3 pruned after epoch 1: val_loss 0.69 (training.lr=1e-07)``."""
    values = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in trial.params.items())
    state = trial.state.name.lower()
    if trial.state == TrialState.PRUNED:
        state += f" after epoch {trial.user_attrs.get('epochs', '?')}"
    result = f"{metric} {trial.value:.4g}" if trial.value is not None else trial.user_attrs.get("failure", "")
    return f"trial {trial.number} {state}: {result} ({values})"
