"""The GAN recipe: a generator and a discriminator trained against each other.

Roles: "generator" maps noise of the shape of its Input node (the noise size
is that Input's shape: [2] or [64] for an MLP, [100, 1, 1] for DCGAN) to a
sample; "discriminator" maps a sample to one score per sample. The data feed
the discriminator's Input; labels are ignored.

One step, as in the PyTorch DCGAN tutorial: draw noise, make a batch of fakes;
update the discriminator on the real batch (target 1) and the detached fakes
(target 0), the two losses summed; then update the generator with the
non-saturating loss (the fakes scored against target 1). Each network has its
own optimizer built from the one config (Adam, lr 2e-4, betas (0.5, 0.999) in
the presets) and its own schedule. ``train_step`` returns ``[d_loss, g_loss]``
(the latest generator loss on steps that do not update the generator).

Stabilisers, each a training setting that is off by default:

- ``d_steps`` (1): every batch updates the discriminator; every ``d_steps``-th
  batch also updates the generator (WGAN's n_critic), so the discriminator
  stays closer to its optimum. Batches that only train the discriminator make
  their fakes without building the generator's graph.
- ``label_smoothing``: one-sided smoothing (Salimans et al. 2016); the real
  target becomes 1 - label_smoothing, the fake target stays 0.
- ``gradient_penalty``: weight of the zero-centred gradient penalty on points
  between the real and the fake batch (Thanh-Tung et al. 2019),
  ``weight * mean(|grad_x D(x)|^2)``, which keeps the discriminator from
  growing sharp cliffs that send the generator from mode to mode.
- ``g_ema``: the generator network holds an exponential moving average of the
  weights the optimizer trains (Yazici et al. 2019; as in ProGAN and
  StyleGAN): the recipe trains a private copy and, after each generator
  update, moves the network's weights towards it (decay ``min(g_ema, (1 + t)
  / (10 + t))`` at update t, so short runs are not stuck at the start).
  Samples, evaluation, checkpoints and exports all use the average; the
  trained copy travels in the recipe's checkpoint state.

The loss is binary cross-entropy: on probabilities when the discriminator
ends in a Sigmoid (as DCGAN's does; the config's ``loss`` "auto" or "bce"), on
logits otherwise ("auto" or "bce_logits"). Convolution, transposed
convolution and batch-norm layers start from the DCGAN initialisation
(weights N(0, 0.02), batch-norm scales N(1, 0.02), shifts 0); other layers keep
torch's defaults.

Images reach the discriminator in [-1, 1], the range of the generator's Tanh:
the data's normalisation is undone and the 0..1 pixels mapped to [-1, 1].
Vectors (points) are used as the data gives them.

Evaluation (``prefix`` "val_" or "test_") reports ``<prefix>d_loss`` and
``<prefix>g_loss`` on the split; on the validation split also ``d_loss`` and
``g_loss`` (the means over the epoch's training steps) and the generator's
samples and mode figures (`gan_samples`).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn
from torch.utils.data import DataLoader

from studio.errors import TrainingError
from studio.train import devices
from studio.train import distributed as ddp
from studio.train.metrics import is_image_shape
from studio.train.optim import Schedule, build_optimizer
from studio.train.recipes.base import RecipeContext
from studio.train.recipes.gan_samples import fixed_noise, is_points, pictures
from studio.train.recipes.weight_average import WeightAverage


class GanRecipe:
    """Non-saturating GAN training of roles "generator" and "discriminator"."""

    roles = ("generator", "discriminator")
    data_role = "discriminator"
    tasks = ("classification", "regression")
    loss_names = ("d_loss", "g_loss")

    def metric_names(self, data: Any) -> list[str]:
        names = ["train_d_loss", "train_g_loss", "val_d_loss", "val_g_loss", "d_loss", "g_loss",
                 "lr", "samples_per_s"]
        if is_points(data):
            names += ["mode_share", "modes_covered"]
        return names

    def setup(self, ctx: RecipeContext) -> None:
        c = ctx.config
        check_settings(c)
        self.ctx = ctx
        self.device = ctx.device
        self.G, self.D = ctx.models["generator"], ctx.models["discriminator"]
        self.raw_G, self.raw_D = ctx.raw_models["generator"], ctx.raw_models["discriminator"]
        self.noise_shape = noise_shape(self.raw_G)
        self.images = is_image_shape(ctx.data.input_shape)
        self.loss_fn = _loss(c.loss, self.raw_D)
        for model in (self.raw_G, self.raw_D):
            dcgan_init(model)
        trained_G = self._average_generator(c.g_ema, ctx.world_size)
        self.params_g = [p for p in trained_G.parameters() if p.requires_grad]
        self.params_d = [p for p in self.raw_D.parameters() if p.requires_grad]
        self.opt_g = build_optimizer(self.params_g, c)
        self.opt_d = build_optimizer(self.params_d, c)
        self.sched_g = Schedule(self.opt_g, c, ctx.steps_per_epoch, plateau_mode=ctx.watch_mode)
        self.sched_d = Schedule(self.opt_d, c, ctx.steps_per_epoch, plateau_mode=ctx.watch_mode)
        self.grad_clip = c.grad_clip
        self.d_steps, self.penalty = c.d_steps, c.gradient_penalty
        self.real_target = 1.0 - c.label_smoothing
        self._targets: dict[int, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}
        self.fixed_noise = fixed_noise(self.noise_shape, self.images, self.device)
        self.scale = _image_scale(ctx.data) if self.images else None
        if self.scale is not None:
            self.scale = tuple(t.to(self.device) for t in self.scale)
        self._calls = 0  # batches trained, over the whole run: the generator's turn
        self._g_loss = torch.zeros((), device=self.device)
        self._sums = torch.zeros(2, device=self.device)
        self._steps = 0

    def _average_generator(self, decay: float, world_size: int) -> nn.Module:
        """With ``g_ema``, train a private copy of the generator (the network keeps the
        average); the module whose parameters the generator's optimizer updates."""
        self.average = WeightAverage(self.raw_G, decay) if decay else None
        if self.average is None:
            return self.raw_G
        trained = self.average.trained
        self.G = ddp.wrap(trained, self.device) if world_size > 1 else trained
        return trained

    # --- training -------------------------------------------------------------------

    def begin_epoch(self, epoch: int) -> None:
        self.G.train()
        self.D.train()
        self._sums = torch.zeros(2, device=self.device)
        self._steps = 0

    def train_step(self, batch: Any) -> torch.Tensor:
        real = self._real(batch[0])
        real_t, fake_t, gen_t = self._targets_for(len(real))
        g_turn = self._calls % self.d_steps == 0
        self._calls += 1
        z = torch.randn(len(real), *self.noise_shape, device=self.device)
        # The generator's graph is only worth building when the generator trains.
        with devices.autocast(self.device, self.ctx.mixed_precision), torch.set_grad_enabled(g_turn):
            fake = self.G(z)
        d_loss = self._train_discriminator(real, fake.detach(), real_t, fake_t)
        if g_turn:
            self._g_loss = self._train_generator(fake, gen_t)
        self.sched_d.after_batch()
        self.sched_g.after_batch()
        losses = torch.stack([d_loss, self._g_loss])
        self._sums += losses
        self._steps += 1
        return losses

    def _train_discriminator(self, real: torch.Tensor, fake: torch.Tensor,
                             real_t: torch.Tensor, fake_t: torch.Tensor) -> torch.Tensor:
        """One discriminator update: real -> real_t, fake -> 0, plus the gradient penalty."""
        self.opt_d.zero_grad(set_to_none=True)
        with devices.autocast(self.device, self.ctx.mixed_precision):
            d_real = self.D(real)
            d_fake = self.D(fake)
        d_loss = self.loss_fn(_scores(d_real), real_t) + self.loss_fn(_scores(d_fake), fake_t)
        loss = (d_loss + self._penalty(real, fake)) if self.penalty else d_loss
        loss.backward()
        self._clip(self.params_d)
        self.opt_d.step()
        return d_loss.detach()

    def _train_generator(self, fake: torch.Tensor, gen_t: torch.Tensor) -> torch.Tensor:
        """One generator update with the non-saturating loss; then the weight average moves."""
        self.opt_g.zero_grad(set_to_none=True)
        with devices.autocast(self.device, self.ctx.mixed_precision):
            d_gen = self.D(fake)
        g_loss = self.loss_fn(_scores(d_gen), gen_t)
        g_loss.backward()
        self._clip(self.params_g)
        self.opt_g.step()
        if self.average is not None:
            self.average.update()
        return g_loss.detach()

    def _penalty(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """``gradient_penalty * mean |grad D|^2`` at random points between real and fake samples."""
        t = torch.rand(len(real), *[1] * (real.dim() - 1), device=self.device)
        mixed = torch.lerp(fake.float(), real, t).requires_grad_(True)
        # The plain module is enough under DDP too: the penalty's gradients reach the parameters
        # in the same backward as the losses' and are averaged across processes with them
        # (checked with two gloo processes: the replicas stay identical).
        scores = _scores(self.raw_D(mixed))
        grad, = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
        return self.penalty * grad.pow(2).reshape(len(grad), -1).sum(1).mean()

    def _targets_for(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(real, fake, generator) targets for a batch of ``n``; made once per batch size."""
        targets = self._targets.get(n)
        if targets is None:
            targets = (torch.full((n,), self.real_target, device=self.device),
                       torch.zeros(n, device=self.device), torch.ones(n, device=self.device))
            self._targets[n] = targets
        return targets

    def end_epoch(self, epoch: int, watched: float | None) -> None:
        self.sched_d.after_epoch(epoch, watched)
        self.sched_g.after_epoch(epoch, watched)

    @property
    def lr(self) -> float:
        return self.sched_g.lr

    def batch_size(self, batch: Any) -> int:
        return len(batch[0])

    def state_dict(self) -> dict[str, Any]:
        state = {"opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                 "sched_g": self.sched_g.state_dict(), "sched_d": self.sched_d.state_dict(),
                 "calls": self._calls}
        if self.average is not None:
            state["average"] = self.average.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.sched_g.load_state_dict(state["sched_g"])
        self.sched_d.load_state_dict(state["sched_d"])
        self._calls = int(state.get("calls", 0))
        if self.average is not None:
            if "average" not in state:
                raise TrainingError("the checkpoint was trained without training.g_ema; resume with "
                                    "g_ema set to 0, or start a new run")
            self.average.load_state_dict(state["average"])

    def _clip(self, params: list[torch.nn.Parameter]) -> None:
        if self.grad_clip:
            torch.nn.utils.clip_grad_norm_(params, self.grad_clip)

    def _real(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device, non_blocking=True).float()
        if self.scale is not None:
            mul, add = self.scale
            x = torch.addcmul(add, x, mul)
        if self.ctx.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    # --- evaluation -----------------------------------------------------------------

    @torch.no_grad()
    def evaluate(self, loader: DataLoader, prefix: str = "val_",
                 with_samples: bool = False) -> dict[str, Any]:
        """Losses on ``loader`` (fresh noise per batch); on validation, samples and mode figures."""
        G, D = self.raw_G, self.raw_D
        modes = (G.training, D.training)
        G.eval()
        D.eval()
        try:
            sums, count, reals, labels = torch.zeros(2, device=self.device), 0, [], []
            for batch in loader:
                real = self._real(batch[0])
                n = len(real)
                fake = G(torch.randn(n, *self.noise_shape, device=self.device))
                d_real, d_fake = _scores(D(real)), _scores(D(fake))
                ones, zeros = torch.ones(n, device=self.device), torch.zeros(n, device=self.device)
                d_loss = self.loss_fn(d_real, ones) + self.loss_fn(d_fake, zeros)
                sums += torch.stack([d_loss, self.loss_fn(d_fake, ones)]) * n
                count += n
                if with_samples and is_points(self.ctx.data):
                    reals.append(real.cpu())
                    labels.append(batch[1].reshape(-1).cpu())
            metrics: dict[str, Any] = {}
            if count:
                d_mean, g_mean = (sums / count).tolist()
                metrics.update({prefix + "d_loss": d_mean, prefix + "g_loss": g_mean})
            if with_samples:
                metrics.update(self._samples(reals, labels))
        finally:
            G.train(modes[0])
            D.train(modes[1])
        return metrics

    def _samples(self, reals: list[torch.Tensor], labels: list[torch.Tensor]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self._steps:
            d_mean, g_mean = (self._sums / self._steps).tolist()
            out.update(d_loss=d_mean, g_loss=g_mean)
        out.update(pictures(self.raw_G, self.fixed_noise, self.images, reals, labels))
        return out


# --- settings and the pieces the bench and the tests use too ----------------------------

def check_settings(config: Any) -> None:
    """Refuse gan settings that cannot train, naming the key and what to use instead.

    The config checks each key's range; this checks what only the gan recipe
    rules out.
    """
    if config.label_smoothing >= 0.5:
        raise TrainingError(f"training.label_smoothing: the gan recipe smooths the real target to "
                            f"1 - label_smoothing, so {config.label_smoothing} would score real samples "
                            f"as fake; use a value below 0.5 (0.1 is usual) or 0 for none")


def noise_shape(generator: nn.Module) -> tuple[int, ...]:
    """The generator's input sample shape: its placeholder's ``meta["sample_shape"]``, or the
    input size of its first layer (a Linear's ``in_features``; a convolution's ``in_channels``, 1×1)."""
    if isinstance(generator, fx.GraphModule):
        for node in generator.graph.nodes:
            if node.op == "placeholder" and "sample_shape" in node.meta:
                return tuple(node.meta["sample_shape"])
    for module in generator.modules():
        if isinstance(module, nn.Linear):
            return (module.in_features,)
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            return (module.in_channels, 1, 1)
    raise TrainingError("the gan recipe cannot tell the generator's noise size; give the generator "
                        "network an Input node (its shape is the noise shape)")


def dcgan_init(model: nn.Module) -> None:
    """The DCGAN tutorial's initialisation of convolutions and batch norms."""
    for module in model.modules():
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d,
                               nn.ConvTranspose2d, nn.ConvTranspose3d)):
            nn.init.normal_(module.weight, 0.0, 0.02)
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)) and module.affine:
            nn.init.normal_(module.weight, 1.0, 0.02)
            nn.init.zeros_(module.bias)


def _scores(out: torch.Tensor) -> torch.Tensor:
    """The discriminator's output as one float32 score per sample."""
    return out.float().reshape(len(out), -1).mean(1) if out[0].numel() > 1 else out.float().reshape(-1)


def _ends_in_sigmoid(model: nn.Module) -> bool:
    if isinstance(model, fx.GraphModule):
        out = next(n for n in reversed(model.graph.nodes) if n.op == "output")
        last = out.args[0]
        if isinstance(last, fx.Node):
            if last.op == "call_module":
                return isinstance(model.get_submodule(last.target), nn.Sigmoid)
            return last.target in (torch.sigmoid, F.sigmoid)
        return False
    children = list(model.children())
    return bool(children) and isinstance(children[-1], nn.Sigmoid)


def _loss(name: str, discriminator: nn.Module):
    probabilities = _ends_in_sigmoid(discriminator)
    if name == "auto":
        name = "bce" if probabilities else "bce_logits"
    if name == "bce":
        return F.binary_cross_entropy
    if name == "bce_logits":
        return F.binary_cross_entropy_with_logits
    raise TrainingError(f"training.loss: the gan recipe uses binary cross-entropy; set loss to "
                        f"\"auto\", \"bce\" or \"bce_logits\", not {name!r}")


def _image_scale(data: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """(mul, add) per channel taking the data's images to [-1, 1]: undo normalisation, then 2x - 1."""
    channels = data.input_shape[0]
    mean = torch.tensor(data.mean if data.mean is not None else [0.0] * channels)
    std = torch.tensor(data.std if data.std is not None else [1.0] * channels)
    mean, std = mean.expand(channels), std.expand(channels)
    return (2 * std).view(1, -1, 1, 1), (2 * mean - 1).view(1, -1, 1, 1)
