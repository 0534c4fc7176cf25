"""What a node may hold: a legal name, parameters its catalog entry accepts, a Block node's parameters.

`Network`'s primitives check every name and parameter here before anything
changes; analysis checks a Block node's parameters again once its
``$expressions`` are evaluated.
"""

from __future__ import annotations

import math
import re

from studio import catalog
from studio.catalog import BLOCK_TYPE, check_value, is_expression
from studio.errors import GraphError
from studio.graph.topology import Node


def checked_params(type_name: str, params: dict, where: str) -> dict:
    """`params` of a node of type `type_name` named `where`, each value checked; GraphError if one is refused.

    ``$expressions`` pass unchecked (analysis checks their values).
    """
    if type_name == BLOCK_TYPE:
        return check_block_params(params, where)
    spec = catalog.get(type_name)
    out = {}
    for key, value in params.items():
        p = _settable(spec, key, where)
        if is_expression(value):
            out[key] = value
            continue
        try:
            out[key] = check_value(p, value)
        except ValueError as e:
            raise GraphError(f"{type_name} '{where}': {e}") from None
    return out


def keeps_none(node: Node, key: str) -> bool:
    """Whether None is a value `key` of `node` keeps (an optional parameter whose default is not None)."""
    if node.type == BLOCK_TYPE:
        return False
    p = catalog.get(node.type).param(key)
    return p.kind.startswith("optional_") and p.default is not None


def _settable(spec, key: str, where: str):
    try:
        p = spec.param(key)
    except Exception:
        raise GraphError(f"{spec.type} '{where}' has no parameter '{key}'") from None
    if p.inferred:
        raise GraphError(f"{spec.type} '{where}': '{key}' follows from the input shape and cannot be set")
    return p


def check_name(name) -> None:
    """GraphError unless `name` is a legal node name: letters, digits and _, starting with a letter or _."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_]\w*", name):
        raise GraphError(f"{name!r:.60} is not a valid name: use letters, digits and _, starting with a letter")


def check_block_params(params: dict, where: str) -> dict:
    """The parameters of a Block node, checked (`repeat` a whole number from 1 to 1000); GraphError if not.

    Analysis calls it again with every ``$expression`` evaluated, so a computed
    `repeat` meets the same limits as a typed one.
    """
    if not isinstance(params.get("block"), str):
        raise GraphError(f"block '{where}' needs a 'block' parameter naming its definition")
    repeat = params.get("repeat", 1)
    ok = is_expression(repeat) or (isinstance(repeat, int) and not isinstance(repeat, bool) and 1 <= repeat <= 1000)
    if not ok:
        raise GraphError(f"block '{where}': 'repeat' must be a whole number from 1 to 1000, got {repeat!r:.40}")
    for key, value in params.items():
        if key != "block" and not (is_plain_value(value) or value is None):
            raise GraphError(f"block '{where}': parameter '{key}' must be a number, a text or an expression")
    return params


def is_plain_value(value) -> bool:
    """True for what a block parameter may hold: a whole number, a finite float, true/false or a text."""
    return isinstance(value, (int, str)) or (isinstance(value, float) and math.isfinite(value))
