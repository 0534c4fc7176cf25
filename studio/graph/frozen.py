"""Frozen layers by name: how the project file and the command line name them.

In memory a frozen layer is a node id (`Project.set_frozen`), so renaming it
keeps it frozen. A file or ``--set frozen=[...]`` names them: a node name
(of any top-level network that has such a node) or ``network/node`` for one
network only. `frozen_names` writes the names, `freeze_by_name` reads them.
"""

from __future__ import annotations

from studio.errors import GraphError
from studio.graph.project import Project

FROZEN_KEY = "frozen"


def frozen_names(project: Project) -> list[str]:
    """The frozen layers as the file names them: ``node``, or ``network/node`` when there are several networks."""
    several = len(project.networks) > 1
    return [f"{net.name}/{node.name}" if several else node.name
            for net in project.networks.values()
            for node in net.nodes.values() if node.id in project.frozen_ids(net.name)]


def freeze_by_name(project: Project, names) -> None:
    """Makes exactly the layers `names` names frozen; GraphError for a name that names no layer."""
    if not isinstance(names, list) or not all(isinstance(e, str) for e in names):
        raise GraphError(f"training setting '{FROZEN_KEY}' must be a list of node names, got {names!r}")
    wanted = {(net, nid) for entry in names for net, nid in layers_named(project, entry)}
    for net in project.networks.values():
        for nid in net.nodes:
            project.set_frozen(net.name, nid, (net.name, nid) in wanted)


def layers_named(project: Project, entry: str) -> list[tuple[str, str]]:
    """(network, node id) of each layer a frozen entry names; GraphError when it names none."""
    where, _, name = entry.rpartition("/")
    if where and where not in project.networks:
        raise GraphError(f"frozen entry '{entry}' names no network (networks: {', '.join(project.networks)})")
    nets = [project.networks[where]] if where else list(project.networks.values())
    found = [(net.name, node.id) for net in nets for node in net.nodes.values() if node.name == name]
    if not found:
        raise GraphError(f"frozen entry '{entry}' names no layer: remove it from training.frozen or rename it")
    return found
