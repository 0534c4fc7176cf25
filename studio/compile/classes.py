"""The classes of generated Python source, written as a PyTorch engineer writes them.

`ClassWriter` writes one class per network and one per block definition. The
values that differ between a definition's instances (its ``$`` arguments, and
the sizes the input decides, such as a convolution's ``in_channels``) become
constructor parameters, with the first instance's values as defaults; each
instance passes its own. Instances whose forward code would differ (a ``$``
argument of a function node, a repeated block whose instances differ) get a
class of their own (``Block``, ``Block2``). Layers are built with their
required arguments positionally and only the keywords that differ from the
class's defaults (``nn.Conv2d(8, 16, 3, stride=2, bias=False)``); forward is
torch.fx's code for the network with fx's leftovers removed (``x = None``,
``dim = 1`` spacing, ``input_1 = input`` aliases).

`used_helpers` gives the source of the studio modules a file uses (and the
functions they call), nothing more, from the files `catalog.own_modules`
lists; `imports` the import lines the text needs.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import keyword
import re
from typing import Any

import torch

from studio import catalog
from studio.catalog import BLOCK_TYPE
from studio.catalog import own_modules
from studio.compile.fx import attribute_names, build_module, class_name_for
from studio.compile.opaque_source import Code, constructor_arguments, imported, is_torch_layer
from studio.graph.analysis import Report
from studio.graph.project import Project

_CALL = re.compile(r"^(\s*)(.+?) = (.*)$")


class ClassWriter:
    """Writes the classes of a project's networks (see the module docstring).

    Attributes:
        classes: the class texts, each before the classes that use it.
        helpers: names of studio modules the classes build.
    """

    def __init__(self, project: Project, taken: set[str]):
        self.project = project
        self.taken = set(taken)
        self.classes: list[str] = []
        self.helpers: set[str] = set()
        self.made: dict[int, tuple[str, dict]] = {}  # id(instance report) -> (class, constructor arguments)
        self.defaults: dict[str, dict] = {}  # class -> its parameters' defaults
        self.imports: list[str] = []  # import lines of the user's own classes ("Module" nodes)
        self.imported: dict[str, str] = {}  # their targets -> the names the file gives them
        self.hooks_model_outputs = False  # a module of code kept as it is: its outputs pass MODEL_OUTPUT_ITEMS

    def network(self, name: str, report: Report, class_name: str) -> None:
        """Writes the classes of one top-level network (its blocks' first) under `class_name`."""
        for block in self._order(report):
            self._block(block, self._instances(report, block))
        self._write(class_name, self.project.network(name), [report], parameters=False)

    # --- which instances, in which order ---------------------------------------------
    def _order(self, report: Report) -> list[str]:
        """The blocks `report` uses, each after the blocks it uses."""
        order: list[str] = []

        def visit(rep: Report) -> None:
            for res in rep.nodes.values():
                for inner in res.inner:
                    visit(inner)
                    if res.resolved["block"] not in order:
                        order.append(res.resolved["block"])
        visit(report)
        return order

    def _instances(self, report: Report, block: str) -> list[Report]:
        found: list[Report] = []

        def visit(rep: Report) -> None:
            for res in rep.nodes.values():
                for inner in res.inner:
                    if res.resolved["block"] == block and id(inner) not in self.made:
                        found.append(inner)
                    visit(inner)
        visit(report)
        return found

    def _block(self, block: str, instances: list[Report]) -> None:
        net = self.project.block(block).network
        groups: dict[Any, list[Report]] = {}
        for rep in instances:
            groups.setdefault(self._shape(net, rep), []).append(rep)
        for reps in groups.values():
            self._write(self._unique(class_name_for(block)), net, reps, parameters=True)

    def _shape(self, net, rep: Report) -> Any:
        """What instances of one class must share: forward code, each node's class, repeated blocks."""
        built = [self._build(node, rep) for node in net.iter_nodes() if _built(node)]
        return _forward(self.project, net, rep), tuple((cls, kwargs.get("*")) for cls, kwargs in built)

    # --- one class -------------------------------------------------------------------
    def _write(self, name: str, net, reps: list[Report], parameters: bool) -> None:
        names = attribute_names(net)
        nodes = [n for n in net.iter_nodes() if _built(n)]
        built = [[self._build(n, rep) for n in nodes] for rep in reps]
        slots = self._parameters(net, nodes, built) if parameters and len(reps) > 1 else {}
        lines = [f"class {name}(nn.Module):"]
        signature = ", ".join(f"{p}={_literal(v)}" for p, v in _defaults(slots, built).items())
        lines += [f"    def __init__(self{', ' + signature if signature else ''}):", "        super().__init__()"]
        for k, node in enumerate(nodes):
            cls, kwargs = built[0][k]
            args = {key: _Ref(slots[(k, key)]) if (k, key) in slots else value for key, value in kwargs.items()}
            lines.append(f"        self.{names[node.id]} = {_construct(cls, self._changed(cls, args))}")
            if _may_return_model_output(node):
                self.hooks_model_outputs = True
                lines.append(f"        self.{names[node.id]}.register_forward_hook(model_output_items)")
        lines += ["", *("    " + line if line else "" for line in _forward(self.project, net, reps[0]).splitlines())]
        self.classes.append("\n".join(lines) + "\n")
        self.defaults[name] = _defaults(slots, built)
        for i, rep in enumerate(reps):
            self.made[id(rep)] = (name, {p: built[i][k][1][key] for (k, key), p in slots.items()})

    def _parameters(self, net, nodes, built) -> dict[tuple[int, str], str]:
        """(node index, keyword) -> parameter name, for the values that differ between instances."""
        by_values: dict[tuple, str] = {}
        slots: dict[tuple[int, str], str] = {}
        for k, node in enumerate(nodes):
            for key in dict.fromkeys(key for b in built for key in b[k][1]):
                values = tuple(repr(b[k][1].get(key)) for b in built)
                if len(set(values)) == 1:
                    continue
                name = by_values.get(values)
                if name is None:
                    name = by_values[values] = _parameter_name(node, key, set(by_values.values()))
                slots[(k, key)] = name
        return slots

    def _build(self, node, rep: Report) -> tuple[str, dict]:
        """(the class expression, its keyword arguments) that builds `node` in the instance `rep`."""
        res = rep.nodes[node.id]
        if node.type == BLOCK_TYPE:
            made = [self.made[id(inner)] for inner in res.inner]
            if len(made) == 1:
                return made[0]
            return "nn.Sequential", {"*": ", ".join(f"{c}({_arguments(self._changed(c, a))})" for c, a in made)}
        if catalog.get(node.type).runs_code:
            args, lines = constructor_arguments(res.resolved["args"])
            self.imports += lines
            return self._user_class(res.resolved["target"]), args
        cls, kwargs = catalog.get(node.type).constructor(res.resolved)
        if own_modules.CLASSES.get(cls.__name__) is cls:
            self.helpers.add(cls.__name__)
            return cls.__name__, dict(kwargs)
        return f"nn.{cls.__name__}", dict(kwargs)

    def _user_class(self, target: str) -> str:
        """The name of the user's class `target` in the file, imported once (its code is not copied)."""
        if target not in self.imported:
            self.imported[target], line = imported(target, self.taken)
            self.imports.append(line)
        return self.imported[target]

    def _changed(self, cls: str, args: dict) -> dict:
        """The arguments that differ from the class's defaults (parameters of the class being written kept)."""
        defaults = self.defaults.get(cls) if cls in self.defaults else _signature_defaults(cls)
        return {k: v for k, v in args.items() if isinstance(v, _Ref) or k not in defaults or defaults[k] != v}

    def _unique(self, base: str) -> str:
        name, i = base, 2
        while name in self.taken:
            name, i = f"{base}{i}", i + 1
        self.taken.add(name)
        return name


def _may_return_model_output(node) -> bool:
    """Whether `node` runs kept code that may return a transformers ModelOutput (torch's own layers do not)."""
    return node.type != BLOCK_TYPE and catalog.get(node.type).runs_code and not is_torch_layer(node.params["target"])


def _built(node) -> bool:
    """True for nodes that are submodules of the class (not Input, Output, or plain function calls)."""
    if node.role != "layer":
        return False
    if node.type == BLOCK_TYPE:
        return True
    spec = catalog.get(node.type)
    return not (spec.is_function and spec.module is None)


def _forward(project: Project, net, rep: Report) -> str:
    with torch.device("meta"):
        code = build_module(project, net, rep, functions=False, inline=False).code
    return tidy_forward(code.strip())


def tidy_forward(code: str) -> str:
    """torch.fx's forward with its leftovers removed: ``x = None`` clean-ups, ``dim = 1`` spacing, aliases."""
    lines = [re.sub(r";\s+(?:\w+ = )+None$", "", line) for line in code.splitlines()]
    params = re.findall(r"\w+", lines[0].split("(", 1)[1].split(")")[0])[1:] if lines else []
    out, rename = [], {}
    for line in lines:
        alias = re.fullmatch(r"\s*(\w+) = (\w+)", line)
        if alias and alias.group(2) in params and alias.group(1) not in rename:
            rename[alias.group(1)] = alias.group(2)
            continue
        for old, new in rename.items():
            line = re.sub(rf"\b{old}\b", new, line)
        call = _CALL.match(line)
        if call:
            keywords = re.sub(r"(\w+) = ", r"\1=", call.group(3))
            line = f"{call.group(1)}{call.group(2)} = {keywords}"
        out.append(line)
    return "\n".join(out)


def _target(cls: str):
    """The class an expression such as ``nn.Conv2d`` or ``Reshape`` names (None for a generated one)."""
    return getattr(torch.nn, cls[3:], None) if cls.startswith("nn.") else own_modules.CLASSES.get(cls)


def _signature_defaults(cls: str) -> dict:
    """Keyword -> default value of a torch or studio module class."""
    try:
        params = inspect.signature(_target(cls)).parameters
    except (TypeError, ValueError):
        return {}
    return {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty}


class _Ref(Code):
    """A constructor parameter's name, written as a name, not as a string."""


def _construct(cls: str, kwargs: dict) -> str:
    """``nn.Conv2d(8, 16, 3, stride=2)``: required arguments in order, then keywords."""
    if "*" in kwargs:
        return f"{cls}({kwargs['*']})"
    target = _target(cls)
    required: list[str] = []
    if target is not None:
        try:
            required = [n for n, p in inspect.signature(target).parameters.items()
                        if p.default is inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
        except (TypeError, ValueError):
            pass
    positional = []
    for name in required:
        if name not in kwargs:
            break
        positional.append(_literal(kwargs[name]))
    rest = [f"{k}={_literal(v)}" for k, v in kwargs.items() if k not in required[:len(positional)]]
    return f"{cls}({', '.join(positional + rest)})"


def _literal(value) -> str:
    return str(value) if isinstance(value, Code) else repr(value)


def _arguments(args: dict) -> str:
    return ", ".join(f"{k}={_literal(v)}" for k, v in args.items())


def _defaults(slots: dict, built: list) -> dict:
    """Parameter -> its value in the first instance."""
    return {name: built[0][k][1][key] for (k, key), name in slots.items()}


def _parameter_name(node, key: str, taken: set[str]) -> str:
    """A constructor parameter's name: the definition's own $ argument where it is one, else the keyword;
    never a keyword, builtin or name the class body uses (self, torch, nn)."""
    value = node.params.get(key)
    if isinstance(value, str) and re.fullmatch(r"\$[A-Za-z_]\w*", value):
        base = value[1:]
    else:
        base = key
    name, i = base, 2
    while name in taken or name in _AVOID:
        name, i = f"{base}{i}", i + 1
    return name


_AVOID = set(keyword.kwlist) | set(keyword.softkwlist) | set(dir(builtins)) | {"self", "torch", "nn", "math",
                                                                               "operator"}


def used_helpers(names: set[str]) -> str:
    """The source of the studio modules named, and of the module-level functions they call, in file order."""
    texts = [inspect.getsource(f) for f in own_modules.FILES]
    trees = [ast.parse(text) for text in texts]
    defs = {n.name: n for tree in trees for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    wanted, stack = set(), list(names)
    while stack:
        name = stack.pop()
        if name in wanted or name not in defs:
            continue
        wanted.add(name)
        stack += [n.id for n in ast.walk(defs[name]) if isinstance(n, ast.Name)]
    copied = []
    for text, tree in zip(texts, trees):
        lines = text.splitlines()
        copied += ["\n".join(lines[d.lineno - 1 - len(d.decorator_list):d.end_lineno])
                   for d in tree.body if isinstance(d, (ast.ClassDef, ast.FunctionDef)) and d.name in wanted]
    return "\n\n\n".join(copied)


def imports(text: str) -> str:
    """The import lines `text` needs (torch and nn always)."""
    lines = []
    for module in ("math", "operator"):
        if re.search(rf"\b{module}\.", text):
            lines.append(f"import {module}")
    typing = [n for n in ("Dict", "List", "Optional", "Tuple") if re.search(rf"\b{n}\[", text)]
    if typing:
        lines.append(f"from typing import {', '.join(typing)}")
    return "\n".join(lines + ([""] if lines else []) + ["import torch", "from torch import nn"])
