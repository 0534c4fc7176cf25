"""Data-parallel training: two CPU processes under torchrun match one process."""

import json
import sys

import pytest
import torch
import torch.distributed as dist

from studio.errors import TrainingError
from studio.train import RunFailed, RunFinished, Trainer, launch_spec
from studio.train.distributed import launch_command
from studio.train.worker import resolve_builder
from tests.core.test_train_support import (  # one_thread: an autouse fixture
    one_thread,  # noqa: F401
    assert_same_params, classification_splits, mlp_models, params_of,
)

TRAINING = {"epochs": 2, "batch_size": 16, "lr": 0.05, "optimizer": "sgd", "momentum": 0.9,
            "device": "cpu", "seed": 5}


@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                    reason="needs torch.distributed with gloo")
def test_two_processes_match_one_process(tmp_path):
    spec = {
        "models": {"builder": "tests.core.test_train_support:mlp_models",
                   "kwargs": {"save_dir": str(tmp_path)}},
        "data": {"builder": "tests.core.test_train_support:blob_data", "kwargs": {"n": 96}},
        "training": TRAINING,
        "out_dir": str(tmp_path / "run"),
        "progress": False,
    }
    result = launch_spec(spec, 2, tmp_path / "spec.json", timeout=120)
    assert isinstance(result, RunFinished) and result.reason == "completed"
    assert result.final_weights == str(tmp_path / "run" / "final.pt")
    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert_same_params(rank0, rank1)  # DDP keeps the replicas identical

    # One process, same global batch, same seed, same data: the same result.
    single = mlp_models()["model"]
    result = Trainer({"model": single}, classification_splits(96), TRAINING).run()
    assert isinstance(result, RunFinished)
    assert_same_params(rank0, params_of(single), atol=1e-5)
    # ...and training did move the weights.
    untrained = mlp_models()["model"].state_dict()
    assert not torch.allclose(rank0["0.weight"], untrained["0.weight"], atol=1e-3)

    # Rank 0 alone wrote the run's files.
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2]
    final = torch.load(tmp_path / "run" / "final.pt", weights_only=True)
    assert_same_params(final, rank0)
    # Each process read half of every global batch.
    last = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    assert last["world_size"] == 2


@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                    reason="needs torch.distributed with gloo")
def test_a_nan_in_one_process_stops_every_process(tmp_path):
    spec = {
        "models": {"builder": "tests.core.test_train_support:nan_on_rank1_models",
                   "kwargs": {"at": 3}},
        "data": {"builder": "tests.core.test_train_support:blob_data", "kwargs": {"n": 96}},
        "training": TRAINING,
        "out_dir": str(tmp_path / "run"),
        "progress": False,
    }
    result = launch_spec(spec, 2, tmp_path / "spec.json", timeout=120)
    assert isinstance(result, RunFailed) and result.kind == "non_finite"
    assert result.epoch == 1 and result.batch in (3, 4)  # rank 0 sees it one step later
    assert f"epoch 1, batch {result.batch}" in result.message
    assert not (tmp_path / "run" / "final.pt").exists()


def test_launch_command_uses_torchrun_and_the_worker_module():
    cmd = launch_command(["--spec", "s.json"], 4)
    assert cmd[:3] == [sys.executable, "-m", "torch.distributed.run"]
    assert cmd[3:] == ["--nproc_per_node", "4", "--standalone", "-m", "studio.train.worker",
                       "--spec", "s.json"]
    multi = launch_command(["--spec", "s.json"], 8, ["--nnodes", "2"])
    assert "--standalone" not in multi and "--nnodes" in multi


@pytest.mark.parametrize("name", [
    "os:system", "subprocess:run", "studio", "studio.train.trainer", "builtins:eval",
    "studio.train.trainer:Trainer.run", "../studio:x", "studio.train.trainer:no_such_function",
])
def test_spec_builders_are_limited_to_studio_and_tests(name):
    with pytest.raises(TrainingError, match="builder"):
        resolve_builder(name)


def test_spec_builders_resolve_inside_the_project():
    assert resolve_builder("tests.core.test_train_support:mlp_models") is not None
    assert resolve_builder("studio.train.config:field_names")() [0] == "recipe"
