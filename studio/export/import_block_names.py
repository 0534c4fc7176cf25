"""Names the importer gives blocks and the nodes in them (`studio.export.import_blocks`).

A block is named after its module's class (``DenseLayer``), or for a
container after its attribute (``Features``); a node inside after its path
past the block's (``conv1``; ``conv2d_0`` for a Sequential's ``0``).
"""

from __future__ import annotations

import re

from torch import nn

from studio.catalog import BLOCK_TYPE
from studio.compile.fx import class_name_for
from studio.export.import_trace import Call
from studio.graph import io
from studio.graph.network import Network
from studio.graph.project import Project

CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


def natural(path: str) -> list:
    """A sort key that puts layer2 before layer10."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", path) if p]


def block_base(call: Call) -> str:
    """A block's name: its module's class (DenseLayer), or for a Sequential, its attribute (Features)."""
    cls = type(call.module)
    return class_name_for(call.path.rsplit(".", 1)[-1] if cls in CONTAINERS else cls.__name__.lstrip("_"))


def renamed_blocks(project: Project, names: dict[str, str]) -> Project:
    """The project with its blocks renamed (old -> new), instances following (a freshly built project only)."""
    if not names:
        return project
    data = io.to_dict(project)
    data["blocks"] = {names.get(k, k): v for k, v in data["blocks"].items()}
    for net in [*data["networks"].values(), *(b["network"] for b in data["blocks"].values())]:
        for node in net["nodes"]:
            if node["type"] == BLOCK_TYPE:
                node["params"]["block"] = names.get(node["params"]["block"], node["params"]["block"])
    return io.from_dict(data)


def free_name(net: Network, name: str) -> str:
    """`name` when it is a valid node name not in use in `net` (``_conv_stem`` keeps its underscore), else a
    unique one made from it."""
    try:
        net.by_name(name)
    except Exception:
        if re.fullmatch(r"[A-Za-z_]\w*", name):
            return name
    return net.unique_name(name)


def relative_name(path: str, scope: str, kind: str) -> str:
    """A node's name inside the scope at `scope`: its path past the scope, dots as underscores
    (``0`` in a Sequential: ``conv2d_0``, `kind` first)."""
    rel = path[len(scope) + 1:] if scope and path.startswith(scope + ".") else path
    name = re.sub(r"\W", "_", rel)
    return f"{kind}_{name}" if name[:1].isdigit() else name
