"""What one node outputs on real data: `inspect_node`, behind `studio inspect` and the inspector's Preview.

The project, as it trains (`training_copy`: the training Input shape and
class count applied), is compiled to its fx module; a few samples of its
data (the validation split, else the training split) run through it with an
`fx.Interpreter` that stops at the one fx node the address names, and
`NodePreview` describes that value:

* any tensor: shape, mean, std, min, max, the fraction of zeros and a
  histogram (counts and bin edges);
* colour images (3 channels) for data: the first sample as a picture in
  [0, 1], its normalisation undone (`picture`, for the GUI's Input preview);
* a 4-D (N, C, H, W) output: per-channel figures, and the first sample's
  maps (`maps`, for the GUI's images);
* an attention layer (MultiheadAttention, AdditiveAttention): the first
  sample's attention weights, (heads, queries, keys);
* a last dimension as long as the data's vocabulary (or class list): the most
  likely tokens (or classes) of the first sample's last position.

A node is addressed by its name; a node inside a block instance by the path
of names, ``stage/conv1`` (a repeated block takes the copy's index,
``stage/1/conv1``; without one, the first copy). A Block node stands for its
block's output, an Output node for the value it receives. A network the data
does not feed (a GAN's generator) runs on random inputs, and says so.

`augmented_samples` gives a few training images and augmented draws of
each, as the training split reads them, normalisation undone (the data
panel's augmentation preview).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import fx

from studio.catalog import BLOCK_TYPE, modules as sm
from studio.compile import compile_network
from studio.compile.fx import attribute_names, example_inputs
from studio.compile.weights import apply_initial_weights, apply_weights, load_weights
from studio.data import load_data
from studio.errors import StudioError
from studio.graph import Network, Project
from studio.graph.analysis import Analyzer, Report
from studio.train.project_run import data_for, data_network, input_shape, training_copy
from studio.train.metrics import denormalised
from studio.train.recipes import RECIPES, make_recipe

SAMPLES = 8      # samples run through the network
BINS = 20        # histogram bins
MAX_MAPS = 16    # feature maps (channels) kept for images
TOP = 5          # tokens listed


@dataclass
class NodePreview:
    """One node's output on a few samples; `to_json` gives the `studio inspect --json` form."""

    node: str
    inputs: str
    shape: list[int]
    stats: dict[str, float]
    histogram: dict[str, list]
    channels: list[dict[str, float]] | None = None
    maps: torch.Tensor | None = field(default=None, repr=False)
    attention: torch.Tensor | None = field(default=None, repr=False)
    top: list[dict] | None = None
    picture: torch.Tensor | None = field(default=None, repr=False)

    def to_json(self) -> dict:
        """JSON-native figures: node, inputs, shape, stats keys at the top level, histogram, and the extras."""
        data = {"node": self.node, "inputs": self.inputs, "shape": self.shape, **self.stats,
                "histogram": self.histogram}
        if self.channels is not None:
            data["channels"] = self.channels
        if self.attention is not None:
            data["attention"] = {"shape": list(self.attention.shape),
                                 "mean_over_heads": _rounded(self.attention.mean(0).tolist())}
        if self.top is not None:
            data["top"] = self.top
        return data


def inspect_node(project: Project, address: str, weights: str | Path | None = None,
                 network: str | None = None, root: Path | None = None, samples: int = SAMPLES,
                 strict: bool = True) -> NodePreview:
    """The output of the node at `address` in `network` (the first one by default) on `samples` samples.

    Args:
        project: the project; it is not changed.
        address: a node name, or ``block/node`` for a node inside a block instance.
        weights: trained weights (a run's checkpoint or a state_dict file); else
            the project's initial weights, or fresh ones.
        root: the project file's folder (relative data paths and weights resolve there).
        strict: refuse weights that do not fit the network whole; else load what fits
            (the GUI's preview, while the network is being edited after a run).

    Raises:
        StudioError: no such node, a network with problems, weights that do not fit, or unreadable data.
    """
    training = dict(project.training or {})
    copy = training_copy(project, training)
    net = copy.network(network)
    analyzer = Analyzer(copy)
    report = analyzer.analyse(net.name)
    path = fx_path(copy, net, report, address)
    torch.manual_seed(int(training.get("seed", 0)))
    model = compile_network(copy, net.name, analyzer)
    apply_initial_weights(model, copy, net.name, base=root)
    if weights is not None:
        apply_weights(model, load_weights(copy, weights, net.name), strict=strict)
    model.eval()
    inputs, source, vocabulary, picture = _inputs(copy, net, training, root, samples)
    value, extra = _capture(model, path, inputs)
    preview = describe(address, value, source, attention=extra, vocabulary=vocabulary)
    preview.picture = picture
    return preview


# --- addressing -------------------------------------------------------------------------

def fx_path(project: Project, net: Network, report: Report, address: str) -> str:
    """The dotted path (a module's target, a function's ``meta["path"]``) of the value at `address`."""
    parts = [p for p in address.strip().split("/") if p]
    if not parts:
        raise StudioError("no node named: give --node NAME (a node inside a block as block/node)")
    prefix = ""
    while True:
        node = _named(net, parts.pop(0), address)
        path = prefix + attribute_names(net)[node.id]
        if node.role == "output":
            source = net.incoming(node.id)
            if not source:
                raise StudioError(f"node '{address}': this Output receives nothing yet; connect it first")
            node = net.node(next(iter(source.values())).src)
            path = prefix + attribute_names(net)[node.id]
        if node.role == "input" and prefix:
            raise StudioError(f"node '{address}' is a block's Input: inspect the node feeding the block instead")
        if node.type != BLOCK_TYPE:
            if parts:
                raise StudioError(f"node '{address}': '{node.name}' is not a block; "
                                  "address a block's node as block/node")
            return path
        inner = report.nodes[node.id].inner
        index = int(parts.pop(0)) if parts and parts[0].isdigit() else (0 if parts else len(inner) - 1)
        if not 0 <= index < len(inner):
            raise StudioError(f"node '{address}': block '{node.name}' has {len(inner)} copies; use an index below that")
        prefix = f"{path}.{index}." if len(inner) > 1 else f"{path}."
        net, report = project.block(node.params["block"]).network, inner[index]
        if not parts:  # the block itself: the value its (first) Output receives
            parts = [next(n.name for n in net.iter_nodes() if n.role == "output")]


def _named(net: Network, name: str, address: str):
    for node in net.nodes.values():
        if node.name == name:
            return node
    names = ", ".join(n.name for n in net.iter_nodes())
    raise StudioError(f"node '{address}': '{net.name}' has no node '{name}'; its nodes are: {names}")


# --- running -----------------------------------------------------------------------------

def _inputs(project: Project, net: Network, training: dict, root, samples: int):
    """(input tensors, where they come from, the data's class or token names or None, the first picture or None)."""
    name = training.get("recipe", "supervised")
    environment = name in RECIPES and getattr(make_recipe(name), "environment", False)  # RL: no dataset
    fed = not environment and data_network(project, training).name == net.name
    if fed and sum(n.role == "input" for n in net.nodes.values()) == 1:
        data = _data(project, training, root)
        split, name = (data.val, "validation") if data.val is not None and len(data.val) else (data.train, "training")
        if split is not None and hasattr(split, "__getitem__") and len(split):
            n = min(samples, len(split))
            x = torch.stack([torch.as_tensor(split[i][0]) for i in range(n)])
            colour = x.dim() == 4 and x.shape[1] == 3
            picture = denormalised(x[0].float(), data.mean, data.std).clamp(0, 1) if colour else None
            return (x,), f"{n} samples of the {name} split", data.class_names, picture
    return example_inputs(project, net.name, batch=samples), f"{samples} random inputs", None, None


_DATA: dict = {}  # the last data loaded, by what decides it: the GUI's preview runs after every edit


def _data(project: Project, training: dict, root):
    key = json.dumps([project.data, training, input_shape(project), str(root)], sort_keys=True, default=str)
    if key not in _DATA:
        _DATA.clear()
        _DATA[key] = data_for(project, training, project.data or {}, root=root)
    return _DATA[key]


class _Stop(Exception):
    """Raised once the wanted value is computed: the rest of the network need not run."""


class _Capture(fx.Interpreter):
    def __init__(self, module: fx.GraphModule, path: str):
        super().__init__(module)
        self.path = path
        self.value = self.args = None

    def run_node(self, n: fx.Node):
        value = super().run_node(n)
        if _path_of(n) == self.path:
            self.value, self.args = value, self.fetch_args_kwargs_from_env(n)[0]
            raise _Stop
        return value


def _path_of(n: fx.Node) -> str | None:
    if n.op == "call_module":
        return n.target
    if n.op == "placeholder":
        return n.name
    return n.meta.get("path") if n.op == "call_function" else None


@torch.no_grad()
def _capture(model: fx.GraphModule, path: str, inputs) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The value at `path` (its first tensor when a tuple) and attention weights (heads, queries, keys) or None."""
    runner = _Capture(model, path)
    try:
        runner.run(*inputs)
    except _Stop:
        pass
    if runner.value is None:
        raise StudioError(f"node at '{path}' computes nothing that can be shown (it was folded away when compiling)")
    value = runner.value
    try:
        module = model.get_submodule(path)
    except AttributeError:  # a function call (Add, ReLU as a function) or an Input
        module = None
    if isinstance(module, sm.Attention):
        return _first_tensor(value), _mha_weights(module, runner.args)
    if isinstance(module, sm.AdditiveAttention):
        return value[0], value[1][0].unsqueeze(0)
    return _first_tensor(value), None


def _mha_weights(module: sm.Attention, args) -> torch.Tensor:
    """The per-head weights `sm.Attention` computes and drops (it asks for none, to run faster)."""
    query, key, value, *rest = args
    mask = None
    if module.causal:
        mask = torch.ones(query.shape[1], key.shape[1], dtype=torch.bool, device=query.device).triu(1)
    padding = sm._keys_to_ignore(rest[0]) if rest else None  # noqa: SLF001 - the module's own masking rule
    _, weights = module.mha(query, key, value, attn_mask=mask, key_padding_mask=padding,
                            need_weights=True, average_attn_weights=False)
    return weights[0]


def _first_tensor(value) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    for item in value if isinstance(value, (tuple, list)) else ():
        found = _first_tensor(item)
        if found is not None:
            return found
    raise StudioError("this node's output holds no tensor to show")


# --- describing --------------------------------------------------------------------------

def describe(node: str, value: torch.Tensor, inputs: str, attention: torch.Tensor | None = None,
             vocabulary: list[str] | None = None) -> NodePreview:
    """The figures of one output tensor (see the module docstring)."""
    x = value.detach().float()
    finite = x[torch.isfinite(x)]
    stats = {"mean": _num(finite.mean()), "std": _num(finite.std()) if finite.numel() > 1 else 0.0,
             "min": _num(finite.min()), "max": _num(finite.max()),
             "zero_fraction": _num((x == 0).float().mean())} if finite.numel() else \
        {"mean": None, "std": None, "min": None, "max": None, "zero_fraction": _num((x == 0).float().mean())}
    preview = NodePreview(node, inputs, list(value.shape), stats, histogram(finite), attention=attention)
    if x.dim() == 4:
        flat = x.transpose(0, 1).reshape(x.shape[1], -1)
        preview.channels = [{"channel": c, "mean": _num(row.mean()), "std": _num(row.std()) if row.numel() > 1 else 0.0,
                             "min": _num(row.min()), "max": _num(row.max())} for c, row in enumerate(flat)]
        preview.maps = x[0, :MAX_MAPS].clone()
    if vocabulary and x.dim() >= 2 and x.shape[-1] == len(vocabulary):
        probs = torch.softmax(x[0] if x.dim() == 2 else x[0].reshape(-1, x.shape[-1])[-1], dim=-1)
        p, i = probs.topk(min(TOP, len(vocabulary)))
        preview.top = [{"token": vocabulary[k], "p": _num(q)} for q, k in zip(p.tolist(), i.tolist())]
    return preview


def histogram(values: torch.Tensor, bins: int = BINS) -> dict[str, list]:
    """Counts and the bins+1 edges over the values' range (a single value gets one bin around it)."""
    if not values.numel():
        return {"counts": [], "edges": []}
    lo, hi = float(values.min()), float(values.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    counts = torch.histc(values, bins=bins, min=lo, max=hi)
    edges = torch.linspace(lo, hi, bins + 1)
    return {"counts": [int(c) for c in counts.tolist()], "edges": [_num(e) for e in edges]}


def _num(t) -> float:
    return round(float(t), 6)


def _rounded(values):
    return [_rounded(v) for v in values] if isinstance(values, list) else round(values, 5)


def preview_lines(p: NodePreview) -> list[str]:
    """The plain text `studio inspect` prints."""
    s = p.stats
    fmt = lambda v: "n/a" if v is None else f"{v:.4g}"  # noqa: E731
    lines = [f"node {p.node} on {p.inputs}", f"  shape {list(p.shape)}",
             f"  mean {fmt(s['mean'])}  std {fmt(s['std'])}  min {fmt(s['min'])}  max {fmt(s['max'])}  "
             f"zeros {s['zero_fraction']:.1%}"]
    counts, edges = p.histogram["counts"], p.histogram["edges"]
    if counts:
        peak = max(counts) or 1
        lines.append("  histogram")
        lines += [f"    {edges[i]:>10.4g} .. {edges[i + 1]:<10.4g} {'#' * round(24 * c / peak):<24} {c}"
                  for i, c in enumerate(counts)]
    if p.channels is not None:
        lines.append(f"  {len(p.channels)} channels (mean / std):")
        lines += [f"    {c['channel']:>4}  {c['mean']:>10.4g}  {c['std']:>10.4g}" for c in p.channels[:MAX_MAPS]]
        if len(p.channels) > MAX_MAPS:
            lines.append(f"    ... and {len(p.channels) - MAX_MAPS} more (--json lists all)")
    if p.attention is not None:
        lines.append(f"  attention weights: {p.attention.shape[0]} head(s), "
                     f"{p.attention.shape[1]} queries × {p.attention.shape[2]} keys (--json lists them)")
    if p.top is not None:
        lines.append("  top: " + ", ".join(f"{t['token']!r} {t['p']:.1%}" for t in p.top))
    return lines


# --- augmentation -------------------------------------------------------------------------

def augmented_samples(project: Project, root: Path | None = None, samples: int = 4,
                      draws: int = 3) -> tuple[list[torch.Tensor], list[list[torch.Tensor]]]:
    """A few training samples as images (C, H, W) and `draws` augmented versions of each, as training reads them.

    The data's normalisation is undone, so values are the images' own (about 0 to 1).

    Raises:
        StudioError: data that cannot be read, or samples that are not images (nothing to show).
    """
    training = dict(project.training or {})
    copy = training_copy(project, training)
    data = load_data({**(copy.data or {}), "max_samples": 16 * samples}, input_shape(copy), root=root)
    shape = data.input_shape if len(data.input_shape) == 3 else getattr(data.train, "image_shape", None)
    if shape is None or len(shape) != 3:
        raise StudioError(f"the samples are not images (shape {list(data.input_shape)}): "
                          "the augmentation preview shows images")
    plain = getattr(data.train, "dataset", data.train)  # under `Augmented`, the samples as stored
    n = min(samples, len(plain))
    def image(sample) -> torch.Tensor:
        return denormalised(torch.as_tensor(sample[0]).reshape(shape).float(), data.mean, data.std)

    originals = [image(plain[i]) for i in range(n)]
    augmented = [[image(data.train[i]) for _ in range(draws)] for i in range(n)]
    return originals, augmented
