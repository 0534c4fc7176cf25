"""Checks before a run: the training size, the Output against the task, the loss against the last layer,
and the class count, in `studio check`, in `studio train` and from Python."""

import json
import os
import subprocess
import sys

import pytest
import torch

from studio.errors import TrainingError
from studio.graph import Analyzer, io
from studio.presets import resolve
from studio.train.preflight import project_problems, run_problems, settle_classes

from tests.core.helpers import lenet


def studio(*args, cwd=None):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "studio.cli", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env=env)


def lenet5_without_flatten():
    """The LeNet-5 preset with its Flatten deleted and pool2 wired straight into fc1."""
    project = io.load(resolve("lenet5"))
    net = project.network()
    fc1 = net.by_name("fc1").id
    source = net.incoming(net.by_name("flatten").id)["in"].src
    net.remove_node(net.by_name("flatten").id)
    net.connect(source, "out", fc1, "in")
    return project


def with_last_layer(type_name: str | None, loss: str):
    """The LeNet of the helpers trained with `loss`, a `type_name` layer between fc3 and the Output."""
    project = lenet()
    project.training = {"loss": loss}
    if type_name is not None:
        net = project.network()
        out, fc3 = net.by_name("logits").id, net.by_name("fc3").id
        net.disconnect(net.incoming(out)["in"])
        last = net.add_node(type_name, "last", {"dim": 1} if "Softmax" in type_name else {})
        net.connect(fc3, "out", last, "in")
        net.connect(last, "out", out, "in")
    return project


def test_a_layer_that_fails_only_at_the_training_size_is_named_with_both_sizes():
    project = lenet()
    project.training = {"input_shape": [1, 8, 8]}  # conv2's 5×5 kernel meets a 2×2 map
    assert Analyzer(project).analyse().ok
    problem, = project_problems(project)
    assert (problem.node, problem.severity) == ("conv2", "error")
    assert str(problem).startswith("main/conv2: at the training size 1×8×8 (training.input_shape; "
                                   "the design size 1×32×32 works): Conv2d 'conv2': ")
    assert "input 6×2×2" in problem.message and problem.message.endswith(
        "set training.input_shape to a size this layer takes, or remove that setting")
    errors, warnings = run_problems(project, Analyzer(project))
    assert errors == [problem] and warnings == []


def test_check_and_train_refuse_a_training_size_the_network_cannot_take(tmp_path):
    project = io.load(resolve("lenet5"))
    project.training = {**project.training, "input_shape": [1, 8, 8]}
    path = tmp_path / "small.json"
    io.save(project, path)
    out = studio("check", str(path))
    assert out.returncode == 1
    assert out.stdout.startswith("main/conv2: at the training size 1×8×8 (training.input_shape; the design size "
                                 "1×32×32 works): Conv2d 'conv2'")
    out = studio("train", str(path), "--out", str(tmp_path / "run"))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.startswith("studio: cannot train: main/conv2: at the training size 1×8×8")
    assert not (tmp_path / "run").exists()


def test_a_classifier_without_its_flatten_is_refused_with_what_to_insert(tmp_path):
    project = lenet5_without_flatten()
    assert Analyzer(project).analyse().ok  # each layer is fine on its own: Linear works on the last dimension
    line = ("main/logits: Output 'logits' gets 16×5×10 values per sample, but a classifier's Output needs "
            "10 values (one score per class): insert a Flatten (or a pooling layer) before Linear 'fc1', "
            "which gets 16×5×5 per sample")
    assert [str(p) for p in project_problems(project)] == [line]
    path = tmp_path / "no_flatten.json"
    io.save(project, path)
    out = studio("check", str(path))
    assert (out.returncode, out.stdout.strip()) == (1, line)
    out = studio("train", str(path), "--epochs", "1", "--out", str(tmp_path / "run"))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip() == f"studio: cannot train: {line}"


def test_a_classifier_that_ends_without_pooling_is_told_to_pool_or_flatten():
    project = lenet5_without_flatten()
    net = project.network()
    out = net.by_name("logits").id
    for name in ("fc1", "relu3", "fc2", "relu4", "fc3"):
        net.remove_node(net.by_name(name).id)
    net.connect(net.by_name("pool2").id, "out", out, "in")
    net.set_params(out, {"classes": None})
    project.training["loss"] = "cross_entropy"
    problem, = project_problems(project)
    assert problem.message == ("Output 'logits' gets 16×5×5 values per sample, but a classifier's Output needs "
                               "a 1-D vector (one score per class): insert a Flatten before the Output, or a "
                               "pooling layer (AdaptiveAvgPool2d with output_size 1, then a Flatten) after the "
                               "last convolution")


@pytest.mark.parametrize("last, loss, severity, node, words", [
    (None, "kl_div", "warning", "logits", "loss kl_div reads log-probabilities, but Output 'logits' gets the values "
                                          "of Linear 'fc3', so the loss means nothing (it can fall below 0): add a "
                                          "LogSoftmax (dim 1) before the Output"),
    ("Softmax", "nll", "warning", "logits", "replace Softmax 'last' with a LogSoftmax"),
    ("Softmax", "cross_entropy", "warning", "last", "loss cross_entropy applies a softmax itself, so Softmax 'last' "
                                                    "before Output 'logits' squashes the scores twice and trains "
                                                    "badly: delete Softmax 'last'"),
    ("Sigmoid", "bce_logits", "warning", "last", "applies a sigmoid itself"),
    (None, "bce", "error", "logits", "loss bce reads probabilities in 0..1, but Output 'logits' gets the values of "
                                     "Linear 'fc3': add a Sigmoid before the Output, or use loss bce_logits"),
])
def test_a_loss_that_does_not_fit_the_last_layer_is_reported_with_the_fix(last, loss, severity, node, words):
    problem, = project_problems(with_last_layer(last, loss))
    assert (problem.severity, problem.node) == (severity, node)
    assert words in problem.message


@pytest.mark.parametrize("last, loss", [("LogSoftmax", "kl_div"), ("LogSoftmax", "nll"), (None, "cross_entropy"),
                                        ("Sigmoid", "bce"), (None, "mse")])
def test_a_loss_that_fits_its_last_layer_is_not_reported(last, loss):
    assert project_problems(with_last_layer(last, loss)) == []


def test_studio_train_warns_about_kl_div_on_raw_scores_and_trains(tmp_path):
    project = io.load(resolve("lenet5"))
    project.training["loss"] = "kl_div"
    path = tmp_path / "kl.json"
    io.save(project, path)
    out = studio("check", str(path))
    assert out.returncode == 1 and out.stdout.startswith("main/logits: warning: loss kl_div reads log-probabilities")
    out = studio("train", str(path), "--epochs", "1", "--set", "data.max_samples=64", "--out", str(tmp_path / "run"))
    assert out.returncode == 0, out.stderr
    assert out.stderr.startswith("studio: main/logits: warning: loss kl_div reads log-probabilities")
    assert (tmp_path / "run" / "final.pt").exists()


def test_studio_check_lists_an_unused_layer_as_a_warning(tmp_path):
    project = lenet()
    net = project.network()
    net.connect(net.by_name("relu3").id, "out", net.add_node("Linear", "spare", {"out_features": 5}), "in")
    path = tmp_path / "spare.json"
    io.save(project, path)
    out = studio("check", str(path))
    assert out.returncode == 1
    assert out.stdout.strip() == ("main/spare: warning: Linear 'spare' is unused: its output goes nowhere; "
                                  "connect it to the layers after it, or delete it")


def test_an_unused_layer_inside_a_block_definition_is_listed_under_the_block():
    project = io.load(resolve("resnet18"))
    block = project.blocks["basic"].network
    block.add_node("Identity", "spare")  # an Identity with no input is an error only where the block is used
    block.connect(block.by_name("x").id, "out", block.by_name("spare").id, "in")
    assert [str(p) for p in project_problems(project)] == [
        "basic/spare: warning: Identity 'spare' is unused: its output goes nowhere; connect it to the layers "
        "after it, or delete it"]


# --- the class count ---------------------------------------------------------------------------------------
def digits_project(classes: int):
    project = io.load(resolve("lenet5"))
    project.network().set_params(project.network().by_name("logits").id, {"classes": classes})
    return project


def test_a_preset_trains_with_the_datas_class_count_and_says_so():
    project = io.load(resolve("resnet18"))
    training, notes = settle_classes(project, project.training, project.data, lambda: 10, preset=True)
    assert training["classes"] == 10 and "classes" not in project.training
    assert notes == ["the digits data has 10 classes, but Output 'logits' is set to 1000: training with 10 "
                     "(a preset takes the data's count; --classes N chooses another)"]


def test_a_project_trains_as_drawn_when_the_output_is_wider_and_is_refused_when_narrower():
    wide = digits_project(20)
    training, notes = settle_classes(wide, wide.training, wide.data, lambda: 10)
    assert "classes" not in training
    assert notes == ["warning: the digits data has 10 classes, but Output 'logits' is set to 20: training a "
                     "20-way output (--classes 10 trains a 10-way one)"]
    narrow = digits_project(5)
    with pytest.raises(TrainingError, match=r"set to 5, so classes 5 and above have no score to learn; set the "
                                            r"Output's classes to 10 \(studio train: --classes 10\)"):
        settle_classes(narrow, narrow.training, narrow.data, lambda: 10)
    same = digits_project(10)
    assert settle_classes(same, same.training, same.data, lambda: 10) == (same.training, [])


def test_studio_train_takes_the_datas_class_count_for_a_preset(tmp_path):
    out = studio("train", "resnet18", "--epochs", "1", "--set", "data.max_samples=24", "--out", str(tmp_path / "run"))
    assert out.returncode == 0, out.stderr
    assert out.stderr.startswith("studio: the digits data has 10 classes, but Output 'logits' is set to 1000: "
                                 "training with 10")
    weights = torch.load(tmp_path / "run" / "final.pt", weights_only=True)
    weights = weights.get("models", {}).get("model", weights)
    assert weights["fc.weight"].shape == (10, 512)


def test_studio_train_classes_sets_and_reports_the_count(tmp_path):
    out = studio("train", "lenet5", "--epochs", "1", "--classes", "12", "--set", "data.max_samples=64",
                 "--out", str(tmp_path / "run"))
    assert out.returncode == 0, out.stderr
    assert out.stderr.startswith("studio: training with 12 classes (Output 'logits' is drawn with 10)")
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(lines[-1]["val_confusion"]) == 10  # the data's classes; the extra two scores are never targets
    out = studio("train", "mlp_xor", "--classes", "3", "--out", str(tmp_path / "xor"))
    assert out.returncode == 1 and "has no Output with a class count to set" in out.stderr


@pytest.mark.parametrize("width, refused", [(3, True), (1, False), (12, False)])
def test_an_output_without_classes_is_refused_when_it_scores_fewer_classes_than_the_data(width, refused):
    project = lenet()  # its Output has no class count: fc3's width is what it scores
    project.data = {"source": "digits"}
    project.network().set_params(project.network().by_name("fc3").id, {"out_features": width})
    if not refused:
        assert settle_classes(project, project.training, project.data, lambda: 10, preset=True) == (project.training, [])
        return
    with pytest.raises(TrainingError, match=r"^the digits data has 10 classes, but Output 'logits' gets 3 scores per "
                                            r"sample, so classes 3 and above have no score to learn; give the layer "
                                            r"before it 10 outputs$"):
        settle_classes(project, project.training, project.data, lambda: 10, preset=True)
