"""Importing a plain PyTorch `nn.Module` as a project, with its weights.

`import_module` traces the module with `torch.fx` (torch.nn layers and
studio's own layer modules stay whole; the user's own submodules are traced
through, so nested blocks are flattened, and a node is named after its path:
``layer1.0.conv1`` -> ``layer1_0_conv1``). Each traced call becomes one
catalog node through the rules of `studio.export.import_rules`: modules with
their constructor parameters read back, functions and tensor methods
(``torch.cat``, ``+``, ``x.flatten(1)``, ``x.view(x.size(0), -1)``,
``F.relu``, ``x.mean((2, 3))`` ...) with theirs. A call the catalog cannot
express is refused with a StudioError that names it; nothing is half-imported.

The module's weights are renamed to the new node names, loaded into the
compiled network, and the outputs of both are compared on the example
inputs; the import is refused unless they agree (same tolerance as exports).
Nodes are laid out left to right, x = 200 × their index in topological order.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp

from studio.compile import attribute_names, compile_network
from studio.errors import StudioError
from studio.export.base import RTOL, flat_outputs
from studio.export.import_inputs import run_checked
from studio.export.module_loader import load_class
from studio.export.import_rules import (FUNCTIONS, METHODS, PASS, SHAPE_METHODS, Mapped, Unsupported, is_studio_module,
                                        map_module)
from studio.graph.analysis import Analyzer
from studio.graph.network import Network
from studio.graph.project import Project

SPACING = 200.0


@dataclass
class ImportResult:
    """An imported module.

    Attributes:
        project: a new project holding one network.
        state_dict: the module's weights under the network's names; load it
            into `compile_network(project)` (or save it next to the project).
        max_abs_diff: largest difference between the module's and the
            imported network's outputs on the example inputs.
        network: the network's name.
    """

    project: Project
    state_dict: dict[str, torch.Tensor]
    max_abs_diff: float
    network: str = "main"


class _Tracer(fx.Tracer):
    """Keeps torch.nn layers and studio's own layer modules whole; traces through everything else."""

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return is_studio_module(m) or super().is_leaf_module(m, qualname)


def import_module(module: nn.Module, example_inputs: Any, project_name: str = "imported",
                  network: str = "main") -> ImportResult:
    """A project reproducing `module`, and its weights renamed to the project's nodes.

    Args:
        module: the module; it is traced in eval mode and left in the mode it had.
        example_inputs: a tensor or a tuple of tensors with a batch dimension
            (their shapes and dtypes become the Input nodes).
        project_name: the new project's name.
        network: the new network's name.

    Raises:
        InputError: the module fails on the example inputs (the message says what it expected).
        StudioError: a call with no catalog entry (named), or outputs that differ.
    """
    inputs = tuple(example_inputs) if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    was_training = module.training
    module.eval()
    try:
        expected = run_checked(module, inputs)
        gm = _trace(module, len(inputs))
        with torch.no_grad():
            ShapeProp(gm).propagate(*inputs)
        project = Project(project_name)
        project.metadata = {"title": project_name, "imported_from": _qualname(type(module))}
        builder = _Builder(gm, project.add_network(network))
        builder.build()
        state = _renamed_weights(project, network, builder.sources)
        diff = _verify(project, network, state, expected, type(module), inputs)
    finally:
        module.train(was_training)
    return ImportResult(project, state, diff, network)


def import_from_path(spec: str, args: dict | Sequence = (), input_shape: Sequence | None = None,
                     project_name: str | None = None, dtype: str = "float") -> ImportResult:
    """Imports ``package.module:Class`` or ``path/to/file.py:Class``, built with `args`.

    Args:
        spec: where the class is; the file or module is imported (its code runs).
        args: constructor arguments: a dict of keywords or a list of positional ones.
        input_shape: one sample's shape without the batch (``(3, 32, 32)``), or a
            list of shapes for a module with several inputs.
        project_name: defaults to the class name.
        dtype: "float", or "long" for integer ids (inputs drawn from 0..1).
    """
    cls = load_class(spec)
    try:
        module = cls(**args) if isinstance(args, dict) else cls(*args)
    except Exception as e:
        raise StudioError(f"cannot build {spec} with arguments {args!r}: {e}; pass the constructor "
                          f"arguments as JSON (--args)") from None
    if not isinstance(module, nn.Module):
        raise StudioError(f"{spec} is a {type(module).__name__}, not a torch.nn.Module")
    if not input_shape:
        raise StudioError(f"importing {spec} needs the shape of one input sample, such as 3,32,32 (--input-shape)")
    shapes = [tuple(s) for s in input_shape] if isinstance(input_shape[0], (list, tuple)) else [tuple(input_shape)]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        inputs = tuple(torch.randint(0, 2, (2, *s)) if dtype == "long" else torch.randn(2, *s) for s in shapes)
    return import_module(module, inputs, project_name or cls.__name__)


# --- tracing and building ----------------------------------------------------------

def _single_layer(module: nn.Module, inputs: int) -> fx.GraphModule:
    """The graph of one call of a layer imported on its own (nn.Linear itself, say)."""
    name = type(module).__name__.lower()
    root = nn.Module()
    root.add_module(name, module)
    graph = fx.Graph()
    args = tuple(graph.placeholder(f"input_{i + 1}" if inputs > 1 else "input") for i in range(inputs))
    graph.output(graph.call_module(name, args))
    return fx.GraphModule(root, graph)


def _trace(module: nn.Module, inputs: int) -> fx.GraphModule:
    tracer = _Tracer()
    tracer.record_stack_traces = True
    if tracer.is_leaf_module(module, ""):
        return _single_layer(module, inputs)
    try:
        graph = tracer.trace(module)
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise StudioError(f"cannot trace {_qualname(type(module))}: {first}. Its forward must not branch on "
                          f"tensor values or sizes (torch.fx symbolic tracing)") from None
    gm = fx.GraphModule(tracer.root, graph)
    gm.graph.eliminate_dead_code()
    gm.recompile()
    return gm


class _Builder:
    """Walks the traced graph once, adding a catalog node (and its edges) per call."""

    def __init__(self, gm: fx.GraphModule, net: Network):
        self.gm = gm
        self.net = net
        self.values: dict[fx.Node, Any] = {}  # fx node -> (node id, port), ("rnn", id), or None (not a tensor)
        self.sources: dict[str, tuple[nn.Module, str]] = {}  # node id -> (module, weight prefix)
        self.called: set[str] = set()
        self.index = 0

    def build(self) -> None:
        for n in self.gm.graph.nodes:
            try:
                self._visit(n)
            except Unsupported as e:
                raise StudioError(f"cannot import {self._describe(n)}: {e}. Replace it with layers the "
                                  f"catalog has (studio's palette), or leave it out of the imported part") from None

    def _visit(self, n: fx.Node) -> None:
        if n.op == "placeholder":
            meta = n.meta.get("tensor_meta")
            if meta is None:
                raise Unsupported("an input that is not a tensor")
            dtype = "float" if meta.dtype.is_floating_point else "long"
            nid = self._add("Input", n.name, {"shape": list(meta.shape[1:]), "dtype": dtype})
            self.values[n] = (nid, "out")
        elif n.op == "get_attr":
            raise Unsupported("a parameter or buffer used directly in forward (wrap it in a layer)")
        elif n.op == "call_module":
            self._module(n)
        elif n.op in ("call_function", "call_method"):
            self._call(n)
        elif n.op == "output":
            self._outputs(n.args[0])

    def _module(self, n: fx.Node) -> None:
        sub = self.gm.get_submodule(n.target)
        if n.target in self.called and any(True for _ in sub.parameters()):
            raise Unsupported("a layer with weights called twice (shared weights are not supported)")
        self.called.add(n.target)
        mapped = map_module(sub, list(n.args) + list(n.kwargs.values()))
        nid = self._place(n, mapped)
        self.sources[nid] = (sub, mapped.weight_prefix)
        self.values[n] = ("rnn", nid) if mapped.weight_prefix == "rnn." else (nid, "out")

    def _call(self, n: fx.Node) -> None:
        if n.target is operator.getitem and self._rnn_output(n):
            return
        if n.op == "call_method" and n.target in SHAPE_METHODS or not self._is_tensor(n):
            self.values[n] = None  # sizes and other plain values: the rules read shapes instead
            return
        rule = FUNCTIONS.get(n.target) if n.op == "call_function" else METHODS.get(n.target)
        if rule is None:
            raise Unsupported("no catalog entry for it")
        mapped = rule(n, n.args, dict(n.kwargs), self._shape)
        if mapped is PASS:
            self.values[n] = self._value(n.args[0])
            return
        nid = self._place(n, mapped)
        self.values[n] = (nid, "out")

    def _rnn_output(self, n: fx.Node) -> bool:
        src = n.args[0]
        value = self.values.get(src) if isinstance(src, fx.Node) else None
        if not (isinstance(value, tuple) and value[0] == "rnn"):
            return False
        if n.args[1] != 0:
            raise Unsupported("the hidden state of a recurrent layer (only its output sequence is imported)")
        self.values[n] = (value[1], "out")
        return True

    def _outputs(self, result) -> None:
        results = list(result) if isinstance(result, (tuple, list)) else [result]
        for i, r in enumerate(results):
            src = self._value(r)
            nid = self._add("Output", "out" if len(results) == 1 else f"out{i}", {})
            self.net.connect(src[0], src[1], nid, "in")

    def _place(self, n: fx.Node, mapped: Mapped) -> str:
        sources = [self._value(v) for v in mapped.inputs]
        nid = self._add(mapped.type, n.name, mapped.params)
        ports = self.net.ports(self.net.node(nid))[0]
        if len(sources) > len(ports):
            raise Unsupported(f"{len(sources)} inputs for {mapped.type}, which takes {len(ports)}")
        for port, (src, src_port) in zip(ports, sources):
            self.net.connect(src, src_port, nid, port)
        return nid

    def _add(self, type_name: str, name: str, params: dict) -> str:
        nid = self.net.add_node(type_name, self.net.unique_name(name), params, (SPACING * self.index, 0.0))
        self.index += 1
        return nid

    def _value(self, v) -> tuple[str, str]:
        value = self.values.get(v) if isinstance(v, fx.Node) else None
        if not (isinstance(value, tuple) and value[0] != "rnn"):
            what = v.name if isinstance(v, fx.Node) else repr(v)
            raise Unsupported(f"'{what}' is not the output of a layer (constants and sizes cannot feed a layer)")
        return value

    def _is_tensor(self, n: fx.Node) -> bool:
        return isinstance(n.meta.get("tensor_meta"), torch.fx.passes.shape_prop.TensorMetadata)

    def _shape(self, n: fx.Node) -> tuple[int, ...]:
        meta = n.meta.get("tensor_meta") if isinstance(n, fx.Node) else None
        if meta is None or not hasattr(meta, "shape"):
            raise Unsupported(f"'{getattr(n, 'name', n)}' is not a tensor")
        return tuple(meta.shape)

    def _describe(self, n: fx.Node) -> str:
        if n.op == "call_module":
            return f"'self.{n.target}' ({type(self.gm.get_submodule(n.target)).__name__})"
        if n.op == "call_method":
            what = f"'.{n.target}()' (a tensor method)"
        elif n.op == "call_function":
            what = f"'{_function_name(n.target)}'"
        elif n.op == "get_attr":
            what = f"'self.{n.target}'"
        else:
            what = f"'{n.name}'"
        line = _source_line(n)
        return f"{what}{' at ' + line if line else ''}"


def _function_name(fn) -> str:
    module = getattr(fn, "__module__", None) or ""
    name = getattr(fn, "__name__", repr(fn))
    if module in ("_operator", "operator"):
        return f"operator.{name}"
    if module.startswith("torch.nn.functional") or name in dir(nn.functional) and module != "torch":
        return f"torch.nn.functional.{name}"
    return f"torch.{name}" if not module or module.startswith("torch") else f"{module}.{name}"


def _source_line(n: fx.Node) -> str:
    """``file:line`` of the user's code that made the call (torch's own frames skipped)."""
    torch_dir = str(Path(torch.__file__).parent)
    for line in reversed((n.stack_trace or "").strip().splitlines()):
        line = line.strip()
        if line.startswith('File "') and not line[6:].startswith(torch_dir):
            return line[6:].replace('", line ', ":").split(",")[0]
    return ""


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# --- weights and the check ---------------------------------------------------------

def _renamed_weights(project: Project, network: str, sources: dict) -> dict[str, torch.Tensor]:
    names = attribute_names(project.network(network))
    state = {}
    for nid, (module, prefix) in sources.items():
        for key, value in module.state_dict().items():
            state[f"{names[nid]}.{prefix}{key}"] = value.detach().clone()
    return state


def _verify(project: Project, network: str, state: dict, expected: Any, cls: type, inputs: tuple) -> float:
    report = Analyzer(project).analyse(network)
    if report.problems:
        listed = "; ".join(str(p) for p in report.problems[:3])
        raise StudioError(f"the imported network has problems: {listed}")
    model = compile_network(project, network)
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise StudioError(f"the module's weights do not fit the imported network: {str(e).splitlines()[0]}") from None
    model.eval()
    with torch.no_grad():
        want, got = flat_outputs(expected), flat_outputs(model(*inputs))
    if len(want) != len(got):
        raise StudioError(f"the imported network returns {len(got)} output(s), {_qualname(cls)} {len(want)}")
    diff, scale = 0.0, 1.0
    for a, b in zip(want, got):
        if a.shape != b.shape:
            raise StudioError(f"the imported network's output has shape {tuple(b.shape)}, the module's {tuple(a.shape)}")
        if a.numel():
            diff = max(diff, float((a.double() - b.double()).abs().max()))
            scale = max(scale, float(a.abs().max()))
    if not diff <= RTOL * scale:
        raise StudioError(f"the imported network computes something else than {_qualname(cls)} "
                          f"(largest difference {diff:.3g}): a layer uses a setting the catalog does not hold. "
                          f"Nothing was imported")
    return diff
