"""Structured channel pruning that edits the project: fewer channels, a smaller file the user can open.

For each Conv and Linear layer (a *producer*) the walk follows its output
through layers that keep channels apart (activations, pooling, dropout,
batch norm, a Flatten into a Linear) to the layers that *consume* them
(docs/architecture.md, "Compressing a trained network"). When every path ends in a
convolution or a Linear layer, the producer keeps the `1 - amount` share of its
output channels with the largest L1 norm; its batch norms and the consumers'
input weights keep the same channels (a Linear after a Flatten keeps each
channel's block of features), and the producer's ``out_channels`` /
``out_features`` is set to what is left (the consumers' input sizes are
inferred). A producer whose output reaches anything else (an Add of a residual
connection, a Concat, the network's Output) is left as it was and named in
the notes. Blocks are expanded first (`inline`), so every layer can be cut on
its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

from studio.compile.fx import attribute_names
from studio.compress.inline import has_blocks, inline_blocks, rename_state
from studio.compress.measure import Figures
from studio.compress.prune import finetune
from studio.compress.subject import Subject, state_bytes
from studio.errors import StudioError
from studio.files import write_atomic
from studio.graph import Network, Project, io
from studio.graph.analysis import Analyzer, Report
from studio.graph.summary import summary_data

OUT_PARAM = {"Conv1d": "out_channels", "Conv2d": "out_channels", "Conv3d": "out_channels", "Linear": "out_features"}
PASS = {"ReLU", "ReLU6", "LeakyReLU", "ELU", "CELU", "SELU", "GELU", "SiLU", "Mish", "Hardswish", "Hardtanh",
        "Sigmoid", "Tanh", "Softplus", "Softsign", "Dropout", "Dropout2d", "AlphaDropout", "Identity",
        "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d",
        "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "GlobalAvgPool"}
NORMS = {"BatchNorm1d", "BatchNorm2d", "BatchNorm3d"}
NORM_TENSORS = ("weight", "bias", "running_mean", "running_var")


@dataclass
class Cut:
    """The channels one producer keeps, and who else must keep them.

    Attributes:
        producer: the node id of the Conv/Linear layer that loses channels.
        keep: the output channels it keeps, in order.
        norms: batch norms on the way (their per-channel tensors keep `keep`).
        consumers: (node id, features per channel): layers whose input loses the
            channels (a Linear after a Flatten of C×H×W has H·W per channel).
    """

    producer: str
    keep: list[int]
    norms: list[str] = field(default_factory=list)
    consumers: list[tuple[str, int]] = field(default_factory=list)


def plan(net: Network, report: Report, state: dict, amount: float) -> tuple[list[Cut], list[str]]:
    """(the cuts, one line per producer left alone saying why)."""
    names = attribute_names(net)
    cuts, skipped = [], []
    for node in net.iter_nodes():
        if node.type not in OUT_PARAM:
            continue
        cut, reason = _walk(net, report, node.id)
        if cut is None:
            skipped.append(f"{node.name} ({reason})")
            continue
        weight = state[f"{names[node.id]}.weight"]
        count = weight.shape[0]
        kept = max(1, round(count * (1 - amount)))
        if kept == count:
            skipped.append(f"{node.name} (too few channels to cut: {count})")
            continue
        norms = weight.detach().flatten(1).abs().sum(1)
        cut.keep = sorted(torch.topk(norms, kept).indices.tolist())
        cuts.append(cut)
    return cuts, skipped


def _walk(net: Network, report: Report, producer: str) -> tuple[Cut | None, str]:
    """The producer's norms and consumers, or (None, why it cannot be cut)."""
    node = net.node(producer)
    if node.type == "Linear" and len(_shape(report, producer)) != 1:
        return None, "a Linear over a sequence"
    if report.nodes[producer].resolved.get("groups", 1) != 1:
        return None, "a grouped convolution"
    cut = Cut(producer, [])
    stack = [(producer, 1)]
    while stack:
        nid, group = stack.pop()
        for e in net.outgoing(nid):
            dst = net.node(e.dst)
            why = _follow(dst, e.dst_port, group, report, nid, cut, stack)
            if why:
                return None, why
    return cut, ""


def _follow(dst, port: str, group: int, report: Report, src: str, cut: Cut, stack: list) -> str:
    """Records or queues `dst` reached with `group` features per channel; the reason it cannot pass, or ''."""
    res = report.nodes[dst.id]
    if dst.type in PASS or (dst.type in NORMS and group == 1):
        if dst.type in NORMS:
            cut.norms.append(dst.id)
        stack.append((dst.id, group))
    elif dst.type == "Flatten" and group == 1 and (res.resolved.get("start_dim"),
                                                    res.resolved.get("end_dim")) == (1, -1):
        stack.append((dst.id, group * math.prod(_shape(report, src)[1:])))
    elif dst.type == "Linear" and len(_shape(report, src)) == 1:
        cut.consumers.append((dst.id, group))
    elif dst.type in OUT_PARAM and group == 1 and port == "in" and res.resolved.get("groups", 1) == 1:
        cut.consumers.append((dst.id, group))
    elif dst.role == "output":
        return f"its output is the network's Output '{dst.name}'"
    else:
        return f"its output reaches {dst.type} '{dst.name}'"
    return ""


def _shape(report: Report, nid: str) -> tuple[int, ...]:
    return next(iter(report.nodes[nid].outputs.values()))


def apply(project: Project, network: str, cuts: list[Cut], state: dict) -> dict:
    """Edits the network's channel counts in place; the weights cut to match (a new dict)."""
    net = project.network(network)
    names = attribute_names(net)
    state = dict(state)
    for cut in cuts:
        keep = torch.tensor(cut.keep)
        for key in ("weight", "bias"):
            _select(state, f"{names[cut.producer]}.{key}", 0, keep)
        for norm in cut.norms:
            for key in NORM_TENSORS:
                _select(state, f"{names[norm]}.{key}", 0, keep)
        for consumer, group in cut.consumers:
            features = (keep[:, None] * group + torch.arange(group)).flatten()
            _select(state, f"{names[consumer]}.weight", 1, features)
        node = net.node(cut.producer)
        net.set_params(cut.producer, {OUT_PARAM[node.type]: len(cut.keep)})
    return state


def _select(state: dict, key: str, dim: int, index: torch.Tensor) -> None:
    if key in state:
        state[key] = state[key].index_select(dim, index).contiguous()


def structured_prune(subject: Subject, amount: float, epochs: int, out: Path,
                     progress=None) -> tuple[Figures, Figures, list[str], list[Path], dict]:
    """Writes the pruned project at `out` and its weights beside it (``.pt``).

    Returns:
        before, after, notes, the files written, and the per-layer summaries
        (`studio.graph.summary.summary_data`) ``{"before": ..., "after": ...}``.
    """
    report = progress or (lambda step, fraction: None)
    report("measuring the trained model", 0.05)
    before_report = subject.report()
    before = subject.torch_figures(subject.model(), before_report)
    project, state, notes = _flat(subject)
    net = project.network(subject.network)
    cuts, skipped = plan(net, Analyzer(project).analyse(net.name), state, amount)
    if not cuts:
        raise StudioError(f"--structured: no layer of network '{net.name}' can lose channels: "
                          f"{'; '.join(skipped[:3])}")
    report(f"cutting channels of {len(cuts)} layer(s)", 0.3)
    state = apply(project, net.name, cuts, state)
    model = subject.model(project, state)
    if epochs:
        finetune(subject, model, epochs, report)
        state = model.state_dict()
    weights = out.with_suffix(".pt")
    project.set_setting("training", "init_weights", weights.name)  # `studio train OUT` goes on from them
    project.name = out.stem
    report("saving", 0.9)
    write_atomic(weights, lambda f: torch.save(state, f), what="the pruned weights", size=state_bytes(state))
    io.save(project, out)
    after_report = subject.report(project)
    after = subject.torch_figures(model, after_report)
    after.size_bytes = weights.stat().st_size
    notes.append(f"cut {len(cuts)} layer(s) to {1 - amount:.0%} of their channels: "
                 + ", ".join(net.node(c.producer).name for c in cuts))
    if skipped:
        notes.append(f"left as they were: {', '.join(skipped)}")
    summaries = {"before": summary_data(subject.project, {net.name: before_report}),
                 "after": summary_data(project, {net.name: after_report})}
    return before, after, notes, [out, weights], summaries


def _flat(subject: Subject) -> tuple[Project, dict, list[str]]:
    """A copy of the project to edit (blocks expanded), its weights under its names, and notes."""
    if not has_blocks(subject.project, subject.network):
        copy = io.from_dict(io.to_dict(subject.project), f"project '{subject.project.name}'")
        return copy, dict(subject.state), []
    copy, paths = inline_blocks(subject.project, subject.network)
    state = rename_state(subject.state, copy.network(subject.network), paths)
    return copy, state, ["the blocks were expanded into their layers, so each copy keeps its own channels"]
