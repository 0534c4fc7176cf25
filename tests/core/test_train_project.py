"""Training projects: presets train out of the box, from Python and from `studio train`."""

import json
import math
import os
import subprocess
import sys

import torch

from studio.graph import io
from studio.presets import resolve
from studio.train import run_training
from studio.train.project_run import data_for, models_for, optimiser_settings, training_copy


def test_lenet5_preset_reaches_95_percent_on_the_digits(tmp_path):
    project = io.load(resolve("lenet5"))
    torch.manual_seed(0)
    result = run_training(models_for(project, project.training), data_for(project, project.training, project.data),
                          optimiser_settings(project.training), tmp_path, progress=False)
    assert result.reason == "completed"
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == project.training["epochs"]
    assert max(line["val_accuracy"] for line in lines) >= 0.95


def test_a_resnet_trains_at_its_small_default_size(tmp_path):
    project = io.load(resolve("resnet18"))
    training = {**project.training, "epochs": 1, "batch_size": 64}
    data = {**project.data, "max_samples": 192}
    assert training_copy(project, training).network().by_name("image").params["shape"] == [3, 32, 32]
    assert project.network().by_name("image").params["shape"] == [3, 224, 224]  # the project is untouched
    result = run_training(models_for(project, training), data_for(project, training, data),
                          optimiser_settings(training), tmp_path, progress=False)
    assert result.reason == "completed", result
    assert (tmp_path / "final.pt").exists()


def test_studio_train_command_writes_metrics_and_weights(tmp_path):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    out = subprocess.run([sys.executable, "-m", "studio.cli", "train", "mlp_xor", "--epochs", "3", "--out",
                          str(tmp_path / "run"), "--set", "lr=0.05"], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2, 3]
    assert {"train_loss", "val_loss", "val_accuracy"} <= set(lines[-1])
    assert (tmp_path / "run" / "final.pt").exists()


def test_studio_train_bad_setting_is_a_plain_error(tmp_path):
    out = subprocess.run([sys.executable, "-m", "studio.cli", "train", "mlp_xor", "--set", "optimizer=adamm",
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert out.returncode != 0 and "optimizer" in out.stderr and "Traceback" not in out.stderr


def test_auxiliary_classifiers_train_with_the_main_output(tmp_path):
    project = io.load(resolve("googlenet_aux"))
    training = {**project.training, "epochs": 1, "batch_size": 32}
    data = {**project.data, "max_samples": 96}
    models = models_for(project, training)
    assert len(models["model"](torch.randn(2, 3, 32, 32))) == 3  # logits, aux2, aux1
    result = run_training(models, data_for(project, training, data), optimiser_settings(training), tmp_path,
                          progress=False)
    assert result.reason == "completed", result
    line = json.loads((tmp_path / "metrics.jsonl").read_text().splitlines()[-1])
    assert 0.0 <= line["val_accuracy"] <= 1.0
    assert all(map(math.isfinite, (line["train_loss"], line["val_loss"])))
