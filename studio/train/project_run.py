"""From a project to a training run: the models to train and the data to train them on.

A project's "training" section may carry ``input_shape``: the size it trains
at by default (a ResNet preset is defined at 3×224×224 but trains on the
built-in digits at 3×32×32), and ``classes``: the class count to train with
(``studio train --classes N``; an ImageNet preset's 1000 on the 10-class
digits becomes 10). Training then compiles a copy of the network with its
Input set to that shape and its first Output to that many classes; the
project itself is never changed.

Which network plays which role is the recipe's to say (its ``roles``): a
recipe with the one role "model" trains the project's first network; a recipe
with several roles (the GAN's "generator" and "discriminator") trains the
networks named after them. The data is shaped for the Input of the recipe's
``data_role`` network (the discriminator for a GAN; the first network
otherwise), and ``input_shape`` applies to that network. Each compiled
module's placeholders carry their Input's sample shape in
``node.meta["sample_shape"]``, so a recipe can make inputs of its own (a GAN's
noise).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import fx, nn

from studio import catalog
from studio.compile import compile_network
from studio.compile.freeze import FROZEN_KEY, apply_frozen, set_frozen
from studio.compile.weights import apply_initial_weights
from studio.data import DataSplits, load_data
from studio.errors import TrainingError
from studio.graph import Network, Node, Project, io
from studio.graph.analysis import Analyzer, Report
from studio.graph.footprint import training_bytes
from studio.system import free_device_memory, require_memory
from studio.train.config import TrainConfig
from studio.train.devices import resolve_device
from studio.train.recipes import RECIPES, make_recipe

# Training keys that describe the project, not the optimisation.
PROJECT_KEYS = ("input_shape", "frozen", "init_weights", "classes")


def training_copy(project: Project, training: dict) -> Project:
    """The project as it trains: a copy with ``training``'s Input shape, class count and frozen layers applied."""
    shape = training.get("input_shape")
    copy = io.from_dict(io.to_dict(project), f"project '{project.name}'")
    copy.training = {k: v for k, v in training.items() if k != FROZEN_KEY}
    if FROZEN_KEY in training:  # `--set frozen=[...]` names them
        set_frozen(copy, training[FROZEN_KEY])
    if training.get("classes") is not None:
        set_classes(copy, training, training["classes"])
    if shape is None:
        return copy
    net = data_network(copy, training)
    inputs = net.inputs()
    if len(inputs) != 1:
        raise TrainingError(f"training.input_shape needs a network with one Input; '{net.name}' has {len(inputs)}")
    net.set_params(inputs[0].id, {"shape": list(shape)})
    return copy


def classes_output(project: Project, training: dict) -> tuple[Network, Node] | None:
    """The network and Output whose ``classes`` a run may set: the data network's first Output that has them."""
    net = data_network(project, training)
    node = next((n for n in net.iter_nodes() if n.role == "output" and n.params.get("classes") is not None), None)
    return (net, node) if node is not None else None


def set_classes(project: Project, training: dict, classes: int) -> None:
    """Sets the class count of `project`'s data network (its layers' ``$classes`` follow)."""
    found = classes_output(project, training)
    if found is None:
        net = data_network(project, training)
        raise TrainingError(f"training.classes: network '{net.name}' has no Output with a class count to set; "
                            "set 'classes' on its Output node first")
    if not isinstance(classes, int) or isinstance(classes, bool) or classes < 1:
        raise TrainingError(f"training.classes: {classes!r} is not a whole number of classes above 0")
    found[0].set_params(found[1].id, {"classes": classes})


def recipe_roles(training: dict) -> tuple[tuple[str, ...], str | None]:
    """The roles of the recipe ``training`` names and its data role (None: the first network)."""
    name = training.get("recipe", "supervised")
    if name not in RECIPES:  # TrainConfig reports the unknown name with the allowed ones
        return ("model",), None
    recipe = make_recipe(name)
    return tuple(recipe.roles), getattr(recipe, "data_role", None)


def role_networks(project: Project, training: dict) -> dict[str, Network]:
    """Role -> the network that plays it: "model" is the first network, other roles their namesakes."""
    roles, _ = recipe_roles(training)
    if roles == ("model",):
        return {"model": project.network()}
    missing = [r for r in roles if r not in project.networks]
    if missing:
        recipe = training.get("recipe")
        raise TrainingError(
            f"the {recipe} recipe trains networks named {', '.join(roles)}; this project has no network "
            f"'{missing[0]}' (it has: {', '.join(project.networks) or 'none'}); add or rename one")
    return {role: project.networks[role] for role in roles}


def data_network(project: Project, training: dict) -> Network:
    """The network whose Input the data feeds: the recipe's data role, else the first network."""
    _, role = recipe_roles(training)
    return role_networks(project, training)[role] if role else project.network()


def input_shape(project: Project) -> tuple[int, ...]:
    """The shape of the (single) Input node of the network the data feeds."""
    net = data_network(project, project.training or {})
    inputs = net.inputs()
    if not inputs:
        raise TrainingError(f"network '{net.name}' has no Input node to train on")
    return _sample_shape(inputs[0])


def models_for(project: Project, training: dict, base: Path | None = None) -> dict[str, nn.Module]:
    """Role -> compiled network: {"model": the first network} for supervised runs.

    Weights named by ``init_weights`` (relative to `base`, the project's folder)
    are loaded where names and shapes match, and frozen nodes are frozen. The
    random initial weights come from ``training["seed"]`` (0 by default), so
    two runs with the same settings start from the same weights.
    """
    torch.manual_seed(int(training.get("seed", TrainConfig.seed)))
    copy = training_copy(project, training)
    models = {}
    analyzer = Analyzer(copy)
    for role, net in role_networks(copy, training).items():
        _check_room(analyzer.analyse(net.name), training)
        model = compile_network(copy, net.name, analyzer)
        apply_initial_weights(model, copy, net.name, base=base)
        apply_frozen(model, copy, net.name)
        _note_sample_shapes(model, net)
        models[role] = model
    return models


def check_room(project: Project, training: dict) -> None:
    """NoRoomError when a training step of one of the project's networks cannot fit (nothing is built)."""
    copy = training_copy(project, training)
    analyzer = Analyzer(copy)
    for net in role_networks(copy, training).values():
        _check_room(analyzer.analyse(net.name), training)


def _check_room(report: Report, training: dict) -> None:
    """NoRoomError before anything is allocated when a training step of this network cannot fit."""
    config = TrainConfig.from_dict(optimiser_settings(training))
    device = resolve_device(config.device)
    needed = training_bytes(report, config.batch_size, config.optimizer)
    what = f"training network '{report.network}' ({report.total_params:,} parameters, batch of {config.batch_size})"
    advice = "make the network or the batch smaller (--set batch_size=N)"
    if device.type == "cuda":
        require_memory(needed, what, advice, free=free_device_memory(device), where=f"memory on {device}")
    else:
        require_memory(needed, what, advice)


def _sample_shape(node: Node) -> tuple[int, ...]:
    """The shape of one sample an Input node takes (its own, or the catalog's default)."""
    return tuple(catalog.get(node.type).with_defaults(node.params)["shape"])


def _note_sample_shapes(model: fx.GraphModule, net: Network) -> None:
    """Record each Input's sample shape on its placeholder (``meta["sample_shape"]``)."""
    shapes = [_sample_shape(n) for n in net.inputs()]
    placeholders = [n for n in model.graph.nodes if n.op == "placeholder"]
    for node, shape in zip(placeholders, shapes):
        node.meta["sample_shape"] = shape


def data_for(project: Project, training: dict, data: dict, root: Path | None = None) -> DataSplits:
    """The data, shaped for the network's Input as it trains.

    A recipe that trains in an environment (its ``environment`` attribute is
    true: the RL recipes) loads no dataset: it gets `studio.train.rl_env.environment_data`.
    """
    name = training.get("recipe", "supervised")
    if name in RECIPES and getattr(make_recipe(name), "environment", False):
        from studio.train.rl_env import environment_data

        return environment_data(training)
    return load_data(data, input_shape(training_copy(project, training)), root=root)


def optimiser_settings(training: dict) -> dict:
    """The training section without the keys that describe the project."""
    return {k: v for k, v in training.items() if k not in PROJECT_KEYS}


def build_models(project: str, training: dict | None = None) -> dict[str, nn.Module]:
    """Worker entry for distributed runs: the models of the project file at `project`."""
    loaded = io.load(project)
    return models_for(loaded, loaded.training if training is None else training, base=Path(project).parent)
