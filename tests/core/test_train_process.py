"""The GUI's way to train: a `Trainer` in a child process, events up one pipe, commands down another."""

from __future__ import annotations

import dataclasses
import functools
import multiprocessing as mp
import signal
import time
from pathlib import Path

import pytest

from studio.graph import io
from studio.presets import resolve
from studio.train import BatchEnded, EpochEnded, RunFailed, RunFinished, RunStarted
from studio.train.launcher import COLD, Launcher, WarmUp
from studio.train.process import PIPE_ROOM, NotStarted, RunSpec, TrainingProcess, crashed
from studio.train.run_copy import load_run_project


def _spec(tmp_path, epochs: int = 1, samples: int = 128, **data) -> RunSpec:
    project = io.load(resolve("lenet5"))
    training = {**project.training, "epochs": epochs, "device": "cpu", "batch_size": 32}
    return RunSpec(io.to_dict(project), training, {**project.data, "max_samples": samples, **data},
                   None, str(tmp_path / "run"), event_interval=0.0, threads=1)


def _events(process: TrainingProcess, until=None) -> list:
    seen = []
    while (event := process.next_event()) is not None:
        seen.append(event)
        if until is not None and until(event):
            break
    return seen


def test_a_run_in_a_child_sends_every_event_and_writes_its_folder(tmp_path):
    process = TrainingProcess(_spec(tmp_path))
    process.start()
    events = _events(process)
    assert process.join(30) == 0
    process.close()
    assert isinstance(events[0], RunStarted) and events[0].class_names == [str(i) for i in range(10)]
    assert any(isinstance(e, BatchEnded) for e in events) and any(isinstance(e, EpochEnded) for e in events)
    assert isinstance(events[-1], RunFinished) and events[-1].reason == "completed"
    assert (tmp_path / "run" / "final.pt").exists() and (tmp_path / "run" / "metrics.jsonl").exists()
    kept = load_run_project(tmp_path / "run")  # the project as the run started, for comparing runs
    assert kept.training["batch_size"] == 32 and kept.data["max_samples"] == 128


def test_pause_and_stop_reach_the_child(tmp_path):
    process = TrainingProcess(_spec(tmp_path, epochs=500))
    process.pause()  # before the child even starts: applied once its trainer exists
    process.start()
    started = _events(process, until=lambda e: isinstance(e, RunStarted))
    assert isinstance(started[-1], RunStarted)
    process.resume()
    _events(process, until=lambda e: isinstance(e, BatchEnded))
    process.stop()
    last = _events(process)[-1]
    assert isinstance(last, RunFinished) and last.reason == "stopped"
    assert process.join(30) == 0
    process.close()


def test_a_run_that_cannot_be_prepared_says_why(tmp_path):
    process = TrainingProcess(_spec(tmp_path, source="mnist", images=str(tmp_path / "missing-images.idx"), labels=str(tmp_path / "missing-labels.idx")))
    process.start()
    events = _events(process)
    process.join(30)
    process.close()
    assert len(events) == 1 and isinstance(events[0], NotStarted)
    assert "missing" in events[0].message


def test_a_child_refuses_an_output_with_fewer_classes_than_its_data(tmp_path):
    spec = _spec(tmp_path)
    logits = next(n for n in spec.project["networks"]["main"]["nodes"] if n["name"] == "logits")
    logits["params"]["classes"] = 5  # a file source is not read in the window, so the child checks its count
    process = TrainingProcess(spec)
    process.start()
    events = _events(process)
    process.join(30)
    process.close()
    assert len(events) == 1 and isinstance(events[0], NotStarted)
    assert events[0].message.startswith("the digits data has 10 classes, but Output 'logits' is set to 5")


def test_a_killed_child_ends_the_run_with_a_message(tmp_path):
    process = TrainingProcess(_spec(tmp_path, epochs=500))
    process.start()
    _events(process, until=lambda e: isinstance(e, BatchEnded))
    process.kill()
    _events(process)  # returns once the pipe closes
    code = process.join(30)
    process.close()
    assert code == -signal.SIGKILL
    failed = crashed(code, tmp_path / "run")
    assert isinstance(failed, RunFailed) and "killed by signal 9" in failed.message
    assert str(tmp_path / "run") in failed.message


@pytest.mark.parametrize("code, words", [(1, "exited with code 1"), (-11, "killed by signal 11")])
def test_crash_messages_say_how_the_child_ended(code, words):
    assert words in crashed(code, "runs/3").message


def test_get_ready_makes_the_next_runs_child_ahead_and_a_run_takes_it(tmp_path):
    launcher = Launcher()
    launcher.get_ready()
    deadline = time.monotonic() + 60
    while not (ready := {c.pid for c in mp.active_children() if c.name == "studio-training"}):
        assert time.monotonic() < deadline, "no child was made ahead"
        time.sleep(0.05)
    process = TrainingProcess(_spec(tmp_path), launcher)
    assert process.pid in ready, "the run did not take the child made ahead"
    process.pause()  # before the spec reaches it: sent after the spec
    process.start()
    assert isinstance(_events(process, until=lambda e: isinstance(e, RunStarted))[-1], RunStarted)
    process.resume()
    assert isinstance(_events(process)[-1], RunFinished)
    assert process.join(30) == 0
    process.close()


def test_a_child_trains_on_while_nobody_reads_its_events(tmp_path):
    # Each epoch's event (its sample images) is larger than a pipe holds: written by the
    # training thread itself, the run would wait at its first epoch until the parent read it.
    process = TrainingProcess(_spec(tmp_path, epochs=3))
    process.start()
    final = tmp_path / "run" / "final.pt"
    deadline = time.monotonic() + 60
    while not final.exists():
        assert time.monotonic() < deadline, "the run waited for its events to be read"
        time.sleep(0.05)
    events = _events(process)
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    assert [e.epoch for e in events if isinstance(e, EpochEnded)] == [1, 2, 3]
    process.close_when_ended()


def test_a_child_made_ahead_takes_its_spec_at_once_and_is_closed_after_its_last_event(tmp_path):
    launcher = Launcher()
    launcher.get_ready().join(60)
    process = TrainingProcess(_spec(tmp_path), launcher)
    assert process.start_now()
    process.start()  # already started: sends nothing more
    assert isinstance(_events(process)[-1], RunFinished)
    process.close_when_ended()
    deadline = time.monotonic() + 30
    while True:  # closed once the child has exited: its handle no longer answers
        try:
            assert process.pid is not None
        except ValueError:
            break
        assert time.monotonic() < deadline, "the ended child was never closed"
        time.sleep(0.05)


def test_start_now_leaves_a_child_not_made_ahead_to_start(tmp_path):
    Launcher().get_ready().join(60)  # another launcher's child is not this run's
    process = TrainingProcess(_spec(tmp_path), Launcher())
    assert process.pid is None and not process.start_now()
    process.start()
    assert isinstance(_events(process)[-1], RunFinished)
    assert process.join(30) == 0
    process.close()


def test_a_spec_larger_than_a_pipe_holds_is_left_to_start(tmp_path):
    launcher = Launcher()
    launcher.get_ready().join(60)
    spec = _spec(tmp_path)
    big = dataclasses.replace(spec, project={**spec.project, "name": "x" * PIPE_ROOM})
    process = TrainingProcess(big, launcher)
    assert not process.start_now()  # could wait for a child still warming up: not in the GUI thread
    process.start()
    assert isinstance(_events(process)[-1], RunFinished)
    assert process.join(30) == 0
    process.close()


def test_a_child_made_ahead_runs_the_warm_up_its_launcher_was_given(tmp_path):
    marker = tmp_path / "warmed"
    launcher = Launcher(WarmUp(in_child=functools.partial(Path.touch, marker)))
    launcher.get_ready().join(60)
    assert launcher.ready
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert time.monotonic() < deadline, "the child made ahead did not run its warm-up"
        time.sleep(0.05)
    process = TrainingProcess(_spec(tmp_path), launcher)
    assert process.start_now() and not launcher.ready  # taken: the next run needs another
    assert isinstance(_events(process)[-1], RunFinished)
    assert process.join(30) == 0
    process.close()


def test_a_cold_launchers_child_trains_too(tmp_path):
    process = TrainingProcess(_spec(tmp_path), Launcher(COLD))
    process.start()
    assert isinstance(_events(process)[-1], RunFinished)
    assert process.join(30) == 0
    process.close()
