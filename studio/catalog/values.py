"""Checking one parameter value against its `Param`: kind, range, choices.

`check_value` returns the value in its canonical JSON-native form (a tuple of
ints becomes a list, 3.0 for an int becomes 3) or raises ValueError with a
sentence that names what is wrong; callers add the node and file.
`parse_value` reads what a user typed for a value. Both go through `KINDS`,
one entry per parameter kind.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from studio.catalog.spec import Param


def is_expression(value: Any) -> bool:
    """True for a block expression such as ``"$width * 4"``, or a list holding one (``[1, "$k"]``)."""
    if isinstance(value, list):
        return any(is_expression(v) for v in value)
    return isinstance(value, str) and value.startswith("$")


def check_value(param: Param, value: Any) -> Any:
    """The canonical form of `value` for `param`; ValueError if it does not fit."""
    if value is None and (param.kind.startswith("optional_") or param.default is None):
        return None
    if param.kind not in KINDS:
        raise ValueError(f"'{param.name}' has an unknown kind {param.kind!r}")
    return KINDS[param.kind].check(param, value)


def parse_value(kind: str, text: str, choices=(), allow_expr: bool = False) -> Any:
    """The value `text` (as a user types it) means for a parameter of `kind`; ValueError with a reason if none."""
    t = text.strip()
    if allow_expr and t.startswith("$"):
        if len(t) < 2:
            raise ValueError("an expression needs a name after $")
        return t
    if kind.startswith("optional_") and t == "":
        return None
    if kind == "ints" and t in choices:
        return t
    parse = KINDS[kind].parse if kind in KINDS else None
    return text if parse is None else parse(t)


def format_value(value: Any) -> str:
    """A parameter value as the user types it: [1, 28, 28] -> "1, 28, 28"."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- one entry per kind: how a value is checked, how typed text is read ---------------

def _check_int(param: Param, value: Any) -> int:
    return _in_range(param, _as_int(param, value))


def _check_float(param: Param, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
        raise ValueError(f"'{param.name}' must be a finite number, got {value!r:.40}")
    return _in_range(param, float(value))


def _check_bool(param: Param, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"'{param.name}' must be true or false, got {value!r}")
    return value


def _check_choice(param: Param, value: Any) -> Any:
    if value not in param.choices:
        allowed = ", ".join(repr(c) for c in param.choices)
        raise ValueError(f"'{param.name}' must be one of {allowed}, got {value!r}")
    return value


def _check_ints(param: Param, value: Any) -> int | str | list[int]:
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"'{param.name}' needs at least one number")
        return [_in_range(param, _as_int(param, v)) for v in value]
    if isinstance(value, str) and param.choices and value in param.choices:
        return value
    return _in_range(param, _as_int(param, value))


def _check_shape(param: Param, value: Any) -> list[int]:
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"'{param.name}' must be a list of sizes such as [1, 28, 28], got {value!r}")
    if not value and param.min is not None and param.min >= 1:  # sizes, not a new order or a reshape
        raise ValueError(f"'{param.name}' needs at least one size, such as [1]")
    return [_in_range(param, _as_int(param, v)) for v in value]


def _check_str(param: Param, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"'{param.name}' must be text, got {value!r}")
    return value


def _parse_int(t: str) -> int:
    try:
        return int(t)
    except ValueError:
        raise ValueError(f"'{t}' is not a whole number") from None


def _parse_float(t: str) -> float:
    try:
        return float(t)
    except ValueError:
        raise ValueError(f"'{t}' is not a number") from None


def _parse_bool(t: str) -> bool:
    if t.lower() in ("true", "1", "yes"):
        return True
    if t.lower() in ("false", "0", "no"):
        return False
    raise ValueError(f"'{t}' is not true or false")


def _parse_numbers(t: str) -> list[int]:
    parts = t.strip("[]()").replace(",", " ").split()
    if not parts:
        raise ValueError("type one or more whole numbers, separated by commas")
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"'{t}' is not a list of whole numbers") from None


def _parse_ints(t: str) -> int | list[int]:
    nums = _parse_numbers(t)
    return nums[0] if len(nums) == 1 else nums


@dataclass(frozen=True)
class Kind:
    """How values of one parameter kind are checked and how text typed for one is read (None: kept as typed)."""

    check: Callable[[Param, Any], Any]
    parse: Callable[[str], Any] | None = None


KINDS: dict[str, Kind] = {
    "int": Kind(_check_int, _parse_int),
    "optional_int": Kind(_check_int, _parse_int),
    "float": Kind(_check_float, _parse_float),
    "optional_float": Kind(_check_float, _parse_float),
    "bool": Kind(_check_bool, _parse_bool),
    "choice": Kind(_check_choice),
    "ints": Kind(_check_ints, _parse_ints),
    "shape": Kind(_check_shape, _parse_numbers),
    "str": Kind(_check_str),
}


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
