"""Readable names in an exported ONNX model, and nothing of the exporting machine in it.

torch's exporter names nodes after aten operators (``node_Conv_292``) and
values after variables of the traced program (``getitem_3``, ``val_26``), and
keeps, on every node, the traced node, the class hierarchy and the Python stack
trace, absolute paths of the exporting machine included (a transformer
repeats them hundreds of times). `named_calls` first puts every function call
of the compiled network (an Add, a Concat, a ReLU compiled to ``torch.relu``)
into a small module at the layer's path, so the exporter records that path
for it as it does for layers; `tidy` then

* names each node after the project layer it computes (``layer1.0.conv1``),
  with its operator after a slash where a layer makes several
  (``encoder1.self_attn/Softmax``);
* names each value after the node that makes it (graph inputs and outputs
  keep their names);
* renames the weights BatchNorm was folded into, which hold the convolution
  times the normalisation: ``stem.conv.weight`` becomes
  ``stem.conv.weight.bn_folded`` and the fused node ``stem.conv+stem.bn``;
* drops every node's metadata and doc strings.
"""

from __future__ import annotations

import ast
import re
from collections import Counter

from torch import fx, nn


class _Call(nn.Module):
    """A function call as a module, so that exporters record the layer's path for what it computes."""

    def __init__(self, fn, kwargs: dict):
        super().__init__()
        self.fn, self.kwargs = fn, kwargs

    def forward(self, *args):
        return self.fn(*args, **self.kwargs)


def named_calls(model: fx.GraphModule) -> fx.GraphModule:
    """A copy of `model` whose function calls with a layer path (``node.meta["path"]``) are calls of modules there."""
    root = nn.Module()
    for name, child in model.named_children():
        root.add_module(name, child)
    graph = fx.Graph()
    env: dict[fx.Node, fx.Node] = {}
    for n in model.graph.nodes:
        path = n.meta.get("path")
        if n.op == "call_function" and path:
            *parents, leaf = path.split(".")
            owner = root
            for part in parents:
                if not hasattr(owner, part):
                    owner.add_module(part, nn.Module())
                owner = getattr(owner, part)
            owner.add_module(leaf, _Call(n.target, dict(n.kwargs)))
            env[n] = graph.call_module(path, fx.map_arg(n.args, env.get), {})
        else:
            env[n] = graph.node_copy(n, env.get)
    return fx.GraphModule(root, graph, class_name=type(model).__name__).train(model.training)


def tidy(model) -> list[str]:
    """Renames the nodes, values and folded weights of an ONNX ModelProto in place, and drops node metadata.

    Returns:
        The layer of each node, in order (see `onnx_groups`).
    """
    graph = model.graph
    keep = {v.name for v in graph.input} | {v.name for v in graph.output}
    layers = [_layer(n) for n in graph.node]
    folded = _fold_names(graph, layers)
    per_layer = Counter(layers)
    seen: Counter = Counter()
    renamed: dict[str, str] = dict(folded)
    for n, layer in zip(graph.node, layers):
        base = layer if per_layer[layer] == 1 else f"{layer}/{n.op_type}"
        seen[base] += 1
        n.name = base if seen[base] == 1 else f"{base}_{seen[base]}"
        for i, out in enumerate(n.output):
            if out and out not in keep:
                renamed[out] = n.name if len(n.output) == 1 else f"{n.name}:{i}"
        del n.metadata_props[:]
        n.doc_string = ""
    _name_constants(graph, renamed)
    _rename_values(graph, renamed)
    graph.doc_string = ""
    return layers


def _name_constants(graph, renamed: dict[str, str]) -> None:
    """Unnamed constants (``val_26``) take the name of the first node that reads them."""
    users: dict[str, str] = {}
    for n in graph.node:
        for v in n.input:
            users.setdefault(v, n.name)
    count: Counter = Counter()
    for item in graph.initializer:
        if re.fullmatch(r"val_\d+", item.name) and item.name in users:
            count[users[item.name]] += 1
            renamed[item.name] = f"{users[item.name]}:constant{count[users[item.name]]}"


def _layer(node) -> str:
    """The project layer a node computes: the deepest module scope the exporter recorded for it."""
    for prop in node.metadata_props:
        if prop.key == "pkg.torch.onnx.name_scopes":
            try:
                scopes = [s for s in ast.literal_eval(prop.value) if s]
            except (ValueError, SyntaxError):
                break
            if len(scopes) >= 2 and not scopes[-2].startswith("_"):  # the last one is the operator
                return scopes[-2]
    return "sizes"  # shape arithmetic of dynamic dimensions, which no layer owns


def _fold_names(graph, layers: list[str]) -> dict[str, str]:
    """New names for the weights a BatchNorm was folded into; the fused nodes' layers become conv+bn."""
    renamed = {}
    initializers = {i.name for i in graph.initializer}
    for k, n in enumerate(graph.node):
        rules = next((p.value for p in n.metadata_props if p.key == "pkg.onnxscript.rewriter.rule_name"), "")
        if "BatchNorm" not in rules or n.op_type not in ("Conv", "ConvTranspose", "Gemm"):
            continue
        weights = [name for name in n.input[1:] if name in initializers]
        conv = weights[0].rsplit(".", 1)[0] if weights and "." in weights[0] else layers[k]
        bn = layers[k]
        for name in weights:
            renamed[name] = f"{name}.bn_folded" if name.startswith(conv + ".") else f"{conv}.bias.bn_folded"
        layers[k] = f"{conv}+{bn}" if bn != conv else conv
    return renamed


def _rename_values(graph, renamed: dict[str, str]) -> None:
    """Renames values wherever they are read, inside the subgraphs of If and Loop nodes too (names are unique
    across a model's scopes, so a subgraph's own values are never renamed by mistake)."""
    for n in graph.node:
        n.input[:] = [renamed.get(v, v) for v in n.input]
        n.output[:] = [renamed.get(v, v) for v in n.output]
        for attribute in n.attribute:
            for body in [attribute.g, *attribute.graphs] if attribute.g.node or attribute.graphs else ():
                _rename_values(body, renamed)
    for group in (graph.initializer, graph.value_info):
        for item in group:
            item.name = renamed.get(item.name, item.name)
