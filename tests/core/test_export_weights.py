"""Loading weights by name and shape, and freezing layers through the project's training settings."""

import pytest
import torch

from studio.compile import compile_network
from studio.errors import StudioError
from studio.export import (apply_frozen, apply_initial_weights, apply_weights, frozen_nodes, load_weights,
                           read_state_dict, set_frozen, trainable_count)
from studio.graph import Analyzer, io

from tests.core.helpers import lenet, residual_block_project


class Pickled:
    """An object a weights-only load must refuse."""


def lenet_state():
    torch.manual_seed(3)
    return compile_network(lenet()).state_dict()


@pytest.mark.parametrize("wrap", ["plain", "checkpoint", "roles"])
def test_weights_load_from_every_kind_of_file(wrap, tmp_path):
    state = lenet_state()
    data = {"plain": state,
            "checkpoint": {"format": "studio-checkpoint", "epoch": 2, "models": {"model": state},
                           "optimizers": {"model": {"state": {}, "param_groups": [{"lr": 0.1}]}}},
            "roles": {"main": state, "other": {"w": torch.zeros(1)}}}[wrap]
    torch.save(data, tmp_path / "w.pt")
    project = lenet()
    report = load_weights(project, tmp_path / "w.pt")
    assert report.ok and sorted(report.matched) == sorted(state)
    model = compile_network(project)
    apply_weights(model, report)
    assert all(torch.equal(model.state_dict()[k], state[k]) for k in state)


def test_mismatch_report_names_missing_unexpected_and_wrong_shapes(tmp_path):
    state = lenet_state()
    del state["fc3.bias"]
    state["fc1.weight"] = torch.zeros(120, 256)
    state["head.weight"] = torch.zeros(3)
    report = load_weights(lenet(), state)
    assert report.missing == ["fc3.bias"]
    assert report.unexpected == ["head.weight"]
    assert report.mismatched == [("fc1.weight", (120, 400), (120, 256))]
    assert "fc1.weight" not in report.matched and "conv1.weight" in report.matched and not report.ok
    text = report.summary()
    assert "fc1.weight: the network has shape (120, 400), the file (120, 256)" in text and "missing: fc3.bias" in text

    model = compile_network(lenet())
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(StudioError, match="do not fit"):
        apply_weights(model, report)
    assert all(torch.equal(model.state_dict()[k], before[k]) for k in before)
    apply_weights(model, report, strict=False)
    assert torch.equal(model.conv1.weight, state["conv1.weight"])
    assert torch.equal(model.fc1.weight, before["fc1.weight"])  # the wrong-shaped one kept its value


def test_unsafe_or_missing_files_are_refused(tmp_path):
    torch.save({"x": Pickled()}, tmp_path / "evil.pt")  # any pickled object is refused
    with pytest.raises(StudioError, match="cannot be read as a weights-only file"):
        read_state_dict(tmp_path / "evil.pt")
    with pytest.raises(StudioError, match="no such weights file"):
        read_state_dict(tmp_path / "nope.pt")
    torch.save({"epoch": 3}, tmp_path / "empty.pt")
    with pytest.raises(StudioError, match="holds no weights"):
        read_state_dict(tmp_path / "empty.pt")
    torch.save({"gen": {"a": torch.zeros(1)}, "disc": {"b": torch.zeros(1)}}, tmp_path / "gan.pt")
    with pytest.raises(StudioError, match="holds weights for gen, disc"):
        read_state_dict(tmp_path / "gan.pt")
    assert list(read_state_dict(tmp_path / "gan.pt", network="disc")) == ["b"]


def test_safetensors_files_load(tmp_path):
    safetensors = pytest.importorskip("safetensors.torch")
    state = lenet_state()
    safetensors.save_file(state, str(tmp_path / "w.safetensors"))
    assert load_weights(lenet(), tmp_path / "w.safetensors").ok


def test_initial_weights_setting(tmp_path):
    state = lenet_state()
    torch.save(state, tmp_path / "init.pt")
    project = lenet()
    model = compile_network(project)
    assert apply_initial_weights(model, project) is None
    project.training["init_weights"] = "init.pt"
    report = apply_initial_weights(model, project, base=tmp_path)
    assert report.ok and torch.equal(model.fc2.weight, state["fc2.weight"])


def test_freezing_reduces_the_trainable_count_and_the_optimizer(tmp_path):
    project = lenet()
    total = Analyzer(project).analyse().trainable_params
    assert trainable_count(project) == total == 61706
    events = []
    project.frozen_changed.connect(lambda *args: events.append(args))
    set_frozen(project, ["conv1", "fc1"])
    net = project.network()
    assert events == [("main", net.by_name("conv1").id, False, True), ("main", net.by_name("fc1").id, False, True)]
    assert io.to_dict(project)["training"]["frozen"] == ["conv1", "fc1"]
    conv1, fc1 = 6 * 25 + 6, 400 * 120 + 120
    assert trainable_count(project) == total - conv1 - fc1

    model = compile_network(project)
    frozen = apply_frozen(model, project)
    assert sorted(frozen) == ["conv1.bias", "conv1.weight", "fc1.bias", "fc1.weight"]
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    in_optimizer = {id(p) for g in optimizer.param_groups for p in g["params"]}
    assert id(model.conv1.weight) not in in_optimizer and id(model.fc2.weight) in in_optimizer
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == trainable_count(project)

    before = model.conv1.weight.clone()
    model(torch.randn(2, 1, 32, 32)).sum().backward()
    optimizer.step()
    assert torch.equal(model.conv1.weight, before) and model.conv1.weight.grad is None

    set_frozen(project, [])  # unfreezing
    apply_frozen(model, project)
    assert all(p.requires_grad for p in model.parameters())


def test_freezing_a_block_instance_and_bad_entries():
    project = residual_block_project()
    total = trainable_count(project)
    set_frozen(project, ["main/stage"])
    model = compile_network(project)
    frozen = apply_frozen(model, project)
    assert frozen and all(name.startswith("stage.") for name in frozen)
    assert trainable_count(project) == sum(p.numel() for p in model.parameters() if p.requires_grad) < total
    for bad, message in ((["nope"], "names no layer"), (["gen/stem"], "names no network"),
                         (["main/nope"], "names no layer"), ("stem", "must be a list")):
        with pytest.raises(StudioError, match=message):
            set_frozen(project, bad)
    assert frozen_nodes(project) == [project.network().by_name("stage").id]  # a refused list changes nothing
