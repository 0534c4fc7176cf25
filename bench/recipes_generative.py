"""Generative recipes: quality after a longer CPU run, and the GAN recipe's speed.

    gan_mlp_mode_share       share of 512 samples (fixed noise) within 3σ of a ring mode
    gan_mlp_modes_covered    modes (of 8) that got at least a fifth of their fair share
    rbm_recon_error          validation reconstruction error (mean squared, per pixel)
    dcgan_quality            skipped: a 64×64 DCGAN needs far more than a few CPU minutes
    gan_recipe_s_per_epoch   seconds per epoch of the gan recipe (Trainer) on gan_mlp
    plain_gan_s_per_epoch    the same epoch as a hand-written PyTorch loop
    gan_recipe_over_plain    the ratio of the two (1.0 = no overhead), median of interleaved runs

The presets run as they ship except for the epochs (``--gan-epochs``,
``--rbm-epochs``) and the device (CPU).

    python bench/recipes_generative.py [--gan-epochs 20] [--rbm-epochs 20] [--repeats 3] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from studio.graph import io
from studio.presets import resolve
from studio.train import Trainer
from studio.train.events import EpochEnded
from studio.train.project_run import data_for, models_for, optimiser_settings


def train(name: str, epochs: int, **changes):
    """Run preset ``name`` for ``epochs`` on the CPU; its last EpochEnded metrics and the trainer."""
    project = io.load(resolve(name))
    training = {**project.training, "epochs": epochs, "device": "cpu", **changes}
    torch.manual_seed(0)
    seen = []
    trainer = Trainer(models_for(project, training), data_for(project, training, project.data),
                      optimiser_settings(training),
                      lambda e: seen.append(e.metrics) if isinstance(e, EpochEnded) else None)
    result = trainer.run()
    if result.__class__.__name__ != "RunFinished":
        raise SystemExit(f"{name}: {result}")
    return seen[-1], trainer


def plain_gan_epoch(project, training, x: torch.Tensor) -> float:
    """One epoch of the non-saturating GAN as a plain loop over the same networks and data; seconds."""
    torch.manual_seed(0)
    models = models_for(project, training)
    G, D = models["generator"], models["discriminator"]
    betas = tuple(training["betas"])
    opt_g = torch.optim.Adam(G.parameters(), training["lr"], betas=betas)
    opt_d = torch.optim.Adam(D.parameters(), training["lr"], betas=betas)
    bs, nz = training["batch_size"], 16
    start = time.perf_counter()
    order = torch.randperm(len(x))
    for i in range(0, len(x), bs):
        real = x[order[i:i + bs]]
        n = len(real)
        ones, zeros = torch.ones(n, 1), torch.zeros(n, 1)
        fake = G(torch.randn(n, nz))
        opt_d.zero_grad()
        d_loss = (F.binary_cross_entropy_with_logits(D(real), ones)
                  + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros))
        d_loss.backward()
        opt_d.step()
        opt_g.zero_grad()
        F.binary_cross_entropy_with_logits(D(fake), ones).backward()
        opt_g.step()
    float(d_loss.detach())
    return time.perf_counter() - start


def speed(repeats: int) -> tuple[float, float]:
    project = io.load(resolve("gan_mlp"))
    training = {**project.training, "epochs": 1, "device": "cpu"}
    data = data_for(project, training, project.data)
    x = data.train.tensors[0]
    recipe_s, plain_s = [], []
    for _ in range(repeats):
        _, trainer = train("gan_mlp", 1)
        recipe_s.append(trainer.history[-1]["time_s"])
        plain_s.append(plain_gan_epoch(project, training, x))
    return statistics.median(recipe_s), statistics.median(plain_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gan-epochs", type=int, default=20)
    parser.add_argument("--rbm-epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    gan, _ = train("gan_mlp", args.gan_epochs)
    print(f"gan_mlp_mode_share: {gan['mode_share']:.3f}")
    print(f"gan_mlp_modes_covered: {gan['modes_covered']}")
    rbm, _ = train("rbm", args.rbm_epochs)
    print(f"rbm_recon_error: {rbm['recon_error']:.4f}")
    print("dcgan_quality: skipped")
    recipe_s, plain_s = speed(args.repeats)
    print(f"gan_recipe_s_per_epoch: {recipe_s:.3f}")
    print(f"plain_gan_s_per_epoch: {plain_s:.3f}")
    print(f"gan_recipe_over_plain: {recipe_s / plain_s:.2f}")


if __name__ == "__main__":
    main()
