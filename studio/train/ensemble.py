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

import itertools
import json
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
from studio.graph.layout import flow_of, layered
from studio.graph.subgraph import copy_data, paste
from studio.train.evaluate import Member
from studio.train.project_run import PROJECT_KEYS, classes_output, training_copy
from studio.train.run_copy import load_run_project

ENSEMBLE_KEY = "ensemble"  # the project metadata that makes a project an ensemble of known members


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
    image = net.add_node(catalog.INPUT, in_name, {"shape": list(shape)})
    heads = []
    for i, copy in enumerate(copies):
        own = _input_of(copy.network())[0]
        if own != shape:
            raise StudioError(f"member {i + 1} ({members[i].weights}) takes inputs of shape {own}, the first "
                              f"{shape}; an ensemble's members share one Input")
        heads.append(_add_member(project, net, copy, i, image, classes))
    _add_mean(net, heads, classes, method)
    for nid, pos in layered(net, flow_of(project)).items():  # the members side by side, data flowing as theirs
        net.move(nid, pos)
    return project, _weights(project, members, copies)


def save_ensemble(project: Project, weights: dict[str, torch.Tensor], path: str | Path,
                  members: list[dict] = ()) -> Path:
    """Writes the ensemble project to `path` and its weights beside it (same name, ``.pt``); the weights' path.

    The project remembers its weights and `members` (`member_record`, or ``{"run": folder, "label", "root"}``
    for a run) in ``metadata["ensemble"]``, so the window's Test tab evaluates it beside them (`ensemble_source`).
    """
    path = Path(path)
    weights_path = path.with_suffix(".pt")
    if weights_path == path:
        raise StudioError(f"{path}: name the ensemble's project file with .json; its weights go in {path.stem}.pt")
    project.metadata[ENSEMBLE_KEY] = {"weights": weights_path.name, "members": list(members)}
    io.save(project, path)
    write_atomic(weights_path, lambda f: torch.save(weights, f), what="the ensemble's weights",
                 size=tensor_bytes(weights))
    return weights_path


def member_record(project_file: str | Path, weights: str | Path) -> dict:
    """How an ensemble project remembers a member trained from `project_file` (absolute paths)."""
    return {"project": str(Path(project_file).resolve()), "weights": str(Path(weights).resolve()),
            "label": Path(weights).name}


def ensemble_source(project: Project, path: Path | None) -> tuple[Path, list[Member]] | None:
    """An ensemble project's weights and members (from ``metadata["ensemble"]``); None for other projects.

    The members are [] when a member's files were moved or deleted: the ensemble then evaluates alone.
    """
    weights = ensemble_weights(project, path)
    if weights is None:
        return None
    try:
        members = [_member(m) for m in project.metadata[ENSEMBLE_KEY].get("members", [])]
    except (StudioError, KeyError, TypeError, AttributeError):
        members = []
    return weights, members


def ensemble_weights(project: Project, path: str | Path | None) -> Path | None:
    """The weights file an ensemble project saved at `path` remembers; None for other projects."""
    found = (getattr(project, "metadata", None) or {}).get(ENSEMBLE_KEY)
    if path is None or not isinstance(found, dict) or not isinstance(found.get("weights"), str):
        return None
    return Path(path).parent / found["weights"]


def _member(record: dict) -> Member:
    """A member remembered as a run's folder or as a project file and its weights."""
    if "run" in record:
        root = Path(record["root"]) if record.get("root") else None
        return Member(load_run_project(record["run"]), Path(record["run"]) / "final.pt", root)
    if not Path(record["weights"]).is_file():
        raise StudioError(f"{record['weights']}: no such file")
    return Member(io.load(record["project"]), Path(record["weights"]), Path(record["project"]).parent)


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


def _add_member(project: Project, net: Network, member: Project, i: int, image: str,
                classes: int | None) -> tuple[str, str]:
    """The member's network as block ``member{i}`` (its blocks copied too), wired to the Input; its head's
    (node id, output port)."""
    for block in member.blocks.values():
        _copy_block(project, block.name, block.network, block.params)
    source = member.network()
    block = _copy_block(project, f"member{i}", source, {"classes": classes} if classes is not None else {})
    params = {"block": block, **({"classes": classes} if classes is not None else {})}
    node = net.add_node("Block", f"member{i}", params)
    inputs, outputs = project.block(block).ports()
    net.connect(image, "out", node, inputs[0])
    if classes is None:
        return node, outputs[0]
    log = net.add_node("LogSoftmax", f"log_probs{i}", {"dim": 1})
    net.connect(node, outputs[0], log, "in")
    return log, "out"


def _copy_block(project: Project, name: str, source: Network, params: dict) -> str:
    """Adds a block definition holding `source`'s nodes (kept when one of that name and content exists)."""
    if name in project.blocks:
        existing = project.blocks[name]
        if _definition(existing.network) != _definition(source) or existing.params != params:
            raise StudioError(f"two members define different blocks called '{name}'; rename one of them")
        return name
    block = project.add_block(name, params)
    paste(block.network, copy_data(source, list(source.nodes)), offset=(0.0, 0.0))
    return name


def _definition(net: Network) -> tuple[list, list]:
    """What a block computes, by node names: pasting a copy renumbers node ids and placement does not count."""
    names = {nid: node.name for nid, node in net.nodes.items()}
    nodes = sorted((n.name, n.type, json.dumps(n.params, sort_keys=True)) for n in net.iter_nodes())
    return nodes, sorted((names[e.src], e.src_port, names[e.dst], e.dst_port) for e in net.edges)


def _add_mean(net: Network, heads: list[tuple[str, str]], classes: int | None, method: str = "mean") -> None:
    """Stack the members' heads and average them (in log space for probabilities, plainly for values) or vote."""
    n = len(heads)
    stack = net.add_node("Stack", "members", {"inputs": n, "dim": 1})
    for i, (head, port) in enumerate(heads):
        net.connect(head, port, stack, f"in{i}")
    if classes is None:
        mean = net.add_node("Mean", "mean", {"dim": 1})
        net.connect(stack, "out", mean, "in")
        net.connect(mean, "out", net.add_node(catalog.OUTPUT, "prediction", {}), "in")
        return
    if method == "vote":
        vote = net.add_node("Vote", "vote", {})
        net.connect(stack, "out", vote, "in")
        net.connect(vote, "out", net.add_node(catalog.OUTPUT, "log_shares", {"classes": classes}), "in")
        return
    total = net.add_node("LogSumExp", "log_sum", {"dim": 1})
    mean = net.add_node("ScalarOp", "log_mean", {"op": "add", "value": -math.log(n)})
    out = net.add_node(catalog.OUTPUT, "log_probs", {"classes": classes})
    net.connect(stack, "out", total, "in")
    net.connect(total, "out", mean, "in")
    net.connect(mean, "out", out, "in")


def _weights(project: Project, members: list[Member], copies: list[Project]) -> dict[str, torch.Tensor]:
    """One state_dict: member i's weights (checked strictly against its own network) under ``member{i}.``."""
    expected = compile_network(project).state_dict()
    states = []
    for member, copy in zip(members, copies):
        model = compile_network(copy, copy.network().name)
        apply_weights(model, load_weights(copy, member.weights, copy.network().name), strict=True)
        states.append(model.state_dict())
    _refuse_twins(states, members)
    state = {f"member{i}.{k}": v for i, s in enumerate(states) for k, v in s.items()}
    if state.keys() != expected.keys():
        raise StudioError("the ensemble's layers do not line up with its members' weights; "
                          "report this with the project files")
    return state


def _refuse_twins(states: list[dict[str, torch.Tensor]], members: list[Member]) -> None:
    """Refuses members with the very same weights (runs with the same settings and seed): their
    ensemble is each of them, so it cannot beat them."""
    for (i, a), (j, b) in itertools.combinations(enumerate(states), 2):
        if a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a):
            raise StudioError(f"members {i + 1} and {j + 1} ({members[i].weights}, {members[j].weights}) have "
                              "the same weights, so their ensemble would be each of them: train the runs with "
                              "different seeds (training.seed)")
