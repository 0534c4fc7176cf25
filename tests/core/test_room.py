"""Sizes a run cannot hold are refused before anything is allocated, in words that say how much and how much is free."""

import json
import math
import time

import pytest

from studio import cli
from studio.graph import Project
from studio.graph import layer_run
from studio.graph.analysis import Analyzer
from studio.graph.footprint import activation_values, training_bytes, weight_bytes
from studio.presets import resolve
from studio.system import size_text

from tests.core.helpers import chain, lenet


def mlp(tmp_path, shape, hidden=None) -> str:
    data = json.loads(resolve("mlp_xor").read_text())
    nodes = {n["name"]: n for n in data["networks"]["main"]["nodes"]}
    nodes["x"]["params"]["shape"] = shape
    if hidden is None:
        nodes["hidden"].update(type="ReLU", params={})
        nodes["out"].update(type="Flatten", params={})
    else:
        nodes["hidden"]["params"]["out_features"] = hidden
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    return str(path)


def run(capsys, *argv) -> tuple[int, str]:
    start = time.perf_counter()
    code = cli.main(list(argv))
    assert time.perf_counter() - start < 30
    return code, capsys.readouterr().err


@pytest.mark.parametrize("command", [["train", "--epochs", "1"], ["export", "--format", "torchscript"],
                                     ["export", "--format", "state_dict"]])
def test_weights_that_cannot_fit_are_refused_before_allocating(command, tmp_path, capsys):
    path = mlp(tmp_path, [10 ** 6], hidden=65536)  # 65.5 billion weights: 262 GB as float32
    extra = ["--out", str(tmp_path / "run")] if command[0] == "train" else ["-o", str(tmp_path / "m.pt")]
    code, err = run(capsys, command[0], path, *command[1:], *extra)
    assert code == 1 and "Traceback" not in err and "allocate" not in err
    assert "network 'main' (65,536,131,073 parameters" in err and "needs about" in err and "is free" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json"]


def test_a_batch_whose_activations_cannot_fit_is_refused(tmp_path, capsys):
    path = mlp(tmp_path, [1, 30000, 30000])  # no weights; 0.9 billion values per layer per sample
    code, err = run(capsys, "train", path, "--epochs", "1", "--out", str(tmp_path / "run"))
    assert code == 1 and "batch of 32) needs about" in err and "--set batch_size" in err
    code, err = run(capsys, "export", path, "--format", "pt2", "-o", str(tmp_path / "m.pt2"))
    assert code == 1 and "export a smaller network (or smaller inputs)" in err


def test_the_estimates_count_weights_optimiser_state_and_activations():
    project = lenet()
    report = Analyzer(project).analyse()
    assert weight_bytes(report) == 61706 * 4
    # 1x32x32 in, 6x28x28 after conv1 and relu1, 6x14x14, 16x10x10 twice, 16x5x5 twice (pool, flatten), ...
    assert activation_values(report) == (1024 + 2 * 4704 + 1176 + 2 * 1600 + 2 * 400 + 2 * 120 + 2 * 84 + 10 + 10)
    assert training_bytes(report, 8, "adam") == 4 * weight_bytes(report) + 2 * activation_values(report) * 8 * 4
    assert training_bytes(report, 8, "sgd") == 3 * weight_bytes(report) + 2 * activation_values(report) * 8 * 4
    assert size_text(999) == "999 bytes" and size_text(8_000_000_000) == "8.0 GB"


def test_a_recurrent_layer_over_a_million_steps_is_checked_at_once(tmp_path, capsys):
    data = json.loads(resolve("rnn_classifier").read_text())
    next(n for n in data["networks"]["main"]["nodes"] if n["type"] == "Input")["params"]["shape"] = [10 ** 6]
    (tmp_path / "p.json").write_text(json.dumps(data))
    start = time.perf_counter()
    assert cli.main(["check", str(tmp_path / "p.json")]) == 0
    assert time.perf_counter() - start < 10  # it took minutes and a gigabyte


@pytest.mark.parametrize("cell", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("output,bidirectional", [("sequence", True), ("last", False), ("hidden", True)])
def test_long_sequences_give_the_shapes_and_flops_of_a_step_by_step_run(cell, output, bidirectional, monkeypatch):
    def analysed():
        project = Project()
        net = project.add_network()
        chain(net, [("Input", "x", {"shape": [37, 5]}),
                    (cell, "r", {"hidden_size": 6, "num_layers": 2, "bidirectional": bidirectional, "output": output}),
                    ("Output", "y", {})])
        result = Analyzer(project).analyse().nodes[net.by_name("r").id]
        return result.outputs, result.flops, result.params

    extended = analysed()
    monkeypatch.setattr(layer_run, "LONG_SEQUENCE", math.inf)  # every one of the 37 steps on meta
    assert extended == analysed()
