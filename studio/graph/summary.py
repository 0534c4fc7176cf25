"""The summary of a project, as `studio summary` prints it and the Summary dock shows it.

One Qt-free place for what both print: a node's type label ("Conv2d",
"Block stage ×3"), counts in short form (`si`), the trainable parameters
(frozen layers left out), and the per-layer rows with totals as JSON-native
data (`summary_data`, the `--json` form of `studio summary`) and as a text
table (`summary_table`).
"""

from __future__ import annotations

from studio.catalog import BLOCK_TYPE
from studio.graph.analysis import Report, format_shape
from studio.graph.network import Node
from studio.graph.project import Project


def type_label(node: Node) -> str:
    """The type of a node as people read it: "Conv2d", or "Block stage ×3"."""
    if node.type != BLOCK_TYPE:
        return node.type
    repeat = node.params.get("repeat", 1)
    return f"Block {node.params.get('block')}" + (f" ×{repeat}" if repeat != 1 else "")


def si(n: float) -> str:
    """A count in short form: 235.20k, 1.82G; below a thousand as it is."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f}{unit}"
    return f"{n:g}"


def trainable_params(report: Report | None, frozen=()) -> int:
    """The report's trainable parameters less those of the `frozen` node ids."""
    if report is None:
        return 0
    return sum(r.trainable for nid, r in report.nodes.items() if nid not in frozen)


def summary_data(project: Project, reports: dict[str, Report]) -> dict:
    """Per network its layers (name, type, status, output shape, params, FLOPs) and totals; JSON-native."""
    networks = {}
    for name, report in reports.items():
        net = project.network(name)
        layers = []
        for node in net.iter_nodes():
            res = report.nodes[node.id]
            out = next(iter(res.outputs.values()), None)
            layers.append({"name": node.name, "type": type_label(node), "status": res.status,
                           "output_shape": list(out) if out is not None else None,
                           "params": res.params, "flops": res.flops})
        networks[name] = {"layers": layers, "total_params": report.total_params,
                          "trainable_params": trainable_params(report, project.frozen_ids(name)),
                          "flops": report.flops}
    return {"networks": networks, "total_params": sum(n["total_params"] for n in networks.values())}


def summary_table(data: dict, extra=()) -> str:
    """`summary_data` as the text table `studio summary` prints.

    `extra`: more right-aligned columns, ``(header, key, format(key, value) -> str)`` each
    (`studio summary --profile` adds its measured figures so).
    """
    lines = []
    for name, net in data["networks"].items():
        rows = [("name", "type", "output shape", "params", "FLOPs", *(h for h, _, _ in extra))]
        for layer in net["layers"]:
            shape = format_shape(tuple(layer["output_shape"])) if layer["output_shape"] is not None else layer["status"]
            rows.append((layer["name"], layer["type"], shape, f"{layer['params']:,}", si(layer["flops"]),
                         *(fmt(key, layer[key]) for _, key, fmt in extra)))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines.append(f"network {name}")
        for i, r in enumerate(rows):
            lines.append("  ".join(c.rjust(w) if j >= 3 else c.ljust(w) for j, (c, w) in enumerate(zip(r, widths))).rstrip())
            if i == 0:
                lines.append("  ".join("-" * w for w in widths))
        lines.append(f"total params {net['total_params']:,} (trainable {net['trainable_params']:,}), "
                     f"FLOPs {si(net['flops'])} per sample")
        lines.append("")
    if len(data["networks"]) > 1:
        lines.append(f"all networks: {data['total_params']:,} params")
    return "\n".join(lines).rstrip()
