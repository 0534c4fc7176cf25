"""Checking one parameter value against its `Param`: kind, range, choices.

`check_value` returns the value in its canonical JSON-native form (a tuple of
ints becomes a list, 3.0 for an int becomes 3) or raises ValueError with a
sentence that names what is wrong; callers add the node and file.
"""

from __future__ import annotations

import math
from typing import Any

from studio.catalog.spec import Param


def is_expression(value: Any) -> bool:
    """True for a block expression such as ``"$width * 4"``, or a list holding one (``[1, "$k"]``)."""
    if isinstance(value, list):
        return any(is_expression(v) for v in value)
    return isinstance(value, str) and value.startswith("$")


def check_value(param: Param, value: Any) -> Any:
    """The canonical form of `value` for `param`; ValueError if it does not fit."""
    kind = param.kind
    if value is None and (kind.startswith("optional_") or param.default is None):
        return None
    if kind in ("int", "optional_int"):
        return _in_range(param, _as_int(param, value))
    if kind in ("float", "optional_float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
            raise ValueError(f"'{param.name}' must be a finite number, got {value!r:.40}")
        return _in_range(param, float(value))
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"'{param.name}' must be true or false, got {value!r}")
        return value
    if kind == "choice":
        if value not in param.choices:
            allowed = ", ".join(repr(c) for c in param.choices)
            raise ValueError(f"'{param.name}' must be one of {allowed}, got {value!r}")
        return value
    if kind == "ints":
        if isinstance(value, (list, tuple)):
            if not value:
                raise ValueError(f"'{param.name}' needs at least one number")
            return [_in_range(param, _as_int(param, v)) for v in value]
        if isinstance(value, str) and param.choices and value in param.choices:
            return value
        return _in_range(param, _as_int(param, value))
    if kind == "shape":
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"'{param.name}' must be a list of sizes such as [1, 28, 28], got {value!r}")
        if not value and param.min is not None and param.min >= 1:  # sizes, not a new order or a reshape
            raise ValueError(f"'{param.name}' needs at least one size, such as [1]")
        return [_in_range(param, _as_int(param, v)) for v in value]
    if kind == "str":
        if not isinstance(value, str):
            raise ValueError(f"'{param.name}' must be text, got {value!r}")
        return value
    raise ValueError(f"'{param.name}' has an unknown kind {kind!r}")


def _finite(value: int | float) -> bool:
    return abs(value) < 1e308 if isinstance(value, int) else math.isfinite(value)


def _as_int(param: Param, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"'{param.name}' must be a whole number, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, int):
        raise ValueError(f"'{param.name}' must be a whole number, got {value!r}")
    return value


def _in_range(param: Param, value):
    if param.min is not None and value < param.min:
        raise ValueError(f"'{param.name}' must be at least {_fmt(param.min)}, got {value}")
    if param.max is not None and value > param.max:
        raise ValueError(f"'{param.name}' must be at most {_fmt(param.max)}, got {value}")
    return value


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
