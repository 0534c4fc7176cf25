"""Per-layer histograms while training (`studio.train.layer_stats`) and TensorBoard files (`studio.train.tensorboard`)."""

import math
import sys

import pytest
import torch
from torch import nn

from studio.errors import TrainingError
from studio.train.events import EpochEnded, LayersMeasured
from studio.train.layer_stats import BINS, LayerProbe, flagged_nodes, grad_state
from studio.train import tensorboard
from tests.core.test_train_support import (  # one_thread: an autouse fixture
    one_thread,  # noqa: F401
    classification_splits, mlp,
)
from tests.core.test_train_trainer import train as train_fast


def train(models, data, out_dir=None, **config):
    """Two epochs of 6 steps."""
    return train_fast(models, data, out_dir, **{"epochs": 2, **config})


def test_every_n_steps_the_run_reports_each_layers_histograms_and_gradient_norms():
    result, rec = train({"model": mlp()}, classification_splits(), histogram_every=4)
    measured = rec.of(LayersMeasured)
    assert [e.step for e in measured] == [1, 5, 9]  # 2 epochs of 6 steps
    first = measured[0]
    names = [layer["name"] for layer in first.layers]
    assert names == ["0", "1", "2"]  # Linear, ReLU, Linear of the Sequential
    linear, relu = first.layers[0], first.layers[1]
    assert set(linear) >= {"weights", "grads", "activations", "grad_norm", "grad_state"}
    assert "weights" not in relu and relu["activations"]["min"] >= 0
    w = linear["weights"]
    assert len(w["counts"]) == BINS and sum(w["counts"]) == w["num"] == 4 * 16 + 16
    assert linear["activations"]["num"] == 16 * 16  # one batch of 16 through 16 units
    total = math.sqrt(sum(layer["grad_norm"] ** 2 for layer in first.layers if "grad_norm" in layer))
    assert first.grad_norm == pytest.approx(total) and first.grad_state == "ok"
    assert first.memory == {}  # no CUDA here


def test_the_histogram_matches_the_weights_it_counts():
    model = nn.Sequential(nn.Linear(3, 5))
    with torch.no_grad():
        model[0].weight.copy_(torch.arange(15.0).reshape(5, 3))
        model[0].bias.zero_()
    probe = LayerProbe({"model": model}, every=1)
    probe.attach()
    model(torch.ones(2, 3)).sum().backward()
    event = probe.collect(1, 1, 1)
    w = event.layers[0]["weights"]
    assert (w["min"], w["max"], w["num"]) == (0.0, 14.0, 20)
    assert w["sum"] == pytest.approx(sum(range(15))) and w["counts"][0] == 6  # 0 and the five zero biases
    # the bias gradient of a summed output is the batch size: 2 for each of 5 units; the weights' is 2 too
    assert event.layers[0]["grad_norm"] == pytest.approx(math.sqrt(20 * 4))
    assert not model[0]._forward_hooks  # hooks only while a step is measured


def test_vanishing_and_exploding_gradients_are_named():
    assert grad_state(1e-9) == "vanishing" and grad_state(5e3) == "exploding"
    assert grad_state(math.nan) == "exploding" and grad_state(0.5) == "ok" and grad_state(None) == "ok"
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 1))
    probe = LayerProbe({"model": model}, every=1)
    probe.attach()
    out = model(torch.ones(2, 3))
    (out.sum() * 1e6).backward()
    with torch.no_grad():
        model[0].weight.grad.mul_(0)
        model[0].bias.grad.mul_(0)
    event = probe.collect(1, 1, 1)
    assert [layer["grad_state"] for layer in event.layers] == ["vanishing", "exploding"]


def test_off_sends_no_measurements():
    _, rec = train({"model": mlp()}, classification_splits(), histogram_every=0)
    assert not rec.of(LayersMeasured)


def test_tensorboard_files_hold_the_scalars_and_histograms(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _, rec = train({"model": mlp()}, classification_splits(), out_dir=tmp_path, histogram_every=4,
                   tensorboard="auto")
    files = list(tmp_path.glob("events.out.tfevents.*"))
    assert len(files) == 1 and (tmp_path / "metrics.jsonl").exists()
    acc = EventAccumulator(str(tmp_path), size_guidance={"scalars": 0, "histograms": 0}).Reload()
    tags = acc.Tags()
    assert {"train_loss", "val_loss", "val_accuracy", "batch/loss", "grad_norm/total"} <= set(tags["scalars"])
    losses = [e.value for e in acc.Scalars("val_loss")]
    expected = [e.metrics["val_loss"] for e in rec.of(EpochEnded)]
    assert losses == pytest.approx(expected)
    assert "weights/0" in tags["histograms"] and "activations/1" in tags["histograms"]
    assert [e.step for e in acc.Histograms("grads/2")] == [1, 5, 9]


def test_without_the_package_runs_train_and_asking_for_it_is_a_plain_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if it were not installed
    result, _ = train({"model": mlp()}, classification_splits(), out_dir=tmp_path, tensorboard="auto")
    assert result.reason == "completed" and not list(tmp_path.glob("events.out.tfevents.*"))
    with pytest.raises(TrainingError, match="pip install tensorboard"):
        tensorboard.open_log(True, tmp_path)
    assert tensorboard.open_log(False, tmp_path) is None and tensorboard.open_log(True, None) is None


def test_flagged_layers_name_their_nodes_on_the_canvas():
    from studio.compile import compile_network
    from tests.core.helpers import lenet

    project = lenet()
    model = compile_network(project)
    probe = LayerProbe({"model": model}, every=1)
    probe.attach()
    model(torch.randn(2, 1, 32, 32)).sum().backward()
    with torch.no_grad():
        model.conv1.weight.grad.zero_()
        model.conv1.bias.grad.zero_()
        model.fc3.weight.grad.fill_(math.inf)
    event = probe.collect(1, 1, 1)
    net = project.network()
    ids = {node.name: nid for nid, node in net.nodes.items()}
    assert flagged_nodes(project, event) == {"main": {ids["conv1"]: "vanishing", ids["fc3"]: "exploding"}}
    assert event.grad_state == "exploding"
