"""Every preset: loads, analyses cleanly, has the standard parameter total, compiles and trains at its training size."""

import json
import math
from pathlib import Path

import pytest
import torch

from studio.compile import compile_network
from studio.graph import Analyzer, io
from studio.presets import list_presets, resolve
from studio.train import BatchEnded, RunFinished, Trainer
from studio.train.config import field_names
from studio.train.project_run import data_for, models_for, optimiser_settings

ROOT = Path(__file__).resolve().parents[2]

# torchvision's totals (1000 classes; GoogLeNet and Inception v3 without auxiliary classifiers).
TOTALS = {
    "lenet5": 61_706, "mlp_xor": 33, "alexnet": 61_100_840, "vgg16": 138_357_544, "vgg19": 143_667_240,
    "vgg16_bn": 138_365_992, "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
    "resnet101": 44_549_160, "resnet152": 60_192_808, "resnext50_32x4d": 25_028_904,
    "resnext101_32x8d": 88_791_336, "googlenet": 6_624_904, "inception_v3": 23_834_568,
    "googlenet_aux": 13_004_888, "inception_v3_aux": 27_161_264,
    "multiscale_resnet": 14_068_264,
}
OUTPUTS = {"lenet5": (10,), "mlp_xor": (1,)}


def test_the_preset_files_are_what_build_py_writes():
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_presets", ROOT / "presets" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    texts = build.build_all()
    assert set(texts) == {p.name for p in list_presets()} and set(TOTALS) <= set(texts)
    for name, text in texts.items():
        assert (ROOT / "presets" / f"{name}.json").read_text(encoding="utf-8") == text, f"run python presets/build.py ({name})"


@pytest.mark.parametrize("name", sorted(TOTALS))
def test_preset_has_the_standard_total_and_output(name):
    project = io.load(resolve(name))
    report = Analyzer(project).analyse()
    assert report.ok, [str(p) for p in report.problems]
    assert report.total_params == TOTALS[name]
    out = next(n for n in project.network().nodes.values() if n.type == "Output")
    assert report.nodes[out.id].outputs["out"] == OUTPUTS.get(name, (1000,))
    meta = project.metadata
    assert meta["title"] and meta["description"] and len(meta["about"]) > 80 and meta["task"]


# One real step of these takes 8-14 s and several GB on two cores (Adam over 90-140 M weights):
# they run forward and backward on the meta device here, and train for real in bench/preset_steps.py.
HEAVY = {"vgg16", "vgg16_bn", "vgg19", "resnext101_32x8d"}
# Small runs of every recipe: two samples a batch; the RL recipes update from their second step.
SMALL = {"batch_size": 2, "device": "cpu", "env_steps": 4, "learning_starts": 2, "replay_size": 16,
         "num_envs": 2, "rollout_steps": 2, "eval_episodes": 1}


@pytest.fixture
def one_thread():
    """Batches of two gain nothing from more threads, and on a busy machine threads wait for each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("name", sorted(p.name for p in list_presets() if p.name not in HEAVY))
def test_every_preset_trains_two_steps_at_its_training_size(name, one_thread):
    project = io.load(resolve(name))
    training = {**project.training, **{k: v for k, v in SMALL.items() if k in field_names()}}
    models = models_for(project, training)
    before = {role: [p.detach().clone() for p in m.parameters()] for role, m in models.items()}
    data = data_for(project, training, {**project.data, "max_samples": 12, "val_split": 0.25})
    losses = []

    def on_event(event):
        if isinstance(event, BatchEnded):
            losses.append(event.loss)
            if len(losses) == 2:
                trainer.stop()

    trainer = Trainer(models, data, optimiser_settings(training), callback=on_event, event_interval=0)
    result = trainer.run()
    assert isinstance(result, RunFinished) and result.reason == "stopped", result
    assert losses and all(math.isfinite(v) for v in losses)
    assert any(not torch.equal(a, b.detach()) for role, m in models.items()
               for a, b in zip(before[role], m.parameters())), "no weight changed"


@pytest.mark.parametrize("name", sorted(HEAVY))
def test_heavy_presets_run_forward_and_backward_at_their_training_size(name):
    project = io.load(resolve(name))
    shape = project.training["input_shape"]
    with torch.device("meta"):
        model = models_for(project, project.training)["model"]
        out = model(torch.randn(2, *shape))
        torch.nn.functional.cross_entropy(out, torch.zeros(2, dtype=torch.long)).backward()
    assert out.shape == (2, 1000)
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())


def test_big_presets_are_built_from_blocks_not_flattened():
    for name in ("resnet152", "inception_v3", "vgg19", "googlenet"):
        data = json.loads(resolve(name).read_text())
        assert data["blocks"] and len(data["networks"]["main"]["nodes"]) < 40, name


def _node(project, type_):
    return next(n for n in project.network().nodes.values() if n.type == type_)


@pytest.mark.parametrize("name", ["lenet5", "alexnet", "resnet50", "googlenet_aux", "inception_v3_aux", "multiscale_resnet"])
def test_the_output_nodes_classes_and_the_input_size_update_everything_downstream(name):
    project = io.load(resolve(name))
    analyzer = Analyzer(project)
    net = project.network()
    before = analyzer.analyse().total_params
    net.set_params(_node(project, "Output").id, {"classes": 7})  # the only edit
    shape = {"lenet5": [1, 40, 40], "inception_v3_aux": [3, 299, 299]}.get(name, [3, 160, 160])  # its aux head needs 299
    net.set_params(_node(project, "Input").id, {"shape": shape})
    report = analyzer.analyse()
    assert report.ok, [str(p) for p in report.problems]
    assert report.total_params != before
    outputs = [n for n in net.nodes.values() if n.type == "Output"]
    assert all(report.nodes[o.id].outputs["out"] == (7,) for o in outputs)  # auxiliary heads follow too
    if name not in ("lenet5", "googlenet_aux"):
        return  # compiling the big ones again adds seconds and no new check
    model = compile_network(project, analyzer=analyzer).eval()
    out = model(torch.randn(2, *shape))
    assert all(o.shape == (2, 7) for o in (out if isinstance(out, tuple) else (out,)))
