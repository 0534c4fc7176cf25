"""Unstructured magnitude pruning (torch.nn.utils.prune), and fine-tuning with the real Trainer.

Each Conv and Linear weight loses its `amount` smallest-magnitude entries
(per layer, so a small layer is not emptied by a large one). Fine-tuning
trains with the masks still in place, so the zeros stay zero; the masks are
then made permanent and the weights file holds plain tensors the same
project loads. The zeros make the file compress well, not the dense kernels
faster: the FLOPs stay, the non-zero parameters fall.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils import prune

from studio.compress.measure import Figures
from studio.compress.subject import Subject, state_bytes
from studio.errors import TrainingError
from studio.files import write_atomic
from studio.train.events import EpochEnded, RunFailed
from studio.train.project_run import optimiser_settings
from studio.train.run import run_training

PRUNABLE = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


def unstructured(subject: Subject, amount: float, epochs: int, out: Path,
                 progress=None) -> tuple[Figures, Figures, list[str]]:
    """Prunes `amount` of every Conv/Linear weight, fine-tunes `epochs`, writes the weights at `out`."""
    report = progress or (lambda step, fraction: None)
    analysis = subject.report()
    report("measuring the trained model", 0.05)
    model = subject.model()
    before = subject.torch_figures(model, analysis)
    layers = [m for m in model.modules() if isinstance(m, PRUNABLE)]
    for layer in layers:
        prune.l1_unstructured(layer, "weight", amount=amount)
    if epochs:
        finetune(subject, model, epochs, report)
    for layer in layers:
        prune.remove(layer, "weight")
    state = model.state_dict()
    report("saving", 0.9)
    write_atomic(out, lambda f: torch.save(state, f), what="the pruned weights", size=state_bytes(state))
    nonzero = sum(int(t.count_nonzero()) for t in model.parameters())
    after = subject.torch_figures(model, analysis, params=nonzero)
    after.size_bytes = out.stat().st_size
    zeros = 1 - nonzero / max(1, analysis.total_params)
    notes = [f"{zeros:.0%} of the parameters are zero; {out.name} loads into the same project "
             f"(studio export --weights {out.name})"]
    return before, after, notes


def finetune(subject: Subject, model: nn.Module, epochs: int, report=None) -> nn.Module:
    """Trains `model` for `epochs` on the project's data with its own settings (the Trainer); back on the CPU.

    Raises:
        TrainingError: the run failed (its message).
    """
    report = report or (lambda step, fraction: None)
    config = {**optimiser_settings(subject.training), "epochs": epochs}

    def on_event(event) -> None:
        if isinstance(event, EpochEnded):
            report(f"fine-tuning: epoch {event.epoch} of {epochs}", 0.5 + 0.35 * event.epoch / epochs)

    report(f"fine-tuning {epochs} epoch(s)", 0.5)
    with tempfile.TemporaryDirectory(prefix="studio-finetune-") as out:
        result = run_training({"model": model}, subject.splits, config, out, progress=False, callback=on_event)
    if isinstance(result, RunFailed):
        raise TrainingError(f"fine-tuning failed: {result.message}")
    return model.cpu().eval()
