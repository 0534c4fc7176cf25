"""The distillation recipe: a supervised classifier that also learns from a teacher's softened outputs.

Everything but the training step is the supervised recipe's (metrics,
evaluation, checkpoints: only the student is saved). The loss is
`studio.train.distil.distillation_loss` with ``distill_temperature`` and
``distill_alpha``; the teacher (`studio.train.distil.load_teacher`) runs on
the same batch in eval mode under ``torch.no_grad``.
"""

from __future__ import annotations

from typing import Any

import torch

from studio.errors import TrainingError
from studio.train.distil import distillation_loss, load_teacher
from studio.train.losses import adapt_target
from studio.train.recipes.base import RecipeContext
from studio.train.recipes.supervised import SupervisedRecipe, _outputs


class DistillationRecipe(SupervisedRecipe):
    """A student in role "model" taught by a frozen teacher network."""

    tasks = ("classification",)

    def setup(self, ctx: RecipeContext) -> None:
        super().setup(ctx)
        config = ctx.config
        self.temperature, self.alpha = config.distill_temperature, config.distill_alpha
        self.teacher = load_teacher(config.teacher, config.teacher_network, config.teacher_weights).to(ctx.device)

    def train_step(self, batch: Any) -> torch.Tensor:
        x, y = self.to_device(batch)
        self.optimizer.zero_grad(set_to_none=True)
        with torch.no_grad():
            teacher = self.forward(self._teacher_scores, x)
        out = _outputs(self.forward(self.model, x))[0].float()
        if teacher.shape != out.shape:
            raise TrainingError(f"training.teacher: the teacher gives scores of shape {tuple(teacher.shape[1:])}, "
                                f"the student {tuple(out.shape[1:])}; both need one score per class")
        hard = self.loss_fn(out, adapt_target(self.loss_name, out, y))
        loss = distillation_loss(out, teacher, hard, self.temperature, self.alpha)
        return self.optimise(loss + self.l1 * self._l1_norm() if self.l1 else loss)

    def _teacher_scores(self, x: torch.Tensor) -> torch.Tensor:
        try:
            return _outputs(self.teacher(x))[0].float()
        except RuntimeError as exc:
            raise TrainingError(f"training.teacher: the teacher cannot take the student's inputs of shape "
                                f"{tuple(x.shape[1:])} ({str(exc).splitlines()[0]})") from None
