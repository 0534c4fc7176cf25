"""What a run leaves behind: the same run again from the same seed, its test figures, the
checkpoints it keeps, the folders it is found in; and presets found past same-named folders."""

import json
import os
import subprocess
import sys

import pytest
import torch

from studio.presets import presets_dir, resolve
from studio.train import RunFailed, RunFinished, Trainer
from studio.train.tensorboard import available as tensorboard_available
from tests.core.test_train_support import classification_splits, mlp, one_thread  # noqa: F401

# Timing figures differ between any two runs; every other figure must not.
TIMING = ("time_s", "samples_per_s")


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """`studio train mlp_xor` twice with the same seed and a test split: the folders and what each printed."""
    root = tmp_path_factory.mktemp("cli")
    (root / "mlp_xor").mkdir()  # a folder named like the preset must not hide it
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONPATH": os.pathsep.join(sys.path)}
    started = {}
    for name in ("a", "b"):  # side by side: each pays for its own start-up
        with open(root / f"{name}.err", "w") as err:
            started[name] = subprocess.Popen(
                [sys.executable, "-m", "studio.cli", "train", "mlp_xor", "--epochs", "3", "--seed", "5",
                 "--set", "data.test_split=0.2", "--out", name],
                stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=root)
    runs = []
    for name, process in started.items():
        process.wait(timeout=300)
        printed = (root / f"{name}.err").read_text()
        assert process.returncode == 0, printed
        runs.append((root / name, printed))
    return runs


def metrics(folder):
    lines = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in line.items() if k not in TIMING} for line in lines]


def test_two_runs_with_the_same_seed_write_the_same_metrics(two_runs):
    (a, _), (b, _) = two_runs
    assert [line["epoch"] for line in metrics(a)] == [1, 2, 3]
    assert metrics(a) == metrics(b)
    assert torch.load(a / "last.pt", weights_only=True)["config"]["seed"] == 5


def test_the_test_figures_are_printed_and_written(two_runs):
    folder, printed = two_runs[0]
    test = json.loads((folder / "test.json").read_text())
    assert set(test) >= {"test_loss", "test_accuracy"}
    assert f"test: loss {test['test_loss']:.4f}, accuracy {test['test_accuracy']:.1%}" in printed
    result = json.loads((folder / "result.json").read_text())
    assert result["event"] == "RunFinished" and result["reason"] == "completed" and result["test"] == test


def test_only_the_newest_checkpoints_and_the_best_weights_are_kept_and_named(two_runs):
    folder, printed = two_runs[0]
    names = sorted(p.name for p in folder.iterdir())
    events = [n for n in names if n.startswith("events.out.tfevents.")]  # TensorBoard's, when it is installed
    assert [n for n in names if n not in events] == [
        "best.pt", "checkpoint_epoch2.pt", "checkpoint_epoch3.pt", "final.pt", "last.pt", "metrics.jsonl",
        "project.json", "result.json", "test.json"]  # project.json: the project as the run started
    assert len(events) == (1 if tensorboard_available() else 0)
    assert torch.load(folder / "last.pt", weights_only=True)["epoch"] == 3
    assert (f"results in {folder.name}{os.sep}: final.pt, best.pt, checkpoints of epochs 2, 3 (resume from last.pt), "
            "metrics.jsonl, test.json") in printed


def test_the_best_epochs_checkpoint_is_kept_beside_the_newest(tmp_path):
    # val_loss falls every epoch, so watched with mode "max" the first epoch stays the best.
    result = Trainer({"model": mlp()}, classification_splits(), {"epochs": 5, "batch_size": 32, "device": "cpu",
                     "early_stop_mode": "max"}, out_dir=tmp_path).run()
    assert result.best_epoch == 1
    names = sorted(p.name for p in tmp_path.glob("checkpoint_epoch*.pt"))
    assert names == ["checkpoint_epoch1.pt", "checkpoint_epoch4.pt", "checkpoint_epoch5.pt"]


def test_an_earlier_longer_run_in_the_folder_does_not_push_out_this_runs_checkpoints(tmp_path):
    data = classification_splits()
    config = {"epochs": 3, "batch_size": 32, "device": "cpu", "keep_checkpoints": 0}
    Trainer({"model": mlp()}, data, config, out_dir=tmp_path).run()
    Trainer({"model": mlp()}, data, {**config, "epochs": 1, "keep_checkpoints": 1}, out_dir=tmp_path).run()
    names = sorted(p.name for p in tmp_path.glob("checkpoint_epoch*.pt"))
    assert names == ["checkpoint_epoch1.pt", "checkpoint_epoch2.pt", "checkpoint_epoch3.pt"]
    assert torch.load(tmp_path / "last.pt", weights_only=True)["epoch"] == 1


def test_runs_are_found_again_newest_last_with_how_they_ended(tmp_path):
    from studio.train.run_folders import find_runs, next_run_dir

    data = classification_splits()
    config = {"epochs": 1, "batch_size": 16, "device": "cpu"}
    for _ in range(2):
        Trainer({"model": mlp()}, data, config, out_dir=next_run_dir(tmp_path, "my net")).run()
    failing = next_run_dir(tmp_path, "my net")
    Trainer({"model": mlp()}, data, {**config, "lr": 1e30}, out_dir=failing).run()  # the loss overflows
    (tmp_path / "other-1").mkdir()  # another project's
    runs = find_runs(tmp_path, "my net")
    assert [(r.number, r.out_dir.name) for r in runs] == [(1, "my-net-1"), (2, "my-net-2"), (3, "my-net-3")]
    assert [type(r.result) for r in runs] == [RunFinished, RunFinished, RunFailed]
    assert runs[1].final_weights == tmp_path / "my-net-2" / "final.pt" and runs[2].final_weights is None
    assert len(runs[0].epochs) == 1 and runs[0].epochs[0]["epoch"] == 1
    assert next_run_dir(tmp_path, "my net") == tmp_path / "my-net-4"


def test_a_folder_named_like_a_preset_does_not_hide_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lenet5").mkdir()
    assert resolve("lenet5") == presets_dir() / "lenet5.json"
    (tmp_path / "mlp_xor").write_text("{}")  # a file does shadow the preset
    assert resolve("mlp_xor").resolve() == (tmp_path / "mlp_xor").resolve()
