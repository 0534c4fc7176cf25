"""Freezing layers: nodes whose parameters training leaves alone.

A layer's catalog parameters are its module's constructor arguments, so
"frozen" is not one of them: it is a mark on the node kept by the project
(`Project.set_frozen`, by node id), and the file names the frozen layers in
``training["frozen"]`` (see `studio.graph.frozen`)::

    "training": {"frozen": ["conv1", "stage", "generator/fc1"]}

A frozen Block node freezes the whole block. `apply_frozen` sets
``requires_grad=False`` on those submodules of a compiled model, so an
optimizer built on the parameters that require grad leaves them out;
`trainable_count` gives the summary's "trainable" figure without building
anything.
"""

from __future__ import annotations

from torch import nn

from studio.compile.fx import attribute_names
from studio.graph.analysis import Analyzer
from studio.graph.frozen import FROZEN_KEY, freeze_by_name
from studio.graph.project import Project
from studio.graph.summary import trainable_params

__all__ = ["FROZEN_KEY", "apply_frozen", "frozen_nodes", "set_frozen", "trainable_count"]


def frozen_nodes(project: Project, network: str | None = None) -> list[str]:
    """Ids of the frozen nodes of a network, in the network's order."""
    net = project.network(network)
    frozen = project.frozen_ids(net.name)
    return [nid for nid in net.nodes if nid in frozen]


def set_frozen(project: Project, node_names: list[str]) -> None:
    """Freezes exactly the layers named (see `studio.graph.frozen`); GraphError for a name that names none."""
    freeze_by_name(project, node_names)


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
    return trainable_params((analyzer or Analyzer(project)).analyse(net.name), project.frozen_ids(net.name))
