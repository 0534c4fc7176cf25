"""Several machines: two "nodes" of one process each on the loopback address, through torchrun's c10d rendezvous."""

import argparse
import os
import socket
import subprocess
import sys
import threading

import pytest
import torch
import torch.distributed as dist

from studio.errors import TrainingError
from studio.graph import Project, io
from studio.train import RunFinished, Trainer, launch_spec
from studio.train.multinode import spec_name, torchrun_args
from tests.core.helpers import chain
from tests.core.test_train_support import (  # one_thread: an autouse fixture
    one_thread,  # noqa: F401
    assert_same_params, classification_splits, mlp_models, params_of,
)

TRAINING = {"epochs": 2, "batch_size": 16, "lr": 0.05, "optimizer": "sgd", "momentum": 0.9,
            "device": "cpu", "seed": 5}
needs_gloo = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                                reason="needs torch.distributed with gloo")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node_args(rank: int, port: int, nnodes: int = 2) -> argparse.Namespace:
    return argparse.Namespace(nproc=1, nnodes=nnodes, node_rank=rank, master_addr="127.0.0.1", master_port=port)


@needs_gloo
def test_two_nodes_stay_in_sync_and_match_one_process(tmp_path):
    port = free_port()
    results = {}

    def node(rank: int) -> None:
        spec = {"models": {"builder": "tests.core.test_train_support:mlp_models",
                           "kwargs": {"save_dir": str(tmp_path)}},
                "data": {"builder": "tests.core.test_train_support:blob_data", "kwargs": {"n": 96}},
                "training": TRAINING, "out_dir": str(tmp_path / "run"), "progress": False}
        args = node_args(rank, port)
        results[rank] = launch_spec(spec, 1, tmp_path / spec_name(args), torchrun_args=torchrun_args(args),
                                    timeout=120)

    threads = [threading.Thread(target=node, args=(r,)) for r in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(r, RunFinished) and r.reason == "completed" for r in results.values())
    # Exactly one node held global rank 0 and wrote the run's files.
    assert sorted(r.final_weights is not None for r in results.values()) == [False, True]
    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    assert_same_params(rank0, torch.load(tmp_path / "rank1.pt", weights_only=True))
    assert_same_params(torch.load(tmp_path / "run" / "final.pt", weights_only=True), rank0)
    # One process, same seed, same global batch: the same weights.
    single = mlp_models()["model"]
    assert isinstance(Trainer({"model": single}, classification_splits(96), TRAINING).run(), RunFinished)
    assert_same_params(rank0, params_of(single), atol=1e-5)
    assert torch.load(tmp_path / "run" / "last.pt", weights_only=True)["world_size"] == 2


@needs_gloo
def test_studio_train_on_two_nodes_from_the_command_line(tmp_path):
    tiny = Project("tiny")
    chain(tiny.add_network("main"), [("Input", "x", {"shape": [1, 8, 8]}), ("Flatten", "flat", {}),
                                     ("Linear", "fc", {"out_features": 10}), ("Output", "y", {})])
    io.save(tiny, tmp_path / "tiny.json")
    port = free_port()
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    common = [sys.executable, "-m", "studio.cli", "train", str(tmp_path / "tiny.json"), "--data", "digits",
              "--epochs", "1", "--seed", "3", "--set", "batch_size=32", "--out", str(tmp_path / "run"),
              "--nnodes", "2", "--master-addr", "127.0.0.1", "--master-port", str(port)]
    nodes = [subprocess.Popen([*common, "--node-rank", str(r)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for r in (0, 1)]
    outs = [n.communicate(timeout=180) for n in nodes]
    assert [n.returncode for n in nodes] == [0, 0], outs
    assert (tmp_path / "run" / "final.pt").is_file()
    assert torch.load(tmp_path / "run" / "last.pt", weights_only=True)["world_size"] == 2
    assert sum("results in" in err for _, err in outs) == 1  # the node holding rank 0


@pytest.mark.parametrize("changes, words", [
    ({"node_rank": 2}, "--node-rank 2"), ({"master_addr": None}, "needs --master-addr"),
    ({"master_port": 0}, "--master-port 0"), ({"nnodes": 0}, "--nnodes 0")])
def test_bad_node_options_are_refused_in_plain_words(changes, words):
    args = node_args(0, 29400)
    vars(args).update(changes)
    with pytest.raises(TrainingError, match=words):
        torchrun_args(args)


def test_torchrun_gets_a_c10d_rendezvous_hosted_by_node_0():
    assert torchrun_args(node_args(0, 1234, nnodes=1)) is None  # one machine: --standalone
    flags = torchrun_args(node_args(0, 1234))
    assert flags[flags.index("--rdzv-backend") + 1] == "c10d"
    assert flags[flags.index("--rdzv-endpoint") + 1] == "127.0.0.1:1234"
    assert "is_host=1" in flags and "is_host=0" in torchrun_args(node_args(1, 1234))
