"""What a compression works on: the project as it trained, its weights, its data, and how to measure a model.

The project is taken as `studio train` trained it (`training_copy`: the
training Input shape, the class count settled as the run settles it), so the
weights a run wrote fit it. Only classifiers trained with the supervised
recipe are compressed: accuracy is the figure that says what was lost.
"""

from __future__ import annotations

import io as bytes_io
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import fx, nn

from studio.compile import compile_network
from studio.compile.weights import apply_weights, load_weights
from studio.compress.measure import Figures, figures
from studio.data import DataSplits
from studio.errors import StudioError
from studio.graph import Project
from studio.graph.analysis import Analyzer, Report
from studio.train.evaluate import PREDICTING_RECIPES
from studio.train.preflight import prepare_run
from studio.train.project_run import data_for, training_copy


@dataclass
class Subject:
    """A trained classifier ready to compress.

    Attributes:
        project: the project as it trains (a copy; the user's is never changed).
        network: the network's name.
        state: its trained weights (the compiled module's keys).
        splits: the project's data.
        training: the training section the run used.
        root: the project's folder (relative data paths).
        repeats: timed calls per latency figure.
    """

    project: Project
    network: str
    state: dict[str, torch.Tensor]
    splits: DataSplits
    training: dict
    root: Path | None = None
    repeats: int = 20
    notes: list[str] = field(default_factory=list)

    @property
    def held_out(self):
        """The test split when the data has one, else the validation split."""
        test = self.splits.test
        return test if test is not None and len(test) else self.splits.val

    @property
    def sample(self) -> torch.Tensor:
        """One input sample (for timing)."""
        return self.splits.train[0][0]

    def report(self, project: Project | None = None) -> Report:
        """The shape analysis of the network (of `project`, a compressed copy, when given)."""
        return Analyzer(project or self.project).analyse(self.network)

    def model(self, project: Project | None = None, state: dict | None = None) -> fx.GraphModule:
        """The compiled network in eval mode on the CPU with `state` (the trained weights by default)."""
        project = project or self.project
        model = compile_network(project, self.network)
        report = load_weights(project, self.state if state is None else state, self.network)
        apply_weights(model, report, strict=True)
        return model.eval()

    def torch_figures(self, model: nn.Module, report: Report, params: int | None = None) -> Figures:
        """Figures of a torch model: its state_dict's saved size, the analysis's parameters and FLOPs."""
        model = model.cpu().eval()
        return figures(model, self.held_out, self.sample, state_bytes(model.state_dict()),
                       report.total_params if params is None else params, report.flops, self.repeats)


def state_bytes(state: dict) -> int:
    """The size of `state` saved with torch.save."""
    buffer = bytes_io.BytesIO()
    torch.save(state, buffer)
    return buffer.tell()


def load_subject(project: Project, weights, root: Path | None = None, preset: bool = False) -> Subject:
    """The project as it trained, with `weights` (a file or a state_dict) loaded strictly, and its data.

    Raises:
        StudioError: not a supervised classifier, or the weights do not fit (naming --weights).
    """
    training, data = dict(project.training or {}), dict(project.data or {})
    if training.get("recipe", "supervised") not in PREDICTING_RECIPES:
        raise StudioError(f"compress works on classifiers trained with the supervised or distillation recipe; "
                          f"'{project.name}' trains with the {training['recipe']} recipe")
    splits = data_for(project, training, data, root)
    if splits.task != "classification":
        raise StudioError(f"compress works on classifiers; the data of '{project.name}' is for {splits.task}")
    training, notes = prepare_run(project, training, data, lambda: splits.num_classes, preset=preset)
    copy = training_copy(project, training)
    network = copy.network().name
    report = load_weights(copy, weights, network)
    if not report.ok:
        counts = report.summary(0).splitlines()[0].split(": ", 1)[-1]
        raise StudioError(f"--weights: {report.source or 'the weights'} do not fit network '{network}' of "
                          f"'{project.name}' as it trains ({counts});\n"
                          f"give the weights a run of this project wrote (final.pt, best.pt, last.pt)")
    return Subject(copy, network, report.state, splits, training, root, notes=notes)
