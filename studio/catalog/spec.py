"""What a layer type is: a `LayerSpec`, plain data read by every part of the app.

A spec names the type, its category, its one-line doc, its ports, its typed
parameters and how to build it. Parameters whose value the input shape fixes
(`in_channels`, `in_features`, ...) carry an `infer` function and are never
asked of the user. Building is `spec.build(resolved_params)`, which returns a
`torch.nn.Module`; a spec with `function` instead is compiled to a plain call
(`torch.cat`, `operator.add`) so generated code reads like hand-written code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from studio.errors import StudioError

PARAM_KINDS = ("int", "float", "bool", "choice", "ints", "shape", "str", "optional_int", "optional_float")


@dataclass(frozen=True)
class Param:
    """One typed parameter of a layer.

    Attributes:
        name: the keyword the module takes.
        kind: one of PARAM_KINDS. ``ints`` is an int or a list of ints (kernel
            sizes), ``shape`` a list of ints (sizes without the batch), the
            ``optional_*`` kinds also accept ``None``.
        default: value used when the node does not set it.
        doc: one short line for tooltips.
        min, max: inclusive bounds for numbers (and for each item of ``ints``).
        choices: the allowed values of a ``choice``.
        infer: for a parameter the input fixes: a function of the list of
            input shapes (batch first) giving the value. Never stored on nodes.
    """

    name: str
    kind: str
    default: Any = None
    doc: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple = ()
    infer: Callable[[list[tuple[int, ...]]], Any] | None = None

    @property
    def inferred(self) -> bool:
        """True when the input shape decides this parameter."""
        return self.infer is not None


@dataclass(frozen=True)
class LayerSpec:
    """A layer type as data.

    Attributes:
        type: the name used in project files and on the palette ("Conv2d").
        category: palette group ("Convolution").
        doc: one line shown as tooltip and in `studio` docs.
        params: the typed parameters, inferred ones included.
        inputs: input port names, or a function of the params giving them
            (Concat has as many as its ``inputs`` parameter says).
        outputs: output port names, or a function of the params.
        optional: input ports that may stay unconnected.
        fallback: for an unconnected optional port, the port whose value it
            takes (attention's ``key`` falls back to ``query``).
        module: the class to build, called with the resolved params as keywords
            (with `function` too: the torch.nn class the type stands for, for import).
        build: instead of ``module``, a function of the resolved params that
            returns (class, keywords) (for types whose class depends on a choice).
        function: a function called on the inputs with ``call_kwargs(params)``
            instead of building a module; ``list_input`` passes the inputs as one list.
        rank: the number of dims (batch included) each input must have, if fixed.
        dtype: "long" when the inputs must hold integer indices.
        exclude: params that describe the node but are not constructor keywords.
        role: "input" or "output" for the types that are a network's ends (and
            a block's ports), "layer" for every other type.
        runs_code: the node runs the user's own code (the "Module" type): it is built only
            once that code is trusted, and its shapes come from a run on zeros on the CPU.
    """

    type: str
    category: str
    doc: str
    params: tuple[Param, ...] = ()
    inputs: tuple[str, ...] | Callable[[dict], tuple[str, ...]] = ("in",)
    outputs: tuple[str, ...] | Callable[[dict], tuple[str, ...]] = ("out",)
    optional: tuple[str, ...] = ()
    fallback: dict = field(default_factory=dict)
    module: type | None = None
    build: Callable[[dict], tuple[type, dict]] | None = None
    function: Callable | None = None
    call_kwargs: Callable[[dict], dict] | None = None
    list_input: bool = False
    rank: int | tuple[int, ...] | None = None
    dtype: str | None = None
    exclude: tuple[str, ...] = ()
    role: str = "layer"
    runs_code: bool = False

    def param(self, name: str) -> Param:
        """The parameter called `name`; StudioError if the type has none."""
        for p in self.params:
            if p.name == name:
                return p
        raise StudioError(f"{self.type} has no parameter '{name}'")

    def defaults(self) -> dict:
        """The user-settable parameters with their defaults."""
        return {p.name: p.default for p in self.params if not p.inferred}

    def with_defaults(self, params: dict) -> dict:
        """`params` (what a node sets) with the defaults of what it leaves out."""
        return {**self.defaults(), **params}

    def input_ports(self, params: dict) -> tuple[str, ...]:
        """Input port names for these parameter values."""
        return self.inputs(params) if callable(self.inputs) else self.inputs

    def output_ports(self, params: dict) -> tuple[str, ...]:
        """Output port names for these parameter values."""
        return self.outputs(params) if callable(self.outputs) else self.outputs

    @property
    def is_function(self) -> bool:
        """True when the node compiles to a function call, not a submodule."""
        return self.function is not None

    def constructor(self, params: dict) -> tuple[type, dict]:
        """The module class and its keywords for fully resolved params (inferred included)."""
        kwargs = {k: v for k, v in params.items() if k not in self.exclude}
        if self.build is not None:
            return self.build(kwargs)
        return self.module, kwargs

    def make_module(self, params: dict) -> torch.nn.Module:
        """Build the torch module from fully resolved params."""
        cls, kwargs = self.constructor(params)
        return cls(**kwargs)

    def kwargs_for_call(self, params: dict) -> dict:
        """Keyword arguments of a function node's call."""
        return self.call_kwargs(params) if self.call_kwargs else {}
