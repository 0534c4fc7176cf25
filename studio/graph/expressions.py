"""Safe evaluation of block parameter expressions such as ``"$width * 4"``.

Only numbers, names of block parameters, ``+ - * //`` (and ``/`` for floats),
unary minus and parentheses are allowed; the text is parsed with `ast` and
walked by hand, never passed to `eval`.
"""

from __future__ import annotations

import ast
import operator
from typing import Any

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.FloorDiv: operator.floordiv, ast.Div: operator.truediv}


class ExpressionError(ValueError):
    """An expression that does not evaluate; the message says why."""


def evaluate(text: str, names: dict[str, Any]) -> Any:
    """The value of `text` (with or without its leading ``$``) given `names`."""
    source = text[1:] if text.startswith("$") else text
    # "$width" style references inside the expression are plain names to ast.
    source = source.replace("$", "")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError:
        raise ExpressionError(f"'{text}' is not a valid expression") from None
    return _eval(tree.body, names, text)


def _eval(node: ast.AST, names: dict[str, Any], text: str) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in names:
            known = ", ".join(sorted(names)) or "none"
            raise ExpressionError(f"'{text}': unknown name '{node.id}' (names defined here: {known}; a block defines its parameters, a network "
                                  f"defines classes when an Output node sets it)")
        return names[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _eval(node.operand, names, text)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left, names, text), _eval(node.right, names, text)
        if isinstance(node.op, (ast.FloorDiv, ast.Div)) and right == 0:
            raise ExpressionError(f"'{text}': division by zero")
        return _BINARY[type(node.op)](left, right)
    raise ExpressionError(f"'{text}': only numbers, parameter names, + - * // / and parentheses are allowed")
