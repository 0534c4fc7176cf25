"""Knowledge distillation: the teacher a student learns from, and the loss.

The ``distillation`` recipe (`studio.train.recipes.distillation`) trains the
student on ``alpha·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1 − alpha)·CE(s, y)``
(Hinton et al. 2015): T softens both distributions so the teacher's ranking
of the wrong classes carries information, and T² keeps the soft term's
gradients at the scale of the hard one's whatever T is. The teacher is a
project file (``training.teacher``; another network of the student's own file
through ``teacher_network``) with trained weights (``teacher_weights``, else
the weights an ensemble project remembers, else the teacher project's own
``init_weights``); it runs in eval mode, frozen,
with no gradients.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from studio.errors import StudioError, TrainingError


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, hard_loss: torch.Tensor,
                      temperature: float, alpha: float) -> torch.Tensor:
    """``alpha·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − alpha)·hard_loss``.

    The KL divergence is summed over classes and averaged over the samples (``batchmean``).
    """
    soft = F.kl_div(F.log_softmax(student / temperature, dim=1), F.log_softmax(teacher / temperature, dim=1),
                    reduction="batchmean", log_target=True)
    return alpha * temperature ** 2 * soft + (1 - alpha) * hard_loss


def load_teacher(path: str, network: str = "", weights: str = "") -> nn.Module:
    """The teacher network of the project file at `path`, with its trained weights, frozen, in eval mode.

    Raises:
        TrainingError: the file, network or weights cannot be used (the message names the setting).
    """
    # Building the teacher draws random initial weights: from a forked generator, so the student's
    # dropout and augmentation draw what a run on the labels alone with the same seed draws.
    with torch.random.fork_rng(devices=[]):
        return _teacher(path, network, weights)


def _teacher(path: str, network: str, weights: str) -> nn.Module:
    from studio.compile import compile_network
    from studio.compile.weights import apply_initial_weights, apply_weights, load_weights
    from studio.graph import io
    from studio.train.ensemble import ensemble_weights
    from studio.train.project_run import training_copy

    try:
        project = io.load(path)
        copy = training_copy(project, project.training or {})
        net = copy.network(network or None)
        model = compile_network(copy, net.name)
        weights = weights or ensemble_weights(project, path)  # an ensemble knows its own weights
        if weights:
            apply_weights(model, load_weights(copy, weights, net.name), strict=True)
        elif apply_initial_weights(model, copy, net.name, base=Path(path).parent) is None:
            raise TrainingError(f"training.teacher_weights: the teacher '{net.name}' in {path} has no trained "
                                "weights; give its final.pt (--teacher-weights CKPT)")
    except TrainingError:
        raise
    except StudioError as exc:
        raise TrainingError(f"training.teacher: {exc}") from None
    model.eval()
    model.requires_grad_(False)
    return model
