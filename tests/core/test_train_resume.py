"""Stopping and resuming from a checkpoint gives exactly the uninterrupted run."""

import json

import pytest
import torch

from studio.errors import TrainingError
from studio.train import EpochEnded, RunFinished, Trainer, resume
from tests.core.test_train_support import (  # one_thread: an autouse fixture
    one_thread,  # noqa: F401
    Recorder, assert_same_params, classification_splits, mlp, params_of,
)

# Each setting exercises a different optimizer state and schedule state.
SETTINGS = [
    {"optimizer": "sgd", "momentum": 0.9, "nesterov": True, "schedule": "cosine",
     "warmup_epochs": 1, "weight_decay": 1e-3, "l1": 1e-4, "grad_clip": 1.0},
    {"optimizer": "adam", "schedule": "onecycle", "lr": 0.01},
    {"optimizer": "rmsprop", "schedule": "plateau", "plateau_patience": 0, "lr": 0.01,
     "momentum": 0.5},
    {"optimizer": "adamw", "schedule": "step", "step_size": 1, "gamma": 0.5, "lr": 0.01,
     "weight_decay": 0.01},
]


def config(**extra):
    return {"epochs": 4, "batch_size": 16, "lr": 0.05, "device": "cpu", "seed": 3, **extra}


@pytest.mark.parametrize("setting", SETTINGS, ids=[s["optimizer"] for s in SETTINGS])
def test_stop_then_resume_equals_uninterrupted_training(tmp_path, setting):
    data = classification_splits()
    # Dropout makes the RNG part of the state that must come back.
    whole = mlp(dropout=0.3)
    full = Recorder()
    Trainer({"model": whole}, data, config(**setting), callback=full,
            out_dir=tmp_path / "whole").run()

    first = mlp(dropout=0.3)
    trainer = None

    def stop_after_two(event):
        if isinstance(event, EpochEnded) and event.epoch == 2:
            trainer.stop()

    trainer = Trainer({"model": first}, data, config(**setting), callback=stop_after_two,
                      out_dir=tmp_path / "parts")
    stopped = trainer.run()
    assert stopped.reason == "stopped" and stopped.epochs_run == 2

    # A fresh model with other weights: everything must come from the checkpoint.
    second = mlp(seed=99, dropout=0.3)
    rest = Recorder()
    result = Trainer({"model": second}, data, config(**setting), callback=rest,
                     out_dir=tmp_path / "parts",
                     resume_from=tmp_path / "parts" / "last.pt").run()
    assert isinstance(result, RunFinished) and result.reason == "completed"
    assert [e.epoch for e in rest.of(EpochEnded)] == [3, 4]
    assert_same_params(params_of(second), params_of(whole))
    whole_loss = [e.metrics["train_loss"] for e in full.of(EpochEnded)]
    rest_loss = [e.metrics["train_loss"] for e in rest.of(EpochEnded)]
    assert rest_loss == whole_loss[2:]
    lines = (tmp_path / "parts" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4]
    whole_end = full.of(RunFinished)[0]
    assert result.best_epoch == whole_end.best_epoch
    assert result.best["val_loss"] == whole_end.best["val_loss"]


def test_resume_from_an_earlier_epoch_rewrites_the_metrics_file(tmp_path):
    data = classification_splits()
    Trainer({"model": mlp()}, data, config(keep_checkpoints=0), out_dir=tmp_path).run()
    again = mlp(seed=7)
    trainer = resume(tmp_path / "checkpoint_epoch1.pt", {"model": again}, data,
                     out_dir=tmp_path)
    assert trainer.config.epochs == 4 and trainer.config.seed == 3  # the checkpoint's config
    trainer.run()
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4]
    final = torch.load(tmp_path / "final.pt", weights_only=True)
    assert torch.equal(final["0.weight"], again.state_dict()["0.weight"])


def test_resume_refuses_what_is_not_a_checkpoint(tmp_path):
    data = classification_splits()
    with pytest.raises(TrainingError, match="no such checkpoint"):
        Trainer({"model": mlp()}, data, config(), resume_from=tmp_path / "missing.pt")
    torch.save(mlp().state_dict(), tmp_path / "weights.pt")
    with pytest.raises(TrainingError, match="not a training checkpoint"):
        Trainer({"model": mlp()}, data, config(), resume_from=tmp_path / "weights.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a zip file")
    with pytest.raises(TrainingError, match="junk.pt"):
        Trainer({"model": mlp()}, data, config(), resume_from=tmp_path / "junk.pt")
    Trainer({"model": mlp()}, data, config(epochs=1), out_dir=tmp_path / "run").run()
    with pytest.raises(TrainingError, match="networks"):
        Trainer({"model": mlp(), "critic": mlp()}, data, config(),
                resume_from=tmp_path / "run" / "last.pt")
