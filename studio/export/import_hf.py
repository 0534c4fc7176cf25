"""Tracing modules that hold a Hugging Face ``transformers`` model with that library's own tracer.

transformers 4.x ships ``transformers.utils.fx.HFTracer``: it runs each traced
call on meta tensors as well, so the models' size-dependent code (``input_ids.size()``
feeding ``torch.ones``, masks, ``position_ids[:, :seq_len]``) traces. `tracer_class`
makes the importer's tracer (`studio.export.import_trace._Tracer`) out of it,
fed the example inputs by name; where a part still cannot be traced or has no
catalog form, the importer keeps it whole as a "Module" node as for any other
code (docs/architecture.md, "Code a project runs"). transformers 5 has no
tracer: `tracer_class` gives None and the plain fx tracer runs, which keeps a
transformers model whole.

A transformers model imported as the root itself (``BertForSequenceClassification``
built from a config) passes ``None`` and flags to its own parts, which no node
can; `WholeModel` wraps it so the importer keeps it whole, one "Module" node
whose outputs are its ``ModelOutput``'s tensors, by name.

HFTracer patches torch functions (``torch.ones``, ...) and transformers' cache
classes while it traces and does not put them back when tracing fails; the
tracer made here does, so a failed trace leaves torch as it was.
"""

from __future__ import annotations

import inspect
import sys
from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn

from studio.errors import StudioError


def is_hugging_face(module: nn.Module) -> bool:
    """A transformers module, or a user's subclass of one (the usual way to fix a config in code)."""
    return any(c.__module__.split(".")[0] == "transformers" for c in type(module).__mro__)


def tracer_class(base: type) -> type | None:
    """`base` mixed with transformers' tracer, or None where transformers has none (5.x) or is not installed."""
    try:
        from transformers.utils.fx import HFTracer
    except ImportError:
        return None

    class HuggingFaceTracer(base, HFTracer):
        """`base`'s leaves and records, HFTracer's meta tensors; torch patched only while tracing."""

        def trace_with(self, module: nn.Module, inputs: tuple) -> torch.fx.Graph:
            """The graph of `module` on example `inputs`, matched to its forward's first parameters."""
            names = [p for p in inspect.signature(module.forward).parameters if p not in ("args", "kwargs")]
            return self.trace(module, dummy_inputs=dict(zip(names, inputs)))

        @contextmanager
        def patch_for_tracing(self, root) -> Iterator[None]:
            with _restored(self._TORCH_METHODS_TO_PATCH, self._CLASSES_TO_PATCH):
                with HFTracer.patch_for_tracing(self, root):
                    yield

    return HuggingFaceTracer


@contextmanager
def _restored(functions: list[str], classes: dict) -> Iterator[None]:
    """torch's functions named in `functions` and every transformers module's reference to a key of
    `classes` put back afterwards, whatever happened."""
    saved = {name: getattr(torch, name) for name in functions}
    bound = [(mod, attr, value) for name, mod in list(sys.modules.items()) if name.startswith("transformers")
             for attr, value in list(vars(mod).items()) if any(value is c for c in classes)]
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(torch, name, value)
        for mod, attr, value in bound:
            setattr(mod, attr, value)


class WholeModel(nn.Module):
    """A transformers model as one part (``model``), returning the tensors of its output by field name."""

    def __init__(self, model: nn.Module, fields: tuple[str, ...]):
        super().__init__()
        self.model = model
        self.fields = fields

    def forward(self, input_ids):  # noqa: D102 (the wrapped model's, its ModelOutput's tensor fields)
        return self.outputs(self.model(input_ids))

    def outputs(self, out):
        """The tensors of `out` (a ModelOutput) in `fields`' order; one alone."""
        values = tuple(getattr(out, name) for name in self.fields)
        return values[0] if len(values) == 1 else values


class WholeModelWithMask(WholeModel):
    """`WholeModel` given two inputs, in the model's order (BERT's: the token ids and the attention mask)."""

    def forward(self, input_ids, attention_mask):  # noqa: D102
        return self.outputs(self.model(input_ids, attention_mask))


def whole_model(model: nn.Module, inputs: tuple) -> WholeModel:
    """`model` wrapped to be imported as one part (one or two inputs, passed in order as the node passes
    them); its fields read from one run on `inputs`."""
    if len(inputs) not in (1, 2):
        raise StudioError(f"{type(model).__name__} is kept whole with one or two inputs (the token ids, an "
                          f"attention mask); got {len(inputs)}")
    wrapper = (WholeModel, WholeModelWithMask)[len(inputs) - 1]
    with torch.no_grad():
        out = model(*inputs)
    fields = tuple(k for k, v in out.items() if isinstance(v, torch.Tensor)) if hasattr(out, "items") else ()
    if not fields:
        raise StudioError(f"{type(model).__name__} returned {type(out).__name__}, not a transformers ModelOutput")
    return wrapper(model, fields)
