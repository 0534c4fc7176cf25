"""Importing a plain PyTorch `nn.Module` as a project, with its weights.

`import_module` runs the module once on the example inputs (an input it
cannot take is an `InputError` naming the layer and what it expected), traces
it (`import_trace`: torch.nn layers and studio's own modules stay whole, the
user's own submodules are traced through, each call recorded), and builds one
catalog node per traced call (`import_build`, with the rules of
`import_rules`, `import_functions`, `import_params` and `import_sequences`).
`import_blocks` then gives the network its module hierarchy back: submodules
become blocks, shared between equal instances, named after their classes and
attributes. A submodule of the user's own code that cannot be traced, or
holds a call the catalog cannot express, is kept whole as one opaque "Module"
node running its code (`import_opaque`), and so is a torch.nn layer the
catalog has no form for, wherever it is called; any other failure in the
root's own forward is refused with a StudioError that names the call and its
line. A module holding a Hugging Face model is traced with transformers' own
tracer where it has one (`import_hf`); a transformers model that cannot be
imported in parts is kept whole as one node.

The module's weights are matched to the compiled network's state_dict keys,
loaded into it, and the outputs of both are compared on the example inputs;
the import is refused unless they agree (same tolerance as exports).
`ImportResult.original_keys` maps each compiled key to the module's own, and
the project keeps the keys that differ (`studio.compile.weights.ORIGINAL_KEY`),
so the module's own checkpoints load into the network. Every network and
block is laid out in layers, top to bottom (`studio.graph.layout`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import torch
from torch import nn

from studio import trust
from studio.compile import compile_network
from studio.compile.weights import ORIGINAL_KEY
from studio.errors import StudioError
from studio.export.base import RTOL, flat_outputs
from studio.export.import_block_names import renamed_blocks
from studio.export.import_blocks import Hierarchy
from studio.export.import_build import Builder
from studio.export.import_inputs import run_checked
from studio.export.import_opaque import code_of, recording_arguments, smallest_part
from studio.export.import_rules import qualname
from studio.export.import_hf import is_hugging_face, whole_model
from studio.export.import_trace import Call, RefusedPart, record, trace
from studio.export.module_loader import load_class
from studio.graph.analysis import Analyzer
from studio.graph.layout import lay_out_project
from studio.graph.project import Project



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
        original_keys: the network's state_dict key -> the module's own key
            for that tensor.
    """

    project: Project
    state_dict: dict[str, torch.Tensor]
    max_abs_diff: float
    network: str = "main"
    original_keys: dict[str, str] = field(default_factory=dict)


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
        expected, (project, gm, builder) = _traced(module, inputs, project_name, network)
        hierarchy = Hierarchy(project, network, builder.origin, _shapes(project, network), builder.values)
        hierarchy.restructure()
        paths = hierarchy.paths()
        project = renamed_blocks(project, hierarchy.block_names())
        lay_out(project)
        model = _compiled(project, network)
        prefix = gm.meta.get("prefix", "")
        state, keys = matched_weights(model, paths, builder.sources, gm)
        keys = {k: v[len(prefix):] for k, v in keys.items()}
        unused = sorted(set(module.state_dict()) - set(keys.values()))
        project.metadata[ORIGINAL_KEY] = {network: {"keys": {k: v for k, v in keys.items() if k != v},
                                                    "unused": unused}}
        diff = _verify(model, state, expected, type(module), inputs)
    finally:
        module.train(was_training)
    return ImportResult(project, state, diff, network, keys)


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
        with recording_arguments():  # kept submodules are built again from them
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


def _traced(module: nn.Module, inputs: tuple, project_name: str, network: str) -> tuple[Any, tuple]:
    """(the module's outputs, `_built`'s three); a transformers model that cannot come in parts comes in whole."""
    expected = run_checked(module, inputs)
    try:
        return expected, _built(module, inputs, project_name, network)
    except StudioError:
        if not is_hugging_face(module):
            raise
        return _whole(module, inputs, project_name, network)


def _whole(model: nn.Module, inputs: tuple, project_name: str, network: str) -> tuple[Any, tuple]:
    """(its outputs, `_built`'s three) for a transformers model kept whole as one node (`import_hf.WholeModel`)."""
    wrapper = whole_model(model, inputs)
    kept = {"model": code_of(Call(0, "model", model), f"{type(model).__name__} cannot be imported in parts")}
    trust.allow(list(kept.values()))  # the user runs this code already: analysis may build it
    built = _built(wrapper, inputs, project_name, network, kept)
    built[0].metadata["imported_from"] = qualname(type(model))
    built[1].meta["prefix"] = "model."  # the model's own state_dict keys lack it
    return run_checked(wrapper, inputs), built


def _built(module: nn.Module, inputs: tuple, project_name: str, network: str,
           kept: dict[str, tuple[str, str]] | None = None) -> tuple[Project, Any, Builder]:
    """The traced module and the project built from it; each submodule of the user's own that fails is
    kept whole (import_opaque) and the whole tried again."""
    kept = dict(kept or {})
    while True:
        project = Project(project_name)
        project.metadata = {"title": project_name, "imported_from": qualname(type(module))}
        try:
            gm = trace(module, inputs, frozenset(kept))
            builder = Builder(gm, project.add_network(network), record(gm, inputs))
            builder.opaque = kept
            builder.build()
            return project, gm, builder
        except RefusedPart as e:
            part = smallest_part(e.scope, kept)
            if part is None:
                raise StudioError(str(e)) from None
            kept = {p: c for p, c in kept.items() if not p.startswith(f"{part.path}.")}
            kept[part.path] = code_of(part, str(e))
            trust.allow([kept[part.path]])  # the user runs this code already: analysis may build it


# --- weights and the check ---------------------------------------------------------

def _shapes(project: Project, network: str) -> dict[tuple[str, str], tuple[list[int], str]]:
    """(node id, output port) -> (shape without the batch, dtype), from the network's analysis."""
    report = Analyzer(project).analyse(network)
    if report.problems:
        listed = "; ".join(str(p) for p in report.problems[:3])
        raise StudioError(f"the imported network has problems: {listed}")
    return {(nid, port): (list(shape), res.dtypes[port]) for nid, res in report.nodes.items()
            for port, shape in res.outputs.items()}


def _compiled(project: Project, network: str):
    report = Analyzer(project).analyse(network)
    if report.problems:
        listed = "; ".join(str(p) for p in report.problems[:3])
        raise StudioError(f"the imported network has problems: {listed}")
    return compile_network(project, network)


def lay_out(project: Project) -> None:
    """Every network and block of the project laid out in layers, top to bottom (docs/architecture.md)."""
    lay_out_project(project)


def matched_weights(model: nn.Module, paths: dict[str, str], sources: dict[str, dict[str, str]],
                    traced: nn.Module) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The module's tensors under the compiled model's keys, and compiled key -> original key.

    `paths` gives each node's module path in the compiled model. Its compiled
    keys are matched to the original keys it owns by their ending:
    ``lstm.rnn.weight_ih_l0`` (the catalog's LSTM wraps torch's) takes
    ``lstm.weight_ih_l0``; a layer rebuilt from a parameter (``F.conv2d(x,
    self.weight)``) takes it under its role (``weight``).
    """
    compiled = list(model.state_dict())
    state, keys = {}, {}
    for nid, owned in sources.items():
        prefix = f"{paths[nid]}."
        for key in (k for k in compiled if k.startswith(prefix)):
            local = key[len(prefix):]
            role = max((r for r in owned if local == r or local.endswith(f".{r}")), key=len, default=None)
            if role is None:
                raise StudioError(f"the module's weights do not fit the imported network: nothing for {key}")
            keys[key] = owned[role]
            state[key] = _tensor(traced, owned[role]).detach().clone()
    return state, keys


def _tensor(module: nn.Module, key: str) -> torch.Tensor:
    *path, name = key.split(".")
    return getattr(module.get_submodule(".".join(path)), name)


def _verify(model: nn.Module, state: dict, expected: Any, cls: type, inputs: tuple) -> float:
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise StudioError(f"the module's weights do not fit the imported network: {str(e).splitlines()[0]}") from None
    model.eval()
    with torch.no_grad():
        want, got = flat_outputs(expected), flat_outputs(model(*inputs))
    if len(want) != len(got):
        raise StudioError(f"the imported network returns {len(got)} output(s), {qualname(cls)} {len(want)}")
    diff, scale = 0.0, 1.0
    for a, b in zip(want, got):
        if a.shape != b.shape:
            raise StudioError(f"the imported network's output has shape {tuple(b.shape)}, the module's {tuple(a.shape)}")
        if a.numel():
            diff = max(diff, float((a.double() - b.double()).abs().max()))
            scale = max(scale, float(a.abs().max()))
    if not diff <= RTOL * scale:
        raise StudioError(f"the imported network computes something else than {qualname(cls)} "
                          f"(largest difference {diff:.3g}): a layer uses a setting the catalog does not hold. "
                          f"Nothing was imported")
    return diff
