"""Safe evaluation of block parameter expressions such as ``"$width * 4"``.

Only numbers, names of block parameters, ``+ - * //`` (and ``/`` for floats),
unary minus and parentheses are allowed; the text is parsed with `ast` and
walked by hand, never passed to `eval`. Arithmetic takes numbers only (a text
parameter may be named alone, for a choice such as ``"$activation"``); the text
is at most `MAX_LENGTH` characters and every value stays within `MAX_MAGNITUDE`,
so no expression can recurse deeply, build a huge number or repeat a text.
"""

from __future__ import annotations

import ast
import math
import operator
from typing import Any

MAX_LENGTH = 200
MAX_MAGNITUDE = 2 ** 63  # larger than any size torch takes

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.FloorDiv: operator.floordiv, ast.Div: operator.truediv}


class ExpressionError(ValueError):
    """An expression that does not evaluate; the message says why."""


def evaluate(text: str, names: dict[str, Any]) -> Any:
    """The value of `text` (with or without its leading ``$``) given `names`."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"'{text[:40]}...' is {len(text)} characters long; "
                              f"an expression may have at most {MAX_LENGTH}")
    source = text[1:] if text.startswith("$") else text
    # "$width" style references inside the expression are plain names to ast.
    source = source.replace("$", "")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ExpressionError(f"'{text}' is not a valid expression") from None
    return _eval(tree.body, names, text)


def _eval(node: ast.AST, names: dict[str, Any], text: str) -> Any:
    if isinstance(node, ast.Constant) and _is_number(node.value):
        return _bounded(node.value, text)
    if isinstance(node, ast.Name):
        if node.id not in names:
            known = ", ".join(sorted(names)) or "none"
            raise ExpressionError(f"'{text}': unknown name '{node.id}' (names defined here: {known}; a block defines its parameters, a network "
                                  f"defines classes when an Output node sets it)")
        value = names[node.id]
        return _bounded(value, text) if _is_number(value) else value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _number(_eval(node.operand, names, text), text)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left = _number(_eval(node.left, names, text), text)
        right = _number(_eval(node.right, names, text), text)
        if isinstance(node.op, (ast.FloorDiv, ast.Div)) and right == 0:
            raise ExpressionError(f"'{text}': division by zero")
        return _bounded(_BINARY[type(node.op)](left, right), text)
    raise ExpressionError(f"'{text}': only numbers, parameter names, + - * // / and parentheses are allowed")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value: Any, text: str):
    if not _is_number(value):
        raise ExpressionError(f"'{text}': arithmetic needs numbers, got {value!r:.40}")
    return value


def _bounded(value, text: str):
    if isinstance(value, float) and not math.isfinite(value) or abs(value) >= MAX_MAGNITUDE:
        raise ExpressionError(f"'{text}': a value in it is out of range (at most about 9.2e18 either way)")
    return value
