"""What the import rules know about traced values: tensor shapes, and sizes computed from them.

Code often computes a layer's settings from tensor sizes: U-Net pads the
up-sampled map by ``x2.size()[2] - x1.size()[2]``, an FPN interpolates to
``skip.shape[2:]``. `Sizes` answers for any traced value: its shape (a
tensor), its value on the example inputs (a size, a number), which tensors'
sizes it reads (`sources`), and what it would be if those tensors had other
shapes (`evaluate`, which replays the size arithmetic). A rule uses the last
one to tell "the size of that other tensor" from a number that only happens to
be equal on the example.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import torch
from torch import fx

from studio.export.import_rules import Unsupported
from studio.export.import_trace import TensorInfo

# Calls a size computation may make; anything else is read from the recording.
_ARITHMETIC = {operator.add, operator.sub, operator.mul, operator.floordiv, operator.truediv, operator.mod,
               operator.neg, operator.getitem, max, min, math.ceil, math.floor, int, abs}


class Sizes:
    """Shapes and size arithmetic over one recorded trace (see the module docstring)."""

    def __init__(self, seen: dict[fx.Node, Any]):
        self.seen = seen

    def __call__(self, v) -> tuple[int, ...]:
        return self.shape(v)

    def info(self, v) -> TensorInfo | None:
        """The TensorInfo of a traced tensor; None for anything else."""
        value = self.seen.get(v) if isinstance(v, fx.Node) else None
        return value if isinstance(value, TensorInfo) else None

    def shape(self, v) -> tuple[int, ...]:
        """The shape of a traced tensor (batch included); Unsupported if `v` is not one."""
        info = self.info(v)
        if info is None:
            raise Unsupported(f"'{getattr(v, 'name', v)}' is not a tensor")
        return info.shape

    def value(self, v) -> Any:
        """`v` with every traced node replaced by what it was on the example inputs."""
        if isinstance(v, (list, tuple)):
            return type(v)(self.value(i) for i in v)
        if isinstance(v, fx.Node):
            return self.seen.get(v)
        return v

    def sources(self, v) -> set[fx.Node]:
        """The traced tensors whose sizes `v` is computed from."""
        found: set[fx.Node] = set()
        stack = list(v) if isinstance(v, (list, tuple)) else [v]
        while stack:
            item = stack.pop()
            if isinstance(item, (list, tuple)):
                stack.extend(item)
            elif isinstance(item, fx.Node):
                if self.info(item) is not None:
                    found.add(item)
                else:
                    stack.extend(item.args)
                    stack.extend(item.kwargs.values())
        return found

    def evaluate(self, v, shapes: dict[fx.Node, tuple[int, ...]]) -> Any:
        """What `v` would be if the tensors in `shapes` had those shapes (others keep theirs).

        Raises Unsupported when `v` is computed by a call other than size
        arithmetic (``+ - * // max ...``, ``size()``, ``.shape``, indexing).
        """
        if isinstance(v, (list, tuple)):
            return type(v)(self.evaluate(i, shapes) for i in v)
        if not isinstance(v, fx.Node):
            return v
        if self.info(v) is not None:
            return torch.Size(shapes.get(v, self.info(v).shape))
        args = [self.evaluate(a, shapes) for a in v.args]
        if v.op == "call_method" and v.target == "size":
            return args[0] if len(args) == 1 else args[0][args[1]]
        if v.op == "call_method" and v.target == "dim":
            return len(args[0])
        if v.op == "call_function" and v.target is getattr and v.args[1] == "shape":
            return args[0]
        if v.op == "call_function" and v.target in _ARITHMETIC and not v.kwargs:
            return v.target(*args)
        raise Unsupported(f"a size computed with '{v.name}', which import cannot follow")


def grown(shape: tuple[int, ...], by: int) -> tuple[int, ...]:
    """`shape` with every dimension after the channels larger by `by`, 2 × by, ... (a probe for `evaluate`)."""
    return tuple(s if d < 2 else s + by * (d - 1) for d, s in enumerate(shape))
