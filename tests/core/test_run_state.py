"""`RunState`: a run's phase and progress line, from the training events alone (no Qt)."""

from studio.train.events import BatchEnded, RunFailed, RunFinished, RunStarted
from studio.train.run_state import RunState, duration


def _started(start_epoch=1):
    return RunStarted(config={}, device="cpu", total_epochs=4, batches_per_epoch=10, start_epoch=start_epoch)


def _batch(epoch, batch):
    return BatchEnded(epoch=epoch, batch=batch, batches=10, loss=0.5, samples_per_s=1234.4, lr=0.1, eta_s=75)


def test_a_run_goes_from_starting_to_running_paused_and_finished():
    state = RunState(phase="starting")
    assert state.active and state.progress_text() == "Preparing the data and the model…"
    state.apply(_started())
    assert state.phase == "running" and state.total_batches == 40 and state.progress_text() == "Epoch 1/4"
    state.apply(_batch(2, 5))
    assert state.done_batches == 15
    assert state.progress_text() == "Epoch 2/4 · batch 5/10 · 1,234 samples/s · 1:15 left"
    state.set_paused(True)
    assert state.phase == "paused" and state.progress_text().endswith("left (paused)")
    state.set_paused(False)
    assert state.phase == "running" and not state.progress_text().endswith("(paused)")
    state.apply(RunFinished(reason="completed", epochs_run=4))
    assert state.phase == "finished" and not state.active
    assert state.done_batches == state.total_batches and state.progress_text() == "Finished · epoch 4"


def test_a_resumed_run_counts_from_its_first_epoch():
    state = RunState(phase="starting")
    state.apply(_started(start_epoch=3))
    state.apply(_batch(3, 4))
    assert state.total_batches == 20 and state.done_batches == 4


def test_stopping_failing_and_not_starting():
    state = RunState(phase="starting")
    state.apply(_started())
    state.stopping()
    assert state.progress_text() == "Stopping after this batch…" and state.active
    state.set_paused(True)  # too late to pause
    assert state.phase == "stopping"
    state.apply(RunFinished(reason="early_stopped", epochs_run=2))
    assert state.phase == "stopped" and state.progress_text() == "Stopped early · epoch 2"
    failed = RunState(phase="running")
    failed.apply(RunFailed(message="loss is NaN", epoch=2, batch=7))
    assert failed.phase == "failed" and failed.progress_text() == "Failed at epoch 2, batch 7"
    never = RunState(phase="starting")
    never.not_started()
    assert not never.active and never.progress_text() == "Not started"


def test_durations_read_well():
    assert [duration(s) for s in (4.4, 75, 3723, float("nan"), -1)] == ["4 s", "1:15", "1:02:03", "?", "?"]


def test_the_summary_lines_say_where_how_and_how_well():
    from studio.train.run_state import finished_line, started_line

    assert started_line(_started(), "Run 2", "/tmp/runs/mine-2") == (
        "Run 2: training on cpu, 4 epochs of 10 batches; writing to /tmp/runs/mine-2")
    state = RunState(phase="starting")
    state.apply(_started())
    ended = RunFinished(reason="early_stopped", epochs_run=3, best_epoch=2, best={"val_accuracy": 0.9},
                        test={"test_accuracy": 0.875})
    state.apply(ended)
    assert finished_line(state.ended_as, ended) == (
        "Training stopped early after 3 epoch(s); best epoch 2: val accuracy 90.0%; test: accuracy 87.5%")
