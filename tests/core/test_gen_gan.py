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
from studio.train.events import EpochEnded
from studio.train.project_run import data_for, input_shape, models_for, optimiser_settings, training_copy
from studio.train.recipes.gan import mode_quality, noise_shape
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
    assert noise_shape(models["generator"]) == (16,)


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
    x, y = splits.train.tensors
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
