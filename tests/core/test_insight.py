"""Seeing inside a network: a node's output on real data, measured time per layer, the learning-rate finder."""

import json
import math

import pytest
import torch

from studio.errors import StudioError, TrainingError
from studio.graph import io
from studio.graph.analysis import Analyzer
from studio.graph.summary import summary_data
from studio.presets import resolve
from studio.train.inspect import describe, inspect_node
from studio.train.layer_profile import add_profile, profile_network
from studio.train.lr_find import find_lr, suggest

from tests.core.helpers import lenet, residual_block_project
from tests.core.test_cli import studio


def small(project):
    project.data = {"source": "digits", "max_samples": 120}
    project.training = {"batch_size": 16}
    return project


# --- inspect ------------------------------------------------------------------------------

def test_inspect_a_convolution_on_the_data():
    p = inspect_node(small(lenet()), "conv1", samples=4)
    assert p.shape == [4, 6, 28, 28] and p.inputs == "4 samples of the validation split"
    assert len(p.channels) == 6 and p.maps.shape == (6, 28, 28)
    assert sum(p.histogram["counts"]) == 4 * 6 * 28 * 28 and len(p.histogram["edges"]) == 21
    assert p.stats["min"] <= p.stats["mean"] <= p.stats["max"]


def test_inspect_relu_counts_its_zeros_and_logits_list_the_classes():
    project = small(lenet())
    assert inspect_node(project, "relu1", samples=4).stats["zero_fraction"] > 0.1
    logits = inspect_node(project, "logits", samples=4)  # an Output stands for the value it receives
    assert logits.shape == [4, 10] and [t["token"] for t in logits.top][:1] and len(logits.top) == 5
    assert sum(t["p"] for t in logits.top) <= 1.0 + 1e-6


def test_inspect_addresses_nodes_inside_a_repeated_block():
    project = small(residual_block_project(repeat=2))
    project.data["image_size"] = None
    first = inspect_node(project, "stage/0/conv1", samples=2)
    second = inspect_node(project, "stage/1/conv1", samples=2)
    assert first.shape == second.shape == [2, 8, 8, 8]
    assert first.stats != second.stats
    whole = inspect_node(project, "stage", samples=2)  # the block's output: its last copy's relu2
    assert whole.stats == inspect_node(project, "stage/1/relu2", samples=2).stats
    with pytest.raises(StudioError, match="has no node 'conv9'"):
        inspect_node(project, "stage/conv9")
    with pytest.raises(StudioError, match="not a block"):
        inspect_node(project, "stem/x")


def test_inspect_attention_gives_the_weights_per_head():
    project = io.load(resolve("self_attention"))
    p = inspect_node(project, "attention", samples=3, root=resolve("self_attention").parent)
    heads = project.network().by_name("attention").params.get("num_heads", 4)
    assert p.attention.shape == (heads, 20, 20)
    assert torch.allclose(p.attention.sum(-1), torch.ones(heads, 20), atol=1e-5)
    assert p.to_json()["attention"]["shape"] == [heads, 20, 20]


def test_describe_a_constant_and_a_non_finite_tensor():
    p = describe("x", torch.zeros(2, 3), "here")
    assert p.stats["zero_fraction"] == 1.0 and sum(p.histogram["counts"]) == 6 and p.stats["std"] == 0
    q = describe("x", torch.tensor([float("nan"), 1.0, 3.0]), "here")
    assert q.stats["mean"] == 2.0 and sum(q.histogram["counts"]) == 2
    json.dumps(q.to_json())


# --- profile ------------------------------------------------------------------------------

def test_profile_measures_every_layer():
    project = lenet()
    rows = profile_network(project, batch=4, repeats=1)
    net = project.network()
    conv1 = rows[net.by_name("conv1").id]
    assert conv1["activation_bytes"] == 4 * 6 * 28 * 28 * 4
    assert conv1["forward_ms"] > 0 and conv1["backward_ms"] > 0
    assert math.isclose(sum(r["share"] for r in rows.values()), 1.0, abs_tol=0.01)
    assert rows[net.by_name("image").id]["forward_ms"] == 0


def test_profile_adds_a_blocks_layers_to_its_row():
    project = residual_block_project(repeat=2)
    data = summary_data(project, {"main": Analyzer(project).analyse("main")})
    add_profile(data, project, batch=2)
    stage = next(layer for layer in data["networks"]["main"]["layers"] if layer["name"] == "stage")
    assert stage["forward_ms"] > 0 and stage["backward_ms"] > 0
    # 2 copies of 7 layers, each out 2×8×8×8 float; each BatchNorm also keeps its batch mean and
    # inverse std (8 floats each) for the backward pass, which the profiler's memory records see
    assert stage["activation_bytes"] == 2 * (7 * (2 * 8 * 8 * 8 * 4) + 2 * (2 * 8 * 4))
    assert data["networks"]["main"]["profile"]["batch"] == 2


def test_profile_gives_every_backward_step_but_the_losss_to_a_layer():
    from torch.profiler import ProfilerActivity, profile, record_function

    from studio.compile import compile_network
    from studio.compile.fx import example_inputs
    from studio.train.layer_profile import BACKWARD, _Scoped, _within, attribute

    project = lenet()
    model = compile_network(project).train()
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        out = _Scoped(model).run(*example_inputs(project, batch=4))
        with record_function("loss"):
            loss = out.float().mean()
        loss.backward()
    events = prof.events()
    figures = attribute(events)
    of_loss = {op.sequence_nr for e in events if e.name == "loss" for op in _within(e) if op.sequence_nr >= 0}
    steps = [e for e in events if e.name.startswith(BACKWARD)]
    assert any(e.sequence_nr < 0 for e in steps)  # gradient accumulations, given to the layer before them
    expected = sum(e.cpu_time_total for e in steps if e.sequence_nr not in of_loss) * 1e-6
    assert sum(figures["backward_ms"].values()) == pytest.approx(expected)
    assert {"conv1", "relu1", "pool1", "conv2", "fc1", "fc3"} <= figures["backward_ms"].keys()
    assert figures["forward_ms"].keys() == figures["activation_bytes"].keys() and len(figures["forward_ms"]) == 12


# --- lr-find ------------------------------------------------------------------------------

def test_lr_find_sweeps_the_real_training_step():
    project = small(lenet())
    result = find_lr(project, steps=30, start=1e-5, end=1.0)
    assert 5 <= len(result.lrs) <= 30 and result.lrs == sorted(result.lrs)
    assert math.isclose(result.lrs[0], 1e-5)
    assert result.suggested_lr in result.lrs and all(math.isfinite(v) for v in result.losses)
    assert project.training == {"batch_size": 16}  # the project is left as it was


def test_suggest_takes_the_steepest_descent_before_the_minimum():
    lrs = [10 ** (i / 4 - 5) for i in range(12)]
    losses = [2.3, 2.3, 2.29, 2.2, 1.6, 1.0, 0.8, 0.7, 0.65, 0.9, 3.0, 9.0]
    assert suggest(lrs, losses) == lrs[4]


def test_lr_find_refuses_a_gan_in_plain_words():
    project = io.load(resolve("gan_mlp"))
    with pytest.raises(TrainingError, match="gan recipe has no single optimizer"):
        find_lr(project, steps=10)


# --- the command line ---------------------------------------------------------------------

def test_cli_inspect_lr_find_and_profile_as_subprocesses(tmp_path):
    path = tmp_path / "net.json"
    io.save(small(lenet()), path)
    out = studio("inspect", str(path), "--node", "conv2", "--samples", "3", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["shape"] == [3, 16, 10, 10] and {"mean", "std", "min", "max", "zero_fraction"} <= data.keys()
    bad = studio("inspect", str(path), "--node", "nope")
    assert bad.returncode == 1 and "no node 'nope'" in bad.stderr and "Traceback" not in bad.stderr
    found = studio("lr-find", str(path), "--steps", "20", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["suggested_lr"] > 0
    run = studio("summary", str(path), "--profile", "--json")
    assert "profiler_" not in run.stderr  # the profiler's engine says nothing of its own
    profiled = json.loads(run.stdout)
    layer = profiled["networks"]["main"]["layers"][1]
    assert {"forward_ms", "backward_ms", "activation_bytes", "share"} <= layer.keys()


def test_cli_text_forms(tmp_path, capsys):
    from studio.cli import main

    path = tmp_path / "net.json"
    io.save(small(lenet()), path)
    assert main(["inspect", str(path), "--node", "relu2", "--samples", "2"]) == 0
    text = capsys.readouterr().out
    assert "node relu2 on 2 samples" in text and "zeros" in text and "16 channels" in text
    assert main(["lr-find", str(path), "--steps", "20"]) == 0
    assert capsys.readouterr().out.startswith("suggested lr ")
    assert main(["summary", str(path), "--profile"]) == 0
    header = capsys.readouterr().out.splitlines()[1]
    assert "fwd ms" in header and "bwd ms" in header and "act. memory" in header
    assert main(["summary", str(path), "--json"]) == 0
    assert "forward_ms" not in json.loads(capsys.readouterr().out)["networks"]["main"]["layers"][1]


def test_augmented_samples_are_the_training_reads_and_vectors_are_refused():
    from studio.train.inspect import augmented_samples

    project = small(lenet())
    project.data["augment"] = {"crop_padding": 4}
    originals, augmented = augmented_samples(project, samples=2, draws=3)
    assert [o.shape for o in originals] == [(1, 32, 32)] * 2 and all(len(d) == 3 for d in augmented)
    assert any(not torch.equal(d, o) for o, draws in zip(originals, augmented) for d in draws)
    mlp = io.load(resolve("mlp_xor"))
    with pytest.raises(StudioError, match="not images"):
        augmented_samples(mlp)
