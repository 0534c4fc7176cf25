"""Sweeps: real trials of a tiny network (the XOR preset), each a training run in its own process."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from studio.errors import TrainingError
from studio.graph import io
from studio.presets import resolve
from studio.train.search_space import grid, trial_project
from studio.train.sweep import SweepOptions, open_study, run_sweep

LR = ("setting", "training", "lr")


def _xor(tmp_path, **marks):
    project = io.load(resolve("mlp_xor"))
    for target, spec in marks.get("marks", {LR: {"kind": "log", "low": 1e-3, "high": 0.1}}).items():
        project.set_search(target, spec)
    path = tmp_path / "xor.json"
    io.save(project, path)
    return project, path


def _rows(out):
    with open(out / "trials.csv", newline="") as f:
        return list(csv.DictReader(f))


def _sweep(path, out, *options):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return [sys.executable, "-m", "studio.cli", "sweep", str(path), "--out", str(out), "--epochs", "1", *options], env


def test_a_sweep_of_four_trials_two_at_a_time_finds_the_best_in_its_table(tmp_path):
    project, path = _xor(tmp_path, marks={
        LR: {"kind": "log", "low": 1e-3, "high": 0.1},
        ("node", "main", "hidden", "out_features"): {"kind": "int", "low": 2, "high": 16}})
    command, env = _sweep(path, tmp_path / "s", "--trials", "4", "--jobs", "2", "--seed", "1")
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = _rows(tmp_path / "s")
    assert [r["state"] for r in rows] == ["complete"] * 4
    best = json.loads((tmp_path / "s" / "best.json").read_text())
    lowest = min(rows, key=lambda r: float(r["val_loss"]))
    assert (best["trial"], best["metric"], best["direction"]) == (int(lowest["trial"]), "val_loss", "minimize")
    assert best["values"] == {"training.lr": float(lowest["training.lr"]),
                              "main/hidden.out_features": int(lowest["main/hidden.out_features"])}
    assert f"best: trial {best['trial']}, val_loss" in done.stdout
    assert done.stdout.splitlines()[0].split() == ["trial", "state", "val_loss", "training.lr",
                                                   "main/hidden.out_features", "epochs", "run"]
    run = tmp_path / "s" / best["run"]  # a normal run: its metrics, its weights, the project it trained
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 1
    assert (run / "final.pt").exists()
    trained = io.load(run / "project.json")
    assert trained.network().node("hidden").params["out_features"] == best["values"]["main/hidden.out_features"]
    assert trained.training["lr"] == best["values"]["training.lr"]


def test_an_interrupted_sweep_resumes_without_redoing_finished_trials(tmp_path):
    _, path = _xor(tmp_path)
    out = tmp_path / "s"
    command, env = _sweep(path, out, "--trials", "2", "--seed", "2")
    proc = subprocess.Popen(command, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(
            r["state"] == "complete" for r in (_rows(out) if (out / "trials.csv").exists() else [])):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its trials, as a crash or a power cut would
    proc.wait()
    before = {r["trial"]: r for r in _rows(out) if r["state"] == "complete"}
    assert len(before) == 1
    stamps = {n: (out / r["run"] / "metrics.jsonl").stat().st_mtime_ns for n, r in before.items()}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = _rows(out)
    assert [r["state"] for r in rows] == ["complete"] * 2
    for n, row in before.items():  # kept as they were, not trained again
        assert {**row} == next(r for r in rows if r["trial"] == n)
        assert (out / row["run"] / "metrics.jsonl").stat().st_mtime_ns == stamps[n]


def test_the_median_pruner_stops_a_clearly_worse_trial_after_its_first_epoch(tmp_path):
    project, path = _xor(tmp_path, marks={LR: {"kind": "choice", "choices": [0.05, 1e-7]}})
    options = SweepOptions(trials=3, sampler="random", seed=6, epochs=3, startup_trials=1)
    lines = []
    study = run_sweep(project, path, tmp_path / "s", options, log=lines.append)
    trials = study.get_trials()
    first_good = min(t.number for t in trials if t.params["training.lr"] == 0.05)
    late_bad = [t for t in trials if t.params["training.lr"] == 1e-7 and t.number > first_good]
    assert late_bad, [t.params for t in trials]  # seed 6 draws good, good, bad
    assert all(t.state.name == "PRUNED" and t.user_attrs["epochs"] == 1 for t in late_bad)
    run = tmp_path / "s" / late_bad[0].user_attrs["run"]
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 1  # the run itself stopped
    assert all(t.state.name == "COMPLETE" for t in trials if t.params["training.lr"] == 0.05)
    assert f"trial {late_bad[0].number} pruned after epoch 1: val_loss" in "\n".join(lines)


def test_a_grid_covers_every_choice_and_spreads_ranges():
    space = {"a": {"kind": "choice", "choices": ["adam", "sgd"]}, "b": {"kind": "int", "low": 1, "high": 3},
             "c": {"kind": "log", "low": 1e-4, "high": 1.0}, "d": {"kind": "int", "low": 0, "high": 100, "step": 10}}
    values = grid(space)
    assert values["a"] == ["adam", "sgd"] and values["b"] == [1, 2, 3]
    assert values["c"] == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    assert values["d"] == [0, 20, 50, 80, 100]


def test_a_value_a_layer_refuses_names_the_mark(tmp_path):
    project, _ = _xor(tmp_path)
    with pytest.raises(TrainingError, match="main/hidden.out_features"):
        trial_project(project, {"main/hidden.out_features": "wide"})


def test_a_project_without_marks_and_a_changed_metric_are_refused(tmp_path):
    project = io.load(resolve("mlp_xor"))
    with pytest.raises(TrainingError, match="marks nothing"):
        run_sweep(project, resolve("mlp_xor"), tmp_path / "s", SweepOptions(trials=1))
    open_study(tmp_path / "t", "val_loss")
    with pytest.raises(TrainingError, match="--metric val_loss"):
        open_study(tmp_path / "t", "val_accuracy")


def test_a_metric_the_runs_do_not_report_fails_the_trial_and_says_which_there_are(tmp_path):
    project, path = _xor(tmp_path)
    study = run_sweep(project, path, tmp_path / "s", SweepOptions(trials=1, epochs=1, metric="val_r2"))
    [trial] = study.get_trials()
    assert trial.state.name == "FAIL"
    assert "reports no 'val_r2'" in trial.user_attrs["failure"] and "val_accuracy" in trial.user_attrs["failure"]
