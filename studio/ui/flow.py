"""Which way the canvas draws data flowing: "down" (ports on a card's top and bottom) or "right".

The direction belongs to the project (`studio.graph.layout.flow_of`); the editor
calls `use` with it before it builds a scene, and the cards and wires read
`current()` as they place ports and bend curves, the way they read the theme.
"""

from __future__ import annotations

from studio.graph.layout import DIRECTIONS

_current = ["down"]


def current() -> str:
    """The direction of flow being drawn: "down" or "right"."""
    return _current[0]


def use(direction: str) -> None:
    """Draws from now on with data flowing `direction`."""
    _current[0] = direction if direction in DIRECTIONS else "down"


def down() -> bool:
    """True when data flows top to bottom."""
    return _current[0] == "down"
