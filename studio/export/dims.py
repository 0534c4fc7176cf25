"""Which dimensions of a network's inputs an export keeps dynamic, and the shapes it is checked at.

Every input's batch dimension is meant to be dynamic, and so are, where the
network allows, its *sequence* dimension (the length L of token ids (L), of a
feature sequence (L, F), of a signal (C, L)) and its *spatial* ones (an image's
H and W, a volume's D, H, W). `plan` asks the network's own shape analysis
whether it takes other sizes there (twice the size, one and a half times; for
a length also one more or one less) with every layer's weights the same size:
a dimension it takes gets that size as its *probe*; one it refuses is fixed,
and the note names the layer that refused (the first problem analysis finds,
or the layer whose weights would change: ``Linear 'fc1' has weights for
in_features 400, which follows from this size``).

Formats that trace the network (torch.export, ONNX) can fix more: `settle`
reads back which dimensions the program kept symbolic and their range (a
positional encoding caps the length at its ``max_len``), and fixes the rest,
naming the layer (torch.export unrolls recurrent layers over time).
`samples` gives the inputs every export is checked on: the example shapes at
batch 2, and batch 3 with every dynamic dimension at its probe size.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.fx.experimental.symbolic_shapes import is_concrete_int

from studio import catalog
from studio.compile import attribute_names, example_inputs
from studio.graph import io
from studio.graph.analysis import Analyzer
from studio.graph.project import Project

SAMPLE_SEED = 0
BATCHES = (2, 3)  # the example batch, and another to check that the batch dimension is really dynamic
_SPATIAL = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}
_RECURRENT = ("LSTM", "GRU", "RNN")


@dataclass
class Axis:
    """One dimension of one input.

    Attributes:
        input: the Input node's name; placeholder: its name in the compiled model.
        dim: the dimension (0 is the batch).
        label: "batch", "length", "height", ...
        size: its size in the example inputs.
        probe: another size it is checked at; None when it is fixed.
        low, high: the sizes the export takes (high None: no bound).
        why: for a candidate that is fixed, what fixes it.
    """

    input: str
    placeholder: str
    dim: int
    label: str
    size: int
    probe: int | None = None
    low: int = 2
    high: int | None = None
    why: str = ""

    @property
    def name(self) -> str:
        """The dimension's name in exported files: ``batch``, ``source_length``, ``image_height``."""
        return "batch" if self.label == "batch" else f"{self.placeholder}_{self.label}"

    def fix(self, why: str) -> None:
        """Makes the axis static, saying why."""
        self.probe, self.why = None, why


def plan(project: Project, network: str) -> list[Axis]:
    """The axes of every input: batch axes dynamic, the others dynamic where analysis takes another size."""
    net = project.network(network)
    names = attribute_names(net)
    axes = []
    probe = _Prober(project, network)
    for node in net.iter_nodes():
        if node.role != "input":
            continue
        params = catalog.get(node.type).with_defaults(node.params)
        shape = list(params["shape"])
        axes.append(Axis(node.name, names[node.id], 0, "batch", BATCHES[0], BATCHES[1]))
        for dim, label in _candidates(shape, params["dtype"]):
            axis = Axis(node.name, names[node.id], dim, label, shape[dim - 1])
            probe.try_sizes(node.id, shape, axis)
            axes.append(axis)
    return axes


def _candidates(shape: list[int], dtype: str) -> list[tuple[int, str]]:
    """(dim, label) of the dimensions that may be dynamic, for one sample shape (no batch)."""
    if dtype == "long":
        return [(1, "length")] if len(shape) == 1 else []
    if len(shape) == 2:  # (L, F) sequences and (C, L) signals both vary in their length
        return [(1, "length") if shape[0] > shape[1] else (2, "length")]
    if len(shape) in (3, 4):
        return list(zip(range(2, len(shape) + 1), _SPATIAL[len(shape) - 1]))
    return []


class _Prober:
    """Analyses a copy of the project with one Input's shape changed."""

    def __init__(self, project: Project, network: str):
        self.copy = io.from_dict(io.to_dict(project))
        self.network = network
        self.analyzer = Analyzer(self.copy)
        self.sizes = _weight_sizes(self.analyzer.analyse(network))

    def problem(self, node_id: str, shape: list[int], changed: list[int]) -> str | None:
        """What goes wrong with the Input's shape `changed`: a problem, or a layer whose weights would change size."""
        net = self.copy.network(self.network)
        net.set_params(node_id, {"shape": changed})
        try:
            report = self.analyzer.analyse(self.network)
        finally:
            net.set_params(node_id, {"shape": shape})
        if report.problems:
            return report.problems[0].message
        for where, inferred in _weight_sizes(report).items():
            before = self.sizes.get(where, {})
            if inferred != before:
                node = net.node(where[0])
                name, value = next((k, v) for k, v in before.items() if inferred.get(k) != v)
                return f"{node.type} '{node.name}' has weights for {name} {value}, which follows from this size"
        return None

    def try_sizes(self, node_id: str, shape: list[int], axis: Axis) -> None:
        """Sets axis.probe to the first other size the network takes, or fixes it saying what refused."""
        first = None
        # An image size must double (an odd size more or less can slip through pooling's rounding); a sequence
        # may be capped (a positional encoding's max_len), so one more or one less will do.
        sizes = (axis.size * 2, axis.size + axis.size // 2)
        if axis.label == "length":
            sizes += (axis.size + 1, axis.size - 1)
        for size in sizes:
            if size < 2 or size == axis.size:
                continue
            changed = list(shape)
            changed[axis.dim - 1] = size
            problem = self.problem(node_id, shape, changed)
            if problem is None:
                axis.probe = size
                return
            first = first or problem
        axis.fix(first or "no other size fits")


def _weight_sizes(report, where: tuple = ()) -> dict[tuple, dict]:
    """(node id, inside blocks: repetition, inner node id, ...) -> the parameters its input shape decides."""
    out = {}
    for nid, res in report.nodes.items():
        if res.inferred:
            out[(*where, nid)] = res.inferred
        for i, inner in enumerate(res.inner):
            out.update(_weight_sizes(inner, (*where, nid, i)))
    return out


def settle(axes: list[Axis], program: torch.export.ExportedProgram, project: Project, network: str) -> None:
    """Fixes the axes `program` made static (naming why) and records the ranges of the others."""
    shapes = _placeholder_shapes(program)
    for axis in axes:
        if axis.probe is None or axis.placeholder not in shapes:
            continue
        size = shapes[axis.placeholder][axis.dim]
        if is_concrete_int(size):  # torch.export made it static
            axis.fix(_traced_fix(project, network, axis))
            continue
        bounds = program.range_constraints.get(size.node.expr)
        if bounds is not None:
            axis.low, axis.high = _whole(bounds.lower) or 2, _whole(bounds.upper)
        if not axis.low <= axis.probe <= (axis.high or axis.probe):
            inside = [s for s in (axis.size + 1, axis.size - 1) if axis.low <= s <= (axis.high or s) and s >= 2]
            if inside:
                axis.probe = inside[0]
            else:
                axis.fix(f"the exported program takes only {axis.low}..{axis.high}")


def _whole(bound) -> int | None:
    """A range bound as an int; None for an infinite one."""
    try:
        return int(bound)
    except (OverflowError, TypeError, ValueError, AttributeError):
        return None


def _placeholder_shapes(program: torch.export.ExportedProgram) -> dict[str, tuple]:
    users = {spec.arg.name for spec in program.graph_signature.input_specs if spec.kind.name == "USER_INPUT"}
    return {n.name: tuple(n.meta["val"].shape) for n in program.graph.nodes
            if n.op == "placeholder" and n.name in users and "val" in n.meta}


def _traced_fix(project: Project, network: str, axis: Axis) -> str:
    """Why a traced export made `axis` static: a recurrent layer it reaches, or torch's own choice."""
    net = project.network(network)
    start = net.by_name(axis.input).id
    for nid in net.topological_order():
        node = net.node(nid)
        if node.type in _RECURRENT and nid in net.downstream([start]) and axis.label == "length":
            return (f"{node.type} '{node.name}' (torch.export unrolls recurrent layers over the time steps; "
                    f"TorchScript and Python exports keep the length dynamic)")
    return "torch.export specialised it (a layer's code depends on its exact size)"


def dynamic_shapes(axes: list[Axis], placeholders: list[str], named: bool = False) -> tuple[dict, ...]:
    """torch.export's dynamic_shapes for the dynamic axes: Dim.AUTO, or Dims named after the axes (ranges kept).

    Axes of equal name share one Dim (every input's batch is one "batch").
    """
    dims: dict[str, torch.export.Dim] = {}
    spec: list[dict] = [{} for _ in placeholders]
    for axis in axes:
        if axis.probe is None:
            continue
        if not named:
            value = torch.export.Dim.AUTO
        else:
            value = dims.setdefault(axis.name, torch.export.Dim(axis.name, min=axis.low, max=axis.high or int(1e9)))
        spec[placeholders.index(axis.placeholder)][axis.dim] = value
    return tuple(spec)


def samples(project: Project, network: str, axes: list[Axis]) -> list[tuple[torch.Tensor, ...]]:
    """The example inputs at batch 2, then (when anything is dynamic) batch 3 with every dynamic axis at its probe.

    Reproducible (seeded) and the global RNG is left alone.
    """
    varied: dict[str, list[int]] = {}
    batch = BATCHES[0]
    net = project.network(network)
    for axis in axes:
        if axis.probe is None:
            continue
        if axis.label == "batch":
            batch = BATCHES[1]
            continue
        shape = varied.setdefault(axis.input, list(net.by_name(axis.input).params.get("shape")))
        shape[axis.dim - 1] = axis.probe
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SAMPLE_SEED)
        out = [example_inputs(project, network, batch=BATCHES[0])]
        if varied or batch != BATCHES[0]:
            out.append(example_inputs(project, network, batch=batch, shapes=varied))
    return out


def dynamic_names(axes: list[Axis]) -> list[str]:
    """The dynamic dimensions as the user reads them: ``batch``, ``source_length (2..64)``."""
    return list(dict.fromkeys(a.name + (f" ({a.low}..{a.high})" if a.high else "")
                              for a in axes if a.probe is not None))


def notes(axes: list[Axis]) -> list[str]:
    """One line per reason that fixes dimensions: ``image_height, image_width are fixed at 32×32: Linear 'fc1' ...``."""
    groups: dict[str, dict[str, Axis]] = {}
    for a in axes:
        if a.probe is None:
            groups.setdefault(a.why, {})[a.name] = a
    lines = []
    for why, fixed in groups.items():
        names, sizes = ", ".join(fixed), "×".join(str(a.size) for a in fixed.values())
        lines.append(f"{names} {'is' if len(fixed) == 1 else 'are'} fixed at {sizes}: {why}")
    return lines
