"""An ensemble of trained networks as one project, so it exports like any other network.

`build_ensemble(members)` makes a project with one network: one Input, one
Block node per member (its network copied into a block definition, its own
blocks alongside), and the step that averages them. For classifiers each
member's scores become log-probabilities (LogSoftmax), and the mean of the
probabilities is taken in log space, without underflow: LogSumExp over the
stacked members minus log N. The Output therefore holds log-probabilities,
which every loss, metric and export takes as scores (softmax gives back the
mean probability exactly). For regression the members' values are averaged
(Stack, Mean). The weights come back as one state_dict, each member's under
its Block node's name; `save_ensemble` writes the project file and the
weights beside it, ready for ``studio export FILE --weights W.pt``.

Members must share the input shape and the output size. A classifiers'
ensemble can vote instead (``method="vote"``, ``studio evaluate --vote
--save-ensemble``): the stacked log-probabilities go through a Vote node,
whose output is the log of each class's share of the votes, ties to the
higher mean probability, as `studio.train.eval_metrics.combine` votes.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from studio import catalog
from studio.compile import compile_network
from studio.compile.weights import apply_weights, load_weights
from studio.errors import StudioError
from studio.files import write_atomic
from studio.graph import Network, Project, io
from studio.graph.footprint import tensor_bytes
from studio.graph.subgraph import copy_data, paste
from studio.train.evaluate import Member
from studio.train.project_run import PROJECT_KEYS, classes_output, training_copy


def build_ensemble(members: list[Member], name: str = "ensemble",
                   method: str = "mean") -> tuple[Project, dict[str, torch.Tensor]]:
    """The ensemble project of `members` and its weights (see the module docstring).

    Args:
        method: "mean" (of the probabilities, or of the values) or "vote" (classifiers only).

    Raises:
        StudioError: fewer than two members, members that do not fit together, a vote of
            regressions, or bad weights.
    """
    if len(members) < 2:
        raise StudioError("an ensemble needs at least two members (give --weights twice or more)")
    copies = [training_copy(m.project, m.project.training or {}) for m in members]
    project = _empty_like(members[0].project, name, method)
    net = project.add_network("main")
    shape, in_name = _input_of(copies[0].network())
    classes = _classes(copies[0])
    if method == "vote" and classes is None:
        raise StudioError("a vote needs classifiers; average the members of a regression instead (drop --vote)")
    image = net.add_node(catalog.INPUT, in_name, {"shape": list(shape)}, (0.0, 0.0))
    heads = []
    for i, copy in enumerate(copies):
        own = _input_of(copy.network())[0]
        if own != shape:
            raise StudioError(f"member {i + 1} ({members[i].weights}) takes inputs of shape {own}, the first "
                              f"{shape}; an ensemble's members share one Input")
        heads.append(_add_member(project, net, copy, i, image, classes))
    _add_mean(net, heads, classes, method)
    return project, _weights(project, members, copies)


def save_ensemble(project: Project, weights: dict[str, torch.Tensor], path: str | Path) -> Path:
    """Writes the ensemble project to `path` and its weights beside it (same name, ``.pt``); the weights' path."""
    path = Path(path)
    weights_path = path.with_suffix(".pt")
    if weights_path == path:
        raise StudioError(f"{path}: name the ensemble's project file with .json; its weights go in {path.stem}.pt")
    io.save(project, path)
    write_atomic(weights_path, lambda f: torch.save(weights, f), what="the ensemble's weights",
                 size=tensor_bytes(weights))
    return weights_path


def _empty_like(source: Project, name: str, method: str) -> Project:
    """A new project with the source's data and training settings (not those that describe its network)."""
    project = Project(name)
    project.data = dict(source.data)
    project.training = {k: v for k, v in (source.training or {}).items() if k not in PROJECT_KEYS}
    what = "a majority vote of its members" if method == "vote" else "the mean of its members' probabilities"
    project.metadata = {"title": name, "description": f"An ensemble: {what}."}
    return project


def _input_of(net: Network) -> tuple[tuple[int, ...], str]:
    inputs = [n for n in net.iter_nodes() if n.role == "input"]
    outputs = [n for n in net.iter_nodes() if n.role == "output"]
    if len(inputs) != 1 or len(outputs) != 1:
        raise StudioError(f"network '{net.name}' has {len(inputs)} Inputs and {len(outputs)} Outputs; "
                          "an ensemble member needs one of each")
    return tuple(inputs[0].params.get("shape", [])), inputs[0].name


def _classes(project: Project) -> int | None:
    found = classes_output(project, project.training or {})
    return found[1].params["classes"] if found else None


def _add_member(project: Project, net: Network, member: Project, i: int, image: str, classes: int | None) -> str:
    """The member's network as block ``member{i}`` (its blocks copied too), wired to the Input; its head's id."""
    for block in member.blocks.values():
        _copy_block(project, block.name, block.network, block.params)
    source = member.network()
    block = _copy_block(project, f"member{i}", source, {"classes": classes} if classes is not None else {})
    params = {"block": block, **({"classes": classes} if classes is not None else {})}
    node = net.add_node("Block", f"member{i}", params, (300.0, 160.0 * i))
    inputs, outputs = project.block(block).ports()
    net.connect(image, "out", node, inputs[0])
    if classes is None:
        return node
    log = net.add_node("LogSoftmax", f"log_probs{i}", {"dim": 1}, (560.0, 160.0 * i))
    net.connect(node, outputs[0], log, "in")
    return log


def _copy_block(project: Project, name: str, source: Network, params: dict) -> str:
    """Adds a block definition holding `source`'s nodes (kept when one of that name and content exists)."""
    data = copy_data(source, list(source.nodes))
    if name in project.blocks:
        existing = project.blocks[name]
        if copy_data(existing.network, list(existing.network.nodes)) != data or existing.params != params:
            raise StudioError(f"two members define different blocks called '{name}'; rename one of them")
        return name
    block = project.add_block(name, params)
    paste(block.network, data, offset=(0.0, 0.0))
    return name


def _add_mean(net: Network, heads: list[str], classes: int | None, method: str = "mean") -> None:
    """Stack the members' heads and average them (in log space for probabilities, plainly for values) or vote."""
    n = len(heads)
    stack = net.add_node("Stack", "members", {"inputs": n, "dim": 1}, (820.0, 0.0))
    for i, head in enumerate(heads):
        net.connect(head, "out", stack, f"in{i}")
    if classes is None:
        mean = net.add_node("Mean", "mean", {"dim": 1}, (1080.0, 0.0))
        net.connect(stack, "out", mean, "in")
        net.connect(mean, "out", net.add_node(catalog.OUTPUT, "prediction", {}, (1340.0, 0.0)), "in")
        return
    if method == "vote":
        vote = net.add_node("Vote", "vote", {}, (1080.0, 0.0))
        net.connect(stack, "out", vote, "in")
        net.connect(vote, "out", net.add_node(catalog.OUTPUT, "log_shares", {"classes": classes}, (1340.0, 0.0)), "in")
        return
    total = net.add_node("LogSumExp", "log_sum", {"dim": 1}, (1080.0, 0.0))
    mean = net.add_node("ScalarOp", "log_mean", {"op": "add", "value": -math.log(n)}, (1340.0, 0.0))
    out = net.add_node(catalog.OUTPUT, "log_probs", {"classes": classes}, (1600.0, 0.0))
    net.connect(stack, "out", total, "in")
    net.connect(total, "out", mean, "in")
    net.connect(mean, "out", out, "in")


def _weights(project: Project, members: list[Member], copies: list[Project]) -> dict[str, torch.Tensor]:
    """One state_dict: member i's weights (checked strictly against its own network) under ``member{i}.``."""
    expected = compile_network(project).state_dict()
    state = {}
    for i, (member, copy) in enumerate(zip(members, copies)):
        model = compile_network(copy, copy.network().name)
        apply_weights(model, load_weights(copy, member.weights, copy.network().name), strict=True)
        state.update({f"member{i}.{k}": v for k, v in model.state_dict().items()})
    if state.keys() != expected.keys():
        raise StudioError("the ensemble's layers do not line up with its members' weights; "
                          "report this with the project files")
    return state
