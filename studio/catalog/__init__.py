"""The layer catalog: every layer type as a `LayerSpec`, looked up by name.

Types are resolved only through this registry, so a project file can never
name an importable callable or carry code.
"""

from __future__ import annotations

from studio.catalog.layers import SPECS
from studio.catalog.spec import LayerSpec, Param
from studio.catalog.values import check_value, is_expression
from studio.errors import StudioError

REGISTRY: dict[str, LayerSpec] = {spec.type: spec for spec in SPECS}
# the types of a network's ends, for code that adds them
INPUT = next(spec.type for spec in SPECS if spec.role == "input")
OUTPUT = next(spec.type for spec in SPECS if spec.role == "output")

# "Block" is not a layer: a node of that type instantiates a block definition.
BLOCK_TYPE = "Block"


def role(type_name: str) -> str:
    """The role of a type: "input", "output", or "layer" (blocks and unknown types too)."""
    spec = REGISTRY.get(type_name)
    return spec.role if spec is not None else "layer"


def get(type_name: str) -> LayerSpec:
    """The spec of `type_name`; StudioError naming close matches if unknown."""
    try:
        return REGISTRY[type_name]
    except KeyError:
        import difflib

        near = difflib.get_close_matches(type_name, REGISTRY, n=3)
        hint = f" (did you mean {', '.join(near)}?)" if near else ""
        raise StudioError(f"unknown layer type '{type_name}'{hint}") from None


def categories() -> dict[str, list[LayerSpec]]:
    """Specs grouped by category, in table order."""
    groups: dict[str, list[LayerSpec]] = {}
    for spec in SPECS:
        groups.setdefault(spec.category, []).append(spec)
    return groups


__all__ = ["BLOCK_TYPE", "INPUT", "OUTPUT", "LayerSpec", "Param", "REGISTRY", "categories", "check_value", "get",
           "is_expression", "role"]
