"""GAN presets and the gan recipe: gan_mlp on the ring, DCGAN as the PyTorch tutorial builds it."""

import math

import pytest
import torch
from torch import nn

from studio.compile import compile_network
from studio.data import load_data
from studio.errors import TrainingError
from studio.graph import Analyzer, io
from studio.presets import resolve
from studio.train import Trainer
from studio.train.config import TrainConfig
from studio.train.events import EpochEnded
from studio.train.project_run import (
    data_for,
    input_shape,
    models_for,
    optimiser_settings,
    training_copy,
)
from studio.train.recipes.gan import GanRecipe, check_settings, noise_shape
from studio.train.recipes.gan_samples import mode_quality
from studio.train.recipes.weight_average import WeightAverage
from tests.core.test_train_support import one_thread  # noqa: F401  (autouse fixture)


def tutorial_dcgan(nz=100, ngf=64, ndf=64, nc=3):
    """The generator and discriminator of the PyTorch DCGAN tutorial, verbatim."""
    generator = nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
        nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())
    discriminator = nn.Sequential(
        nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid())
    return generator, discriminator


def count(module):
    return sum(p.numel() for p in module.parameters())


def run(project, training, data, epochs=1):
    """Train ``epochs`` on the project's roles; the EpochEnded metrics and the run's end."""
    training = {**project.training, **training, "epochs": epochs, "device": "cpu"}
    torch.manual_seed(0)
    models = models_for(project, training)
    splits = data_for(project, training, {**project.data, **data})
    seen = []
    trainer = Trainer(models, splits, optimiser_settings(training),
                      lambda e: seen.append(e.metrics) if isinstance(e, EpochEnded) else None)
    return seen, trainer.run(), models


@pytest.mark.parametrize("name", ["gan_mlp", "dcgan"])
def test_gan_presets_load_analyse_and_compile_both_networks(name):
    project = io.load(resolve(name))
    assert list(project.networks) == ["generator", "discriminator"]
    assert project.training["recipe"] == "gan" and project.metadata["task"] == "generative"
    assert len(project.metadata["about"]) > 80
    for net in project.networks:
        report = Analyzer(project).analyse(net)
        assert report.ok, [str(p) for p in report.problems]
        compile_network(project, net).graph.lint()
    # The data feed the discriminator; the generator's Input is the noise.
    assert input_shape(training_copy(project, project.training)) == tuple(
        project.networks["discriminator"].by_name("point" if name == "gan_mlp" else "image").params["shape"])


def test_dcgan_preset_has_the_tutorials_parameter_counts_and_shapes():
    generator, discriminator = tutorial_dcgan()
    assert (count(generator), count(discriminator)) == (3_576_704, 2_765_568)
    project = io.load(resolve("dcgan"))
    models = models_for(project, project.training)
    assert count(models["generator"]) == count(generator)
    assert count(models["discriminator"]) == count(discriminator)
    # Layer for layer: the same parameter shapes in the same order.
    assert [p.shape for p in models["generator"].parameters()] == [p.shape for p in generator.parameters()]
    assert [p.shape for p in models["discriminator"].parameters()] == [p.shape for p in discriminator.parameters()]
    assert noise_shape(models["generator"]) == (100, 1, 1)
    with torch.no_grad():
        fake = models["generator"](torch.randn(2, 100, 1, 1))
        assert fake.shape == (2, 3, 64, 64)
        assert models["discriminator"](fake).shape == (2, 1, 1, 1)


def test_gan_mlp_trains_a_few_steps_with_finite_losses_and_samples():
    project = io.load(resolve("gan_mlp"))
    seen, result, models = run(project, {"batch_size": 32}, {"n": 160, "val_split": 0.2})
    assert result.reason == "completed", result
    m = seen[-1]
    for key in ("train_d_loss", "train_g_loss", "val_d_loss", "val_g_loss", "d_loss", "g_loss"):
        assert math.isfinite(m[key]), key
    points = torch.tensor(m["samples_xy"])
    assert points.shape[1] == 2 and len(points) >= 100 and torch.isfinite(points).all()
    assert 0 <= m["mode_share"] <= 1 and 0 <= m["modes_covered"] <= 8
    noise = project.networks["generator"].by_name("noise").params["shape"]
    assert noise_shape(models["generator"]) == tuple(noise)


def test_dcgan_trains_two_steps_on_tiny_digits_and_shows_images():
    project = io.load(resolve("dcgan"))
    seen, result, _ = run(project, {"batch_size": 4}, {"max_samples": 10})
    assert result.reason == "completed", result
    m = seen[-1]
    assert all(math.isfinite(m[k]) for k in ("train_d_loss", "train_g_loss", "d_loss", "g_loss"))
    images = torch.tensor(m["samples_images"])
    assert images.shape[:2] == (16, 3) and images.min() >= 0 and images.max() <= 1


def test_ring_source_and_mode_quality():
    splits = load_data({"source": "ring", "n": 800, "std": 0.02, "normalize": False, "val_split": 0.0})
    x, _ = splits.train.tensors
    assert splits.num_classes == 8 and torch.allclose(x.norm(dim=1).mean(), torch.tensor(2.0), atol=0.01)
    angle = torch.arange(8) * 2 * math.pi / 8
    centres = torch.stack([angle.cos(), angle.sin()], 1) * 2
    assert mode_quality(x, centres, 0.02) == {"mode_share": pytest.approx(1.0, abs=0.01), "modes_covered": 8}
    collapsed = centres[:1].repeat(400, 1)
    assert mode_quality(collapsed, centres, 0.02) == {"mode_share": 1.0, "modes_covered": 1}
    assert mode_quality(torch.zeros(400, 2), centres, 0.02) == {"mode_share": 0.0, "modes_covered": 0}


def test_a_gan_project_without_the_role_networks_is_a_plain_error():
    project = io.load(resolve("gan_mlp"))
    project.remove_network("generator")
    with pytest.raises(TrainingError, match="no network 'generator'"):
        models_for(project, project.training)


# --- the stabilisers: settings, what each does, and that a short run learns ---------

def ring_run(training, epochs, n=1024):
    """gan_mlp with ``training`` changes on a small ring; the trainer after ``epochs``."""
    project = io.load(resolve("gan_mlp"))
    training = {**project.training, "batch_size": 64, **training, "epochs": epochs, "device": "cpu"}
    torch.manual_seed(0)
    seen = []
    trainer = Trainer(models_for(project, training),
                      data_for(project, training, {**project.data, "n": n, "val_split": 0.25}),
                      optimiser_settings(training),
                      lambda e: seen.append(e.metrics) if isinstance(e, EpochEnded) else None)
    result = trainer.run()
    assert result.reason == "completed", result
    return trainer, seen


def ring_distance(generator, count=512):
    """Mean distance of generated points from the ring (radius 2)."""
    with torch.no_grad():
        points = generator(torch.randn(count, *noise_shape(generator), generator=torch.Generator().manual_seed(7)))
    return float((points.norm(dim=1) - 2).abs().mean())


def test_the_shipped_gan_mlp_settings_pull_samples_onto_the_ring_in_a_few_epochs():
    project = io.load(resolve("gan_mlp"))
    before = ring_distance(models_for(project, project.training)["generator"])
    trainer, seen = ring_run({}, epochs=10)
    after = ring_distance(trainer.models["generator"])
    assert before > 1.0 and after < before / 2, (before, after)
    assert all(math.isfinite(m["train_d_loss"]) and math.isfinite(m["train_g_loss"]) for m in seen)


def test_d_steps_updates_the_generator_on_every_nth_batch_only():
    # 597 points, a quarter for validation: 448 to train on, 7 batches of 64.
    trainer, _ = ring_run({"d_steps": 3, "g_ema": 0.0, "gradient_penalty": 0.0}, epochs=1, n=597)
    recipe = trainer.recipe
    steps = [int(s["step"]) for s in recipe.opt_d.state.values()]
    g_steps = [int(s["step"]) for s in recipe.opt_g.state.values()]
    assert trainer.steps == 7 and set(steps) == {7} and set(g_steps) == {3}  # batches 1, 4 and 7


def test_g_ema_keeps_the_average_in_the_generator_network_and_the_trained_copy_in_the_recipe():
    trainer, _ = ring_run({"g_ema": 0.99}, epochs=1, n=512)
    recipe = trainer.recipe
    average, trained = trainer.models["generator"], recipe.average.trained
    assert recipe.average.model is average and trained is not average
    moved = [not torch.equal(a, t) for a, t in zip(average.parameters(), trained.parameters())]
    assert all(moved)  # the average lags the trained weights
    assert "average" in recipe.state_dict() and recipe.state_dict()["average"]["updates"] == trainer.steps


def test_weight_average_warms_up_and_copies_buffers():
    model = nn.Sequential(nn.Linear(1, 1, bias=False), nn.BatchNorm1d(1))
    nn.init.zeros_(model[0].weight)
    average = WeightAverage(model, decay=0.999)
    with torch.no_grad():
        average.trained[0].weight.fill_(1.0)
        average.trained[1].running_mean.fill_(3.0)
    average.update()
    # Update 1 uses decay min(0.999, 2 / 11): a short run is not stuck at the start.
    assert model[0].weight.item() == pytest.approx(1 - 2 / 11)
    assert model[1].running_mean.item() == 3.0
    clone = WeightAverage(model, decay=0.999)
    clone.load_state_dict(average.state_dict())
    assert clone.updates == 1 and clone.trained[0].weight.item() == 1.0


def test_gradient_penalty_of_a_linear_discriminator_is_weight_times_its_squared_norm():
    recipe = GanRecipe()
    recipe.penalty, recipe.device = 0.5, torch.device("cpu")
    recipe.raw_D = nn.Linear(2, 1)
    with torch.no_grad():
        recipe.raw_D.weight.copy_(torch.tensor([[3.0, 4.0]]))
    value = recipe._penalty(torch.randn(8, 2), torch.randn(8, 2))
    assert value.item() == pytest.approx(0.5 * 25)
    value.backward()  # it trains the discriminator: d/dw of 0.5 |w|^2 = w
    assert torch.allclose(recipe.raw_D.weight.grad, torch.tensor([[3.0, 4.0]]))


def test_label_smoothing_is_one_sided():
    trainer, _ = ring_run({"label_smoothing": 0.1}, epochs=1, n=256)
    real, fake, gen = trainer.recipe._targets_for(4)
    assert real.tolist() == pytest.approx([0.9] * 4) and fake.tolist() == [0.0] * 4 and gen.tolist() == [1.0] * 4


@pytest.mark.parametrize("key, value, words", [
    ("d_steps", 0, "training.d_steps"),
    ("d_steps", 1.5, "training.d_steps"),
    ("gradient_penalty", -1.0, "training.gradient_penalty"),
    ("g_ema", 1.0, "training.g_ema"),
    ("g_ema", "yes", "training.g_ema"),
])
def test_bad_gan_settings_are_refused_with_the_key(key, value, words):
    with pytest.raises(TrainingError, match=words):
        TrainConfig.from_dict({"recipe": "gan", key: value})


def test_settings_the_gan_recipe_cannot_train_with_are_refused_before_training():
    with pytest.raises(TrainingError, match="label_smoothing.*below 0.5"):
        check_settings(TrainConfig.from_dict({"recipe": "gan", "label_smoothing": 0.5}))
    project = io.load(resolve("gan_mlp"))
    _, result, _ = run(project, {"label_smoothing": 0.7}, {"n": 64})
    assert result.__class__.__name__ == "RunFailed" and "label_smoothing" in result.message


def test_a_run_with_every_stabiliser_resumes_exactly(tmp_path):
    project = io.load(resolve("gan_mlp"))
    training = {**project.training, "batch_size": 64, "d_steps": 2, "label_smoothing": 0.1,
                "gradient_penalty": 0.1, "g_ema": 0.99, "device": "cpu"}
    data = data_for(project, training, {**project.data, "n": 400, "val_split": 0.2})

    def trainer(out, resume=None, stop_after=None):
        torch.manual_seed(0)
        made = Trainer(models_for(project, training), data, optimiser_settings({**training, "epochs": 2}),
                       out_dir=out, resume_from=resume,
                       callback=lambda e: made.stop() if isinstance(e, EpochEnded) and e.epoch == stop_after else None)
        return made

    whole = trainer(tmp_path / "whole")
    whole.run()
    trainer(tmp_path / "half", stop_after=1).run()  # the same run, stopped after its first epoch
    resumed = trainer(tmp_path / "resumed", resume=tmp_path / "half" / "checkpoint_epoch1.pt")
    resumed.run()
    for role in ("generator", "discriminator"):
        for a, b in zip(whole.models[role].parameters(), resumed.models[role].parameters()):
            assert torch.equal(a, b), role
