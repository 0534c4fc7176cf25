"""Which sizes on a network's wires are symbolic: the batch `N` always, a sequence length `T` where free.

Exports keep every input's batch dimension dynamic, and a sequence's length
where the network takes other lengths (`studio.export.dims`); the canvas names
those sizes the same way, so a wire reads ``N×T×64`` where an export takes any
batch and any length, and ``N×10×64`` where the network fixes the length at 10.
`length_symbols` finds, for every node output, the dimensions that follow a free
length: analysed again with that length changed, they change with it.
"""

from __future__ import annotations

from studio import catalog
from studio.export.dims import Axis, _candidates, _Prober
from studio.graph.project import Project

Symbols = dict[tuple[str, str], dict[int, str]]  # (node id, output port) -> {dim after the batch: "T"}


def length_axes(project: Project, network: str) -> list[tuple[str, list[int], Axis]]:
    """(Input node id, its shape, axis) for every sequence length the network leaves free."""
    net = project.network(network)
    found, prober = [], None
    for node in net.iter_nodes():
        if node.role != "input":
            continue
        params = catalog.get(node.type).with_defaults(node.params)
        shape = list(params["shape"])
        for dim, label in _candidates(shape, params["dtype"]):
            if label != "length":
                continue
            prober = prober or _Prober(project, network)
            axis = Axis(node.name, node.name, dim, label, shape[dim - 1])
            prober.try_sizes(node.id, shape, axis)
            if axis.probe is not None:
                found.append((node.id, shape, axis))
    return found


def length_symbols(project: Project, network: str) -> Symbols:
    """The output dimensions of every node that follow a free sequence length ("T", then "T2", ...)."""
    axes = length_axes(project, network)
    if not axes:
        return {}
    prober = _Prober(project, network)
    base = prober.analyzer.analyse(network)
    out: Symbols = {}
    for k, (node_id, shape, axis) in enumerate(axes):
        name = "T" if k == 0 else f"T{k + 1}"
        changed = list(shape)
        changed[axis.dim - 1] = axis.probe
        net = prober.copy.network(network)
        net.set_params(node_id, {"shape": changed})
        try:
            other = prober.analyzer.analyse(network)
        finally:
            net.set_params(node_id, {"shape": shape})
        for nid, res in base.nodes.items():
            moved = other.nodes.get(nid)
            for port, dims in res.outputs.items():
                new = moved.outputs.get(port) if moved else None
                for i, (a, b) in enumerate(zip(dims, new or ())):
                    if a == axis.size and b == axis.probe and len(new) == len(dims):
                        out.setdefault((nid, port), {}).setdefault(i, name)
    return out


def symbolic_shape(shape, symbols: dict[int, str] | None = None) -> str:
    """A wire's label: the batch as N, then each size or its symbol: ``N×T×64``, ``N×6×28×28``."""
    return "×".join(["N"] + [(symbols or {}).get(i, str(s)) for i, s in enumerate(shape)])
