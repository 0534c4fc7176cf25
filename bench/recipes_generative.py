"""Generative recipes: quality after a longer CPU run, and the GAN recipe's speed.

    gan_mlp_mode_share           share of 512 samples (fixed noise) within 3σ of a ring mode
    gan_mlp_modes_covered        modes (of 8) that got at least a fifth of their fair share
    gan_mlp_train_s              seconds that gan_mlp run took, evaluation included
    rbm_recon_error              validation reconstruction error (mean squared, per pixel)
    dcgan_epochs                 epochs the dcgan preset trained (``--dcgan-epochs``)
    dcgan_train_s                seconds they took
    dcgan_classifier_confidence  mean top probability a digits classifier gives 500 generated samples
    dcgan_confident_share        share of those samples it gives a top probability of at least 0.9
    dcgan_classes_covered        digit classes (of 10) among those confident samples
    dcgan_largest_class_share    share of all generated samples given the most frequent class (near
                                 1: they all look alike, as early blobs or a collapsed GAN do)
    dcgan_real_confidence        the same classifier's mean top probability on real held-out digits
    dcgan_real_confident_share   and the share of real held-out digits it is confident about
    gan_recipe_s_per_epoch       seconds per epoch of the gan recipe (Trainer) on gan_mlp
    plain_gan_s_per_epoch        the same epoch as a hand-written PyTorch loop
    gan_recipe_over_plain        recipe over plain (1.0 = no overhead): the median ratio of epochs run in turn

The presets run as they ship except for the device (CPU) and, where asked, the
epochs (``--gan-epochs``, ``--rbm-epochs``, ``--dcgan-epochs``; by default
gan_mlp and rbm train their own number of epochs, dcgan 3 of its 25: a 64×64
DCGAN takes about a minute per epoch on two CPU cores).

The DCGAN figure is a rough proxy. The GAN is unconditional, so there is no
label to check: a classifier (logistic regression on the images pooled to
8×8 grey, trained here on the dcgan data's own training split) says how
sure it is that each generated image is some digit. Its confidence on real
held-out digits is the ceiling to compare with.

The plain loop does the work the recipe does with the preset's settings: the
same networks, data order, batch, discriminator and generator steps
(``d_steps``), one-sided label smoothing, gradient penalty and weight average.

    python bench/recipes_generative.py [--parts gan,rbm,dcgan,speed] [--gan-epochs N]
        [--rbm-epochs N] [--dcgan-epochs 3] [--speed-epochs 8]
        [--speed-threads 1] [--threads N]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from studio.graph import io
from studio.presets import resolve
from studio.train import Trainer
from studio.train.events import EpochEnded
from studio.train.loaders import fast_view, train_loader
from studio.train.project_run import data_for, models_for, optimiser_settings
from studio.train.recipes.gan import dcgan_init, noise_shape

PARTS = ("gan", "rbm", "dcgan", "speed")
# Generated images the DCGAN proxy scores, and the classifier's bar for "confident".
DCGAN_SAMPLES = 500
CONFIDENT = 0.9


def train(name: str, epochs: int | None = None, **changes):
    """Run preset ``name`` on the CPU (its own epochs unless given); its last EpochEnded metrics,
    the trainer, the models and the data."""
    project = io.load(resolve(name))
    training = {**project.training, "device": "cpu", **changes}
    if epochs is not None:
        training["epochs"] = epochs
    torch.manual_seed(0)
    seen = []
    models = models_for(project, training)
    data = data_for(project, training, project.data)
    trainer = Trainer(models, data, optimiser_settings(training),
                      lambda e: seen.append(e.metrics) if isinstance(e, EpochEnded) else None)
    result = trainer.run()
    if result.__class__.__name__ != "RunFinished":
        raise SystemExit(f"{name}: {result}")
    return seen[-1], trainer, models, data


# --- DCGAN: a digits classifier's confidence on generated samples -------------------

def pooled(images: torch.Tensor) -> np.ndarray:
    """N×C×64×64 images in 0..1 as N×64 features: grey, averaged down to 8×8."""
    grey = images.float().mean(1, keepdim=True)
    return F.adaptive_avg_pool2d(grey, 8).flatten(1).numpy()


def digits_classifier(train_x: torch.Tensor, train_y: torch.Tensor):
    """Logistic regression on pooled images (about 97% accurate on held-out digits)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=10.0, max_iter=5000).fit(pooled(train_x), train_y.numpy())


def confidence(classifier, images: torch.Tensor) -> dict[str, float]:
    """Mean top probability, share of confident samples, classes among the confident ones."""
    probs = classifier.predict_proba(pooled(images))
    top, guess = probs.max(1), probs.argmax(1)
    confident = top >= CONFIDENT
    return {"confidence": float(top.mean()), "confident_share": float(confident.mean()),
            "classes": len(np.unique(guess[confident])),
            "largest_class_share": float(np.bincount(guess).max() / len(guess))}


def dcgan_quality(epochs: int) -> dict[str, float]:
    start = time.perf_counter()
    _, _, models, data = train("dcgan", epochs)
    seconds = time.perf_counter() - start
    train_x, train_y = _tensors(data.train)
    val_x, _ = _tensors(data.val)
    classifier = digits_classifier(train_x, train_y)
    G = models["generator"].eval()
    rng = torch.Generator().manual_seed(0)
    with torch.no_grad():
        fake = G(torch.randn(DCGAN_SAMPLES, *noise_shape(G), generator=rng))
    fake = ((fake + 1) / 2).clamp(0, 1)  # Tanh's [-1, 1] back to pixels
    made, real = confidence(classifier, fake), confidence(classifier, val_x)
    return {"epochs": epochs, "train_s": seconds, "classifier_confidence": made["confidence"],
            "confident_share": made["confident_share"], "classes_covered": made["classes"],
            "largest_class_share": made["largest_class_share"],
            "real_confidence": real["confidence"], "real_confident_share": real["confident_share"]}


def _tensors(dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """A split's images and labels as two tensors."""
    view = fast_view(dataset)
    if view is None:
        xs, ys = zip(*(dataset[i] for i in range(len(dataset))))
        return torch.stack(xs), torch.as_tensor(ys)
    rows = view.indices if view.indices is not None else slice(None)
    return view.tensors[0][rows], view.tensors[1][rows]


# --- speed: the recipe against the same GAN written by hand ----------------------------

class PlainGan:
    """The gan recipe's work with the preset's settings, written as a plain PyTorch loop."""

    def __init__(self, project, training: dict, data):
        torch.manual_seed(training.get("seed", 0))
        models = models_for(project, training)
        self.G, self.D = models["generator"], models["discriminator"]
        for model in (self.G, self.D):
            dcgan_init(model)
        self.nz = noise_shape(self.G)
        self.ema = training.get("g_ema", 0.0)
        self.G_avg = self.G
        if self.ema:  # the optimizer trains G; G_avg holds the moving average
            self.G_avg = copy.deepcopy(self.G)
            self.avg_params, self.params = list(self.G_avg.parameters()), list(self.G.parameters())
            self.updates = 0
        betas = tuple(training["betas"])
        self.opt_g = torch.optim.Adam(self.G.parameters(), training["lr"], betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), training["lr"], betas=betas)
        self.d_steps = training.get("d_steps", 1)
        self.real_label = 1.0 - training.get("label_smoothing", 0.0)
        self.penalty = training.get("gradient_penalty", 0.0)
        # The loader the trainer uses, for the same batches in the same order.
        self.loader, self.sampler = train_loader(data.train, training["batch_size"], seed=training.get("seed", 0))
        self.calls = 0

    def epoch(self, epoch: int) -> float:
        """One epoch; seconds."""
        self.sampler.set_epoch(epoch)
        start = time.perf_counter()
        for real, _ in self.loader:
            n = len(real)
            g_turn = self.calls % self.d_steps == 0
            self.calls += 1
            with torch.set_grad_enabled(g_turn):
                fake = self.G(torch.randn(n, *self.nz))
            self.opt_d.zero_grad()
            d_real, d_fake = self.D(real).reshape(-1), self.D(fake.detach()).reshape(-1)
            d_loss = (F.binary_cross_entropy_with_logits(d_real, torch.full((n,), self.real_label))
                      + F.binary_cross_entropy_with_logits(d_fake, torch.zeros(n)))
            if self.penalty:
                t = torch.rand(n, 1)
                mixed = (t * real + (1 - t) * fake.detach()).requires_grad_(True)
                grad, = torch.autograd.grad(self.D(mixed).sum(), mixed, create_graph=True)
                d_loss = d_loss + self.penalty * grad.pow(2).sum(1).mean()
            d_loss.backward()
            self.opt_d.step()
            if g_turn:
                self.opt_g.zero_grad()
                F.binary_cross_entropy_with_logits(self.D(fake).reshape(-1), torch.ones(n)).backward()
                self.opt_g.step()
                if self.ema:
                    self.updates += 1
                    decay = min(self.ema, (1 + self.updates) / (10 + self.updates))
                    with torch.no_grad():
                        torch._foreach_lerp_(self.avg_params, self.params, 1 - decay)
        float(d_loss.detach())
        return time.perf_counter() - start


def speed(epochs: int) -> tuple[float, float, float]:
    """Seconds per epoch of the recipe and of the plain loop, and the ratio of the two.

    One trainer run of ``epochs + 1`` epochs; after each of its epochs (outside
    the time it measures) the plain loop trains one epoch of its own, so the two
    take turns epoch by epoch and a machine that slows down or speeds up favours
    neither. The first pair warms up and is not counted. The seconds are
    medians; the ratio is the median of the pairs' own ratios.
    """
    project = io.load(resolve("gan_mlp"))
    training = {**project.training, "epochs": epochs + 1, "device": "cpu"}
    data = data_for(project, training, project.data)
    plain = PlainGan(project, training, data)
    plain_s: list[float] = []

    def after_epoch(event) -> None:
        if isinstance(event, EpochEnded):
            plain_s.append(plain.epoch(event.epoch))

    torch.manual_seed(0)
    trainer = Trainer(models_for(project, training), data, optimiser_settings(training), after_epoch)
    trainer.run()
    recipe_s = [h["time_s"] for h in trainer.history]
    pairs = list(zip(recipe_s, plain_s))[1:]
    return (statistics.median(r for r, _ in pairs), statistics.median(p for _, p in pairs),
            statistics.median(r / p for r, p in pairs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default=",".join(PARTS), help="which figures, of " + ",".join(PARTS))
    parser.add_argument("--gan-epochs", type=int, default=None, help="default: the preset's")
    parser.add_argument("--rbm-epochs", type=int, default=None, help="default: the preset's")
    parser.add_argument("--dcgan-epochs", type=int, default=3)
    parser.add_argument("--speed-epochs", type=int, default=8)
    parser.add_argument("--speed-threads", type=int, default=1,
                        help="torch threads while timing (one keeps a shared machine's noise down)")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if args.threads:
        torch.set_num_threads(args.threads)
    if "gan" in parts:
        start = time.perf_counter()
        gan, *_ = train("gan_mlp", args.gan_epochs)
        print(f"gan_mlp_mode_share: {gan['mode_share']:.3f}")
        print(f"gan_mlp_modes_covered: {gan['modes_covered']}")
        print(f"gan_mlp_train_s: {time.perf_counter() - start:.1f}")
    if "rbm" in parts:
        rbm, *_ = train("rbm", args.rbm_epochs)
        print(f"rbm_recon_error: {rbm['recon_error']:.4f}")
    if "dcgan" in parts:
        for name, value in dcgan_quality(args.dcgan_epochs).items():
            print(f"dcgan_{name}: {value:.3f}" if isinstance(value, float) else f"dcgan_{name}: {value}")
    if "speed" in parts:
        torch.set_num_threads(args.speed_threads)
        recipe_s, plain_s, ratio = speed(args.speed_epochs)
        print(f"gan_recipe_s_per_epoch: {recipe_s:.3f}")
        print(f"plain_gan_s_per_epoch: {plain_s:.3f}")
        print(f"gan_recipe_over_plain: {ratio:.2f}")


if __name__ == "__main__":
    main()
