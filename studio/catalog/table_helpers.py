"""Short constructors the layer tables use, and the readers of input shapes that inferred parameters take.

Inferred parameters read the shapes of the inputs (batch first):
`channel_dim` is dim 1 of the first input, `last_dim` its last dim.
"""

from __future__ import annotations

from studio.catalog.spec import Param


def channel_dim(shapes):
    """Dim 1 of the first input: its channels."""
    return shapes[0][1]


def last_dim(shapes):
    """The last dim of the first input: its features."""
    return shapes[0][-1]


def numbered(prefix: str, count_param: str):
    """Ports ``prefix0``, ``prefix1``, ... as many as the node's `count_param` says (2 by default)."""
    return lambda params: tuple(f"{prefix}{i}" for i in range(int(params.get(count_param, 2))))


def P(name, kind, default=None, doc="", **kw) -> Param:
    """Short constructor for the table below."""
    return Param(name, kind, default, doc, **kw)


def inferred(name, fn, doc) -> Param:
    """A parameter the input shape decides."""
    return Param(name, "int", None, doc, infer=fn)
