"""Freezing layers: a project-level list of nodes whose parameters training leaves alone.

A layer's catalog parameters are its module's constructor arguments, so
"frozen" is not one of them; it lives in the training settings::

    project.training["frozen"] = ["conv1", "stage", "generator/fc1"]

An entry is a node name (a layer, or a block instance: the whole block is
frozen) of any network that has such a node, or ``network/node`` for one
network only. `apply_frozen` sets ``requires_grad=False`` on those
submodules of a compiled model, so an optimizer built on the parameters that
require grad leaves them out; `trainable_count` gives the summary's
"trainable" figure without building anything.
"""

from __future__ import annotations

from torch import nn

from studio.compile.fx import attribute_names
from studio.errors import StudioError
from studio.graph.analysis import Analyzer
from studio.graph.project import Project

FROZEN_KEY = "frozen"


def frozen_nodes(project: Project, network: str | None = None) -> list[str]:
    """Ids of the frozen nodes of a network; StudioError for an entry no network has."""
    entries = project.training.get(FROZEN_KEY) or []
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise StudioError(f"project '{project.name}': training setting 'frozen' must be a list of node names, "
                          f"got {entries!r}")
    net = project.network(network)
    by_name = {n.name: n.id for n in net.nodes.values()}
    ids = []
    for entry in entries:
        where, _, name = entry.rpartition("/")
        if where and where not in project.networks:
            raise StudioError(f"project '{project.name}': frozen entry '{entry}' names no network "
                              f"(networks: {', '.join(project.networks)}); fix training.frozen")
        if not where and not any(name in {n.name for n in other.nodes.values()}
                                 for other in project.networks.values()):
            raise StudioError(f"project '{project.name}': frozen entry '{entry}' names no node; "
                              f"remove it from training.frozen or rename it")
        if where and name not in {n.name for n in project.networks[where].nodes.values()}:
            raise StudioError(f"project '{project.name}': frozen entry '{entry}': network '{where}' "
                              f"has no node '{name}'; fix training.frozen")
        if where in ("", net.name) and name in by_name:
            ids.append(by_name[name])
    return ids


def set_frozen(project: Project, node_names: list[str]) -> None:
    """Replaces the frozen list (sends the project's settings_changed("training"))."""
    project.set_settings("training", {**project.training, FROZEN_KEY: list(node_names)})


def apply_frozen(model: nn.Module, project: Project, network: str | None = None) -> list[str]:
    """Sets requires_grad False on the frozen nodes' parameters (True on the others); their names."""
    net = project.network(network)
    names = attribute_names(net)
    frozen = {names[i] for i in frozen_nodes(project, net.name)}
    done = []
    for attr, child in model.named_children():
        off = attr in frozen
        for pname, p in child.named_parameters():
            p.requires_grad_(not off)
            if off:
                done.append(f"{attr}.{pname}")
    return done


def trainable_count(project: Project, network: str | None = None, analyzer: Analyzer | None = None) -> int:
    """Parameters training updates: the network's trainable ones less those of frozen nodes."""
    net = project.network(network)
    report = (analyzer or Analyzer(project)).analyse(net.name)
    frozen = set(frozen_nodes(project, net.name))
    return sum(r.trainable for nid, r in report.nodes.items() if nid not in frozen)
