"""The values the importer's walk over a traced graph gives each fx node (`studio.export.import_build`).

A traced value is, for the walk, one of:

* ``(node id, port)`` (`Out`): a tensor a node outputs;
* `TimeMajor`: such a tensor with its batch and time dimensions swapped, as
  ``x.permute(1, 0, 2)`` leaves it for a ``batch_first=False`` layer; the
  catalog's layers are batch first, so the swap and the swap back vanish and
  the layer takes the tensor as it was;
* `Recurrent`: a part of what a raw ``nn.LSTM``/``GRU``/``RNN`` returned; what
  the code takes from it (the sequence, ``h_n[-1]``, ``torch.cat([h_n[-2],
  h_n[-1]], 1)``) sets the catalog layer's ``output`` (`import_sequences`);
* `Several`: what a layer returning a tuple gave, of which only the first item has a node;
* `Results`: what a kept module ("Module" node) gave, its items (or fields) its ports;
* `Param`: a parameter of the module used in forward, which functional
  calls (``F.conv2d(x, self.weight, ...)``, ``x * self.gamma``) turn into the
  layer that owns it;
* `Mask`: an attention mask; a causal one sets the layer's ``causal``;
* None: a size or another plain value (the rules read them through `Sizes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Out = tuple[str, str]


@dataclass(frozen=True)
class TimeMajor:
    """The tensor `value` seen with its batch and time dimensions swapped (batch second)."""

    value: Out


@dataclass(frozen=True)
class Recurrent:
    """Part of a raw recurrent layer's result: "result", "state" ((h, c)), "h" (h_n), "h_fwd" or "h_bwd"."""

    node: str
    part: str
    time_major: bool


@dataclass(frozen=True)
class Several:
    """What a layer returning a tuple gave; `refused` says why its other items cannot be used."""

    first: Any
    refused: str


@dataclass(frozen=True)
class Results:
    """What a kept module ("Module" node) returning `count` tensors gave: its items are its ports, and
    so are its `fields` (a Hugging Face model's ``.last_hidden_state``)."""

    node: str
    count: int
    fields: tuple[str, ...] = ()

    def port(self, item: int | str) -> str | None:
        """The port of item `item` (a position or a field name), None when there is no such item."""
        index = self.fields.index(item) if item in self.fields else item if isinstance(item, int) else None
        if index is None or not -self.count <= index < self.count:
            return None
        return "out" if self.count == 1 else f"out{index % self.count}"


@dataclass(frozen=True)
class Param:
    """A parameter or buffer of the module (``get_attr``), possibly expanded over the batch."""

    target: str
    expanded: bool = False


@dataclass(frozen=True)
class Mask:
    """An attention mask; only causal ones have a catalog form."""

    causal: bool
