"""From a project to a training run: the models to train and the data to train them on.

A project's "training" section may carry ``input_shape``: the size it trains
at by default (a ResNet preset is defined at 3×224×224 but trains on the
built-in digits at 3×32×32). Training then compiles a copy of the network with
its Input set to that shape; the project itself is never changed.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from studio.compile import compile_network
from studio.compile.freeze import apply_frozen
from studio.data import DataSplits, load_data
from studio.errors import TrainingError
from studio.graph import Project, io

# Training keys that describe the project, not the optimisation.
PROJECT_KEYS = ("input_shape", "frozen")


def training_copy(project: Project, training: dict) -> Project:
    """The project as it trains: a copy with the Input shape of ``training["input_shape"]`` applied."""
    shape = training.get("input_shape")
    copy = io.from_dict(io.to_dict(project), f"project '{project.name}'")
    copy.training = dict(training)
    if shape is None:
        return copy
    net = copy.network()
    inputs = [n for n in net.nodes.values() if n.type == "Input"]
    if len(inputs) != 1:
        raise TrainingError(f"training.input_shape needs a network with one Input; '{net.name}' has {len(inputs)}")
    net.set_params(inputs[0].id, {"shape": list(shape)})
    return copy


def input_shape(project: Project) -> tuple[int, ...]:
    """The shape of the first network's (single) Input node."""
    node = next((n for n in project.network().nodes.values() if n.type == "Input"), None)
    if node is None:
        raise TrainingError(f"network '{project.network().name}' has no Input node to train on")
    return tuple(node.params.get("shape", [1, 28, 28]))


def models_for(project: Project, training: dict) -> dict[str, nn.Module]:
    """The models a supervised run trains: {"model": the compiled first network}, frozen nodes frozen."""
    copy = training_copy(project, training)
    model = compile_network(copy)
    apply_frozen(model, copy)
    return {"model": model}


def data_for(project: Project, training: dict, data: dict, root: Path | None = None) -> DataSplits:
    """The data, shaped for the network's Input as it trains."""
    return load_data(data, input_shape(training_copy(project, training)), root=root)


def optimiser_settings(training: dict) -> dict:
    """The training section without the keys that describe the project."""
    return {k: v for k, v in training.items() if k not in PROJECT_KEYS}


def build_models(project: str, training: dict | None = None) -> dict[str, nn.Module]:
    """Worker entry for distributed runs: the models of the project file at `project`."""
    loaded = io.load(project)
    return models_for(loaded, loaded.training if training is None else training)
