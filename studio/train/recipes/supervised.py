"""The supervised recipe: one network ("model") maps inputs to targets.

Classification (``data.task == "classification"``, int64 class targets) and
regression (float targets) differ only in the metrics: accuracy, macro F1,
the confusion matrix, per-class precision/recall/F1 and, for image inputs, a
few sample predictions; or MAE, RMSE and R².

One step: forward (under bf16 autocast when on), the loss in float32, the L1
penalty on weights (tensors of two or more dimensions; biases and norm scales
are left alone), backward, gradient clipping, optimizer step, per-batch
schedule. Nothing in the step waits for the device.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader

from studio.train.losses import adapt_target, build_loss, predict_classes, resolve_loss_name
from studio.train.metrics import (
    classification_metrics, is_image_shape, regression_metrics, thumbnails,
)
from studio.train.recipes.base import RecipeContext
from studio.train.recipes.single import SingleOptimizer, evaluating


# Weight of each auxiliary output's loss, as GoogLeNet's paper trains its auxiliary classifiers.
AUX_WEIGHT = 0.3


def _outputs(out) -> tuple:
    """A network's outputs as a tuple: the first is the prediction, any others auxiliary heads."""
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


class SupervisedRecipe(SingleOptimizer):
    """Classification or regression with one network in role "model"."""

    roles = ("model",)
    tasks = ("classification", "regression")
    loss_names = ("loss",)

    def metric_names(self, data: Any) -> list[str]:
        names = ["train_loss", "val_loss", "lr", "samples_per_s"]
        if data.task == "classification":
            return names + ["val_accuracy", "val_macro_f1"]
        return names + ["val_mae", "val_rmse", "val_r2"]

    def setup(self, ctx: RecipeContext) -> None:
        self.setup_model(ctx)
        self.classify = ctx.data.task == "classification"
        self.loss_name = resolve_loss_name(ctx.config.loss, ctx.data.task)
        self.loss_fn = build_loss(self.loss_name, ctx.config)
        self.penalized = [p for p in self.params if p.dim() > 1]
        self.l1 = ctx.config.l1
        self.memory_format = torch.channels_last if ctx.channels_last else None

    # --- training -------------------------------------------------------------------

    def train_step(self, batch: Any) -> torch.Tensor:
        x, y = self.to_device(batch)
        self.optimizer.zero_grad(set_to_none=True)
        out, *aux = _outputs(self.forward(self.model, x))
        # The loss in float32 whatever the autocast dtype: BCELoss refuses bf16.
        out = out.float()
        target = adapt_target(self.loss_name, out, y)
        loss = self.loss_fn(out, target)
        total = loss + self.l1 * self._l1_norm() if self.l1 else loss
        for extra in aux:  # auxiliary classifiers (GoogLeNet, Inception v3) add a weighted loss of their own
            total = total + AUX_WEIGHT * self.loss_fn(extra.float(), target)
        return self.optimise(total, reported=loss)

    def _l1_norm(self) -> torch.Tensor:
        return torch.stack([p.abs().sum() for p in self.penalized]).sum()

    def to_device(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = batch[0], batch[1]
        if self.memory_format is not None and x.dim() == 4:
            x = x.to(self.device, non_blocking=True, memory_format=self.memory_format)
        else:
            x = x.to(self.device, non_blocking=True)
        return x, y.to(self.device, non_blocking=True)

    # --- evaluation -----------------------------------------------------------------

    def prediction(self, out: Any) -> torch.Tensor:
        return _outputs(out)[0].float()  # auxiliary heads are for training only

    def evaluate(self, loader: DataLoader, prefix: str = "val_",
                 with_samples: bool = False) -> dict[str, Any]:
        """Loss and task metrics over ``loader``, keys starting with ``prefix``."""
        acc = _Accumulator(self.device, self.classify)
        with evaluating(self.raw_model):
            for batch, _, y, out in self.outputs(loader):
                target = adapt_target(self.loss_name, out, y)
                acc.add(self.loss_fn(out, target), out, y, target, self._predict(out))
                if with_samples:
                    acc.keep_samples(batch[0], self.ctx.config.sample_predictions)
        metrics = {prefix + k: v for k, v in self._task_metrics(acc).items()}
        if with_samples and acc.samples_x is not None and is_image_shape(
                self.ctx.data.input_shape):
            metrics["samples"] = self._samples(acc)
        return metrics

    def _predict(self, out: torch.Tensor) -> torch.Tensor | None:
        return predict_classes(self.loss_name, out) if self.classify else None

    def _task_metrics(self, acc: _Accumulator) -> dict[str, Any]:
        if acc.count == 0:
            return {}
        metrics: dict[str, Any] = {"loss": float(acc.loss_sum) / acc.count}
        if self.classify:
            num_classes = self.ctx.data.num_classes or int(acc.targets().max()) + 1
            metrics.update(classification_metrics(acc.preds(), acc.targets(), num_classes))
        else:
            sums = acc.reg_sums.tolist()
            metrics.update(regression_metrics(*sums, count=acc.value_count))
        return metrics

    def _samples(self, acc: _Accumulator) -> list[dict[str, Any]]:
        k = len(acc.samples_x)
        names = self.ctx.data.class_names
        images = thumbnails(acc.samples_x, self.ctx.data.mean, self.ctx.data.std)
        preds = acc.pred_list[0][:k].tolist() if self.classify else []
        trues = acc.target_list[0][:k].tolist() if self.classify else []
        samples = []
        for i in range(k):
            sample: dict[str, Any] = {"image": images[i]}
            if self.classify:
                pred, true = preds[i], trues[i]
                sample.update(pred=pred, true=true)
                if names and max(pred, true) < len(names):
                    sample.update(pred_name=names[pred], true_name=names[true])
            samples.append(sample)
        return samples


class _Accumulator:
    """Sums over an evaluation pass, kept on the device until the end."""

    def __init__(self, device: torch.device, classify: bool):
        self.loss_sum = torch.zeros((), device=device)
        self.reg_sums = torch.zeros(4, device=device, dtype=torch.float64)
        self.count = 0
        self.value_count = 0
        self.classify = classify
        self.pred_list: list[torch.Tensor] = []
        self.target_list: list[torch.Tensor] = []
        self.samples_x: torch.Tensor | None = None

    def add(self, loss: torch.Tensor, out: torch.Tensor, y: torch.Tensor,
            target: torch.Tensor, preds: torch.Tensor | None) -> None:
        n = len(out)
        self.loss_sum += loss * n
        self.count += n
        if self.classify:
            self.pred_list.append(preds)
            self.target_list.append(y.reshape(-1).long())
        else:
            diff = (out - target).double()
            t = target.double()
            self.reg_sums += torch.stack([diff.abs().sum(), (diff * diff).sum(),
                                          t.sum(), (t * t).sum()])
            self.value_count += target.numel()

    def keep_samples(self, x: torch.Tensor, k: int) -> None:
        if self.samples_x is None and k > 0:
            self.samples_x = x[:k].cpu()

    def preds(self) -> torch.Tensor:
        return torch.cat(self.pred_list)

    def targets(self) -> torch.Tensor:
        return torch.cat(self.target_list)
