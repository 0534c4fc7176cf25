"""The training loop: learning, metrics, events, files, failures and control."""

import json
import math
import os
import re
import signal
import sys
import threading
import time

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from studio.data import DataSplits

from studio.errors import TrainingError
from studio.train import checkpoint as ckpt
from studio.train import (
    BatchEnded, CheckpointSaved, EpochEnded, RunFailed, RunFinished, RunStarted, Trainer,
    load_weights,
)
from tests.core.test_train_support import (  # one_thread: an autouse fixture
    one_thread,  # noqa: F401
    Recorder, classification_splits, image_splits, mlp, regression_splits, small_cnn,
)

FAST = {"epochs": 3, "batch_size": 16, "lr": 0.05, "device": "cpu"}


def train(models, data, out_dir=None, **config):
    rec = Recorder()
    result = Trainer(models, data, {**FAST, **config}, callback=rec, out_dir=out_dir).run()
    return result, rec


def test_loss_goes_down_on_a_separable_problem():
    result, rec = train({"model": mlp()}, classification_splits(), epochs=5)
    assert isinstance(result, RunFinished) and result.reason == "completed"
    losses = [e.metrics["train_loss"] for e in rec.of(EpochEnded)]
    assert losses[-1] < 0.5 * losses[0]
    assert rec.of(EpochEnded)[-1].metrics["val_accuracy"] > 0.95


def test_epoch_events_carry_classification_metrics():
    data = classification_splits()
    result, rec = train({"model": mlp()}, data, epochs=2)
    m = rec.of(EpochEnded)[-1].metrics
    for key in ("epoch", "train_loss", "val_loss", "val_accuracy", "val_macro_f1", "lr",
                "samples_per_s"):
        assert isinstance(m[key], (int, float)) and math.isfinite(m[key]), key
    confusion = m["val_confusion"]
    assert len(confusion) == 3 and all(len(row) == 3 for row in confusion)
    assert sum(map(sum, confusion)) == len(data.val)
    correct = sum(confusion[i][i] for i in range(3))
    assert correct / len(data.val) == pytest.approx(m["val_accuracy"])
    # Per-class recall is the diagonal over each true class's row.
    for i, row in enumerate(confusion):
        assert m["val_recall"][i] == pytest.approx(row[i] / sum(row), abs=1e-6)
    assert len(m["val_precision"]) == len(m["val_f1"]) == 3
    assert "samples" not in m  # vector inputs: no thumbnails
    assert result.best_epoch in (1, 2) and "val_accuracy" in result.best


def test_image_inputs_come_with_sample_predictions():
    data = image_splits()
    _, rec = train({"model": small_cnn()}, data, epochs=1, sample_predictions=4)
    samples = rec.of(EpochEnded)[-1].metrics["samples"]
    assert len(samples) == 4
    first = samples[0]
    assert torch.tensor(first["image"]).shape == (1, 6, 6)
    assert first["true"] == int(data.val[0][1]) and first["pred"] in (0, 1)
    assert first["true_name"] == ["top", "bottom"][first["true"]]
    # Thumbnails undo the normalisation (mean 0.5, std 0.25).
    expected = data.val[0][0] * 0.25 + 0.5
    assert torch.allclose(torch.tensor(first["image"]), expected, atol=1e-3)


def test_regression_reports_errors_and_r2():
    model = nn.Linear(3, 1)
    result, rec = train({"model": model}, regression_splits(), epochs=8, lr=0.1)
    m = rec.of(EpochEnded)[-1].metrics
    assert "val_accuracy" not in m
    assert m["val_r2"] > 0.95 and m["val_rmse"] < 0.5 and m["val_mae"] <= m["val_rmse"] + 1e-9
    assert m["val_loss"] == pytest.approx(m["val_rmse"] ** 2, rel=1e-4)  # mse loss


def test_events_come_in_order_and_files_are_written(tmp_path):
    result, rec = train({"model": mlp()}, classification_splits(), out_dir=tmp_path, epochs=2)
    names = rec.names()
    assert names[0] == "RunStarted" and names[-1] == "RunFinished"
    body = [n for n in names[1:-1] if n not in ("BatchEnded", "LayersMeasured")]
    assert body == ["EpochEnded", "CheckpointSaved"] * 2
    started = rec.of(RunStarted)[0]
    assert (started.device, started.total_epochs, started.batches_per_epoch) == ("cpu", 2, 6)
    saved = rec.of(CheckpointSaved)
    assert [s.epoch for s in saved] == [1, 2]
    assert saved[-1].path == str(tmp_path / "checkpoint_epoch2.pt")
    for name in ("checkpoint_epoch1.pt", "checkpoint_epoch2.pt", "last.pt", "best.pt",
                 "final.pt", "metrics.jsonl"):
        assert (tmp_path / name).exists(), name
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2]
    for r in lines:
        assert {"epoch", "train_loss", "val_loss", "val_accuracy"} <= set(r)
    assert lines[1]["val_loss"] == pytest.approx(rec.of(EpochEnded)[1].metrics["val_loss"])
    # Everything loads weights-only; final.pt is a plain state_dict.
    last = torch.load(tmp_path / "last.pt", weights_only=True)
    assert last["epoch"] == 2 and last["config"]["epochs"] == 2 and len(last["history"]) == 2
    final = torch.load(tmp_path / "final.pt", weights_only=True)
    fresh = mlp(seed=5)
    fresh.load_state_dict(final)
    assert result.final_weights == str(tmp_path / "final.pt")
    assert torch.equal(load_weights(tmp_path / "last.pt")["0.weight"], final["0.weight"])


def test_keep_checkpoints_prunes_old_epochs(tmp_path):
    train({"model": mlp()}, classification_splits(), out_dir=tmp_path, epochs=3,
          keep_checkpoints=1)
    assert sorted(p.name for p in tmp_path.glob("checkpoint_epoch*.pt")) == ["checkpoint_epoch3.pt"]
    assert torch.load(tmp_path / "last.pt", weights_only=True)["epoch"] == 3


def test_batch_events_are_throttled_and_each_epoch_ends_with_one():
    data = classification_splits(n=600)
    rec = Recorder()
    trainer = Trainer({"model": mlp()}, data, {**FAST, "epochs": 2, "batch_size": 1},
                      callback=rec, event_interval=0.02)
    start = time.perf_counter()
    trainer.run()
    elapsed = time.perf_counter() - start
    batches = rec.of(BatchEnded)
    assert len(batches) <= elapsed / 0.02 + 2 + 2
    assert len(batches) < 1200 / 4  # far fewer events than batches
    assert [(b.epoch, b.batch) for b in batches if b.batch == b.batches] == [(1, 600), (2, 600)]
    for b in batches:
        assert math.isfinite(b.loss) and b.samples_per_s > 0 and b.lr == pytest.approx(0.05)
        assert b.eta_s >= 0
    assert batches[-1].eta_s == 0


def test_unthrottled_events_report_every_batch():
    rec = Recorder()
    Trainer({"model": mlp()}, classification_splits(), {**FAST, "epochs": 1}, callback=rec,
            event_interval=0.0).run()
    assert [b.batch for b in rec.of(BatchEnded)] == [1, 2, 3, 4, 5, 6]


class NaNAt(nn.Module):
    """An MLP whose output turns NaN at one training forward call (1-based)."""

    def __init__(self, at: int):
        super().__init__()
        self.net, self.at, self.calls = mlp(), at, 0

    def forward(self, x):
        out = self.net(x)
        if self.training:
            self.calls += 1
            if self.calls == self.at:
                return out * float("nan")
        return out


def test_nan_loss_fails_the_run_naming_epoch_batch_and_checkpoint(tmp_path):
    # 6 batches an epoch: training call 9 is epoch 2, batch 3.
    result, rec = train({"model": NaNAt(9)}, classification_splits(), out_dir=tmp_path)
    assert isinstance(result, RunFailed)
    assert (result.epoch, result.batch, result.kind) == (2, 3, "non_finite")
    assert "epoch 2, batch 3" in result.message
    assert result.last_checkpoint == str(tmp_path / "checkpoint_epoch1.pt")
    assert str(tmp_path / "checkpoint_epoch1.pt") in result.message
    assert rec.events[-1] is result and not rec.of(RunFinished)
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 1
    assert len(rec.of(EpochEnded)) == 1


def test_a_huge_learning_rate_is_caught_as_non_finite():
    result, _ = train({"model": mlp()}, classification_splits(), optimizer="sgd", lr=1e30,
                      momentum=0.0, epochs=3)
    assert isinstance(result, RunFailed)
    assert "non-finite" in result.message
    assert f"epoch {result.epoch}, batch {result.batch}" in result.message
    assert result.last_checkpoint is None and "No checkpoint" in result.message


class Raises(nn.Module):
    def __init__(self, exc):
        super().__init__()
        self.lin, self.exc = nn.Linear(4, 3), exc

    def forward(self, x):
        raise self.exc


def test_out_of_memory_is_explained_with_a_smaller_batch():
    oom = torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    result, rec = train({"model": Raises(oom)}, classification_splits(), batch_size=64)
    assert isinstance(result, RunFailed) and rec.events[-1] is result
    assert "Out of memory" in result.message and "batch_size=32" in result.message
    assert result.kind == "out_of_memory"
    assert (result.epoch, result.batch) == (1, 1)


def test_a_model_that_does_not_fit_fails_the_run_without_raising():
    result, _ = train({"model": nn.Linear(5, 3)}, classification_splits())
    assert isinstance(result, RunFailed)
    assert "RuntimeError" in result.message and "epoch 1, batch 1" in result.message
    assert "Traceback" in result.detail


def test_constructor_refuses_what_cannot_work():
    data = classification_splits()
    with pytest.raises(TrainingError, match="role 'model'"):
        Trainer({"generator": mlp()}, data, FAST)
    with pytest.raises(TrainingError, match="val_r2"):
        Trainer({"model": mlp()}, data, {**FAST, "early_stop_metric": "val_r2",
                                         "early_stop_patience": 2})
    with pytest.raises(TrainingError, match="training.device"):
        Trainer({"model": mlp()}, data, {**FAST, "device": "cuda:7"})
    stream = DataSplits(data.train, data.val, None, (4,), "language_model", 3, None, None, None)
    with pytest.raises(TrainingError, match="'language_model'"):
        Trainer({"model": mlp()}, stream, FAST)
    no_val = DataSplits(data.train, TensorDataset(torch.zeros(0, 4), torch.zeros(0).long()), None,
                        (4,), "classification", 3, None, None, None)
    with pytest.raises(TrainingError, match="val_split"):
        Trainer({"model": mlp()}, no_val, {**FAST, "early_stop_patience": 2})
    result = Trainer({"model": mlp()}, no_val, FAST).run()  # no early stopping: fine
    assert isinstance(result, RunFinished) and "val_loss" not in result.best


def test_early_stopping_ends_the_run_and_keeps_the_best_epoch(tmp_path):
    # val_loss falls every epoch, so watching it with mode "max" never improves.
    result, rec = train({"model": mlp()}, classification_splits(), out_dir=tmp_path, epochs=10,
                        early_stop_patience=2, early_stop_mode="max")
    assert result.reason == "early_stopped"
    assert (result.epochs_run, result.best_epoch) == (3, 1)
    assert result.best["val_loss"] == rec.of(EpochEnded)[0].metrics["val_loss"]
    best = torch.load(tmp_path / "best.pt", weights_only=True)
    first = torch.load(tmp_path / "checkpoint_epoch1.pt", weights_only=True)["models"]["model"]
    assert torch.equal(best["0.weight"], first["0.weight"])


def test_test_split_is_evaluated_at_the_end():
    result, _ = train({"model": mlp()}, classification_splits(test=True))
    assert set(result.test) >= {"test_loss", "test_accuracy"}
    assert result.test["test_accuracy"] > 0.9


class Counting(nn.Module):
    def __init__(self):
        super().__init__()
        self.net, self.calls = mlp(), 0

    def forward(self, x):
        self.calls += 1
        return self.net(x)


def _wait_for(condition, timeout=20.0):
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


def test_pause_resume_and_stop_from_another_thread(tmp_path):
    model, rec = Counting(), Recorder()
    trainer = Trainer({"model": model}, classification_splits(),
                      {**FAST, "epochs": 100000, "batch_size": 4}, callback=rec, out_dir=tmp_path)
    results = []
    thread = threading.Thread(target=lambda: results.append(trainer.run()))
    thread.start()
    try:
        _wait_for(lambda: rec.of(CheckpointSaved))
        trainer.pause()
        time.sleep(0.05)  # the batch under way finishes
        held = model.calls
        time.sleep(0.3)
        assert model.calls == held and trainer.paused
        trainer.resume()
        _wait_for(lambda: model.calls > held + 5)
    finally:
        trainer.stop()
        thread.join(timeout=20)
    assert not thread.is_alive()
    result = results[0]
    assert isinstance(result, RunFinished) and result.reason == "stopped"
    last = torch.load(tmp_path / "last.pt", weights_only=True)
    assert last["epoch"] == rec.of(CheckpointSaved)[-1].epoch == result.epochs_run
    assert (tmp_path / "final.pt").exists()


def test_ctrl_c_in_run_training_stops_after_the_batch(tmp_path):
    from studio.train import run_training

    before = signal.getsignal(signal.SIGINT)

    def interrupt(event):
        if isinstance(event, EpochEnded) and event.epoch == 1:
            os.kill(os.getpid(), signal.SIGINT)

    result = run_training({"model": mlp()}, classification_splits(), FAST, tmp_path,
                          progress=False, callback=interrupt)
    assert isinstance(result, RunFinished) and result.reason == "stopped"
    assert result.epochs_run == 1
    assert signal.getsignal(signal.SIGINT) is before


def test_checkpoints_reach_the_disk_every_so_often_and_when_the_run_ends(tmp_path, monkeypatch):
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.path.basename(os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    result, rec = train({"model": mlp()}, classification_splits(), out_dir=tmp_path, epochs=4,
                        keep_checkpoints=0)
    assert result.reason == "completed"
    names = [re.sub(r"^\.(.+)\.\d+\.[0-9a-f]+\.tmp$", r"\1", name) for name in synced]  # .NAME.PID.RANDOM.tmp
    # The first epoch's files synced when written; epochs 2 and 3 left in the OS's cache (the next
    # sync is due 30 s later); at the end the newest checkpoint and best.pt, then final.pt and result.json.
    assert names == ["best.pt", "checkpoint_epoch1.pt", "checkpoint_epoch4.pt", "best.pt", "final.pt",
                     "result.json"]
    assert [e.epoch for e in rec.of(CheckpointSaved)] == [1, 2, 3, 4]


def test_the_sync_clock_is_due_first_then_once_per_interval():
    from studio.train.checkpoint import SyncClock

    clock = SyncClock(every_s=0.2)
    assert clock.due() and not clock.due()
    time.sleep(0.25)
    assert clock.due() and not clock.due()


def test_the_checkpoint_writer_hands_the_gil_back_quickly_only_while_it_writes():
    before = sys.getswitchinterval()
    writer = ckpt.BackgroundWriter()
    try:
        writer.submit(sys.getswitchinterval)
        assert writer.wait() == min(before, ckpt.WRITE_SWITCH_S)
    finally:
        writer.close()
    assert sys.getswitchinterval() == before
