"""The opaque "Module" layer: a module of the user's own code, kept as it is.

`studio import` keeps a submodule the catalog cannot express as one such node
(docs/architecture.md, "Code a project runs"). Its parameters name the class
(``target``: ``path/file.py:Class`` or ``package.module:Class``, as
`studio.user_code.load_class` reads it) and its constructor arguments as JSON
(``args``: a list of positional ones or an object of keywords; a Hugging
Face module's ``config`` is the object of its settings with ``model_type``).
Building it
runs that code, so `build` asks `studio.trust` first: nothing is imported for
a project this user has not trusted.
"""

from __future__ import annotations

import json
from typing import Any, Callable

import torch
from torch import nn

from studio import trust
from studio.errors import StudioError
from studio.user_code import load_class


def ports(count_param: str, prefix: str) -> Callable[[dict], tuple[str, ...]]:
    """Port names: ``in`` for one, ``in0``, ``in1``, ... for several."""
    def named(params: dict) -> tuple[str, ...]:
        count = int(params.get(count_param, 1))
        return (prefix,) if count == 1 else tuple(f"{prefix}{i}" for i in range(count))
    return named


def arguments(text: str) -> tuple[list, dict]:
    """(positional, keywords) from the ``args`` JSON; StudioError when it is neither a list nor an object."""
    try:
        value = json.loads(text or "{}")
    except ValueError as e:
        raise StudioError(f"args is not valid JSON ({e}): write a list or an object, e.g. [16] or {{\"bins\": 9}}") \
            from None
    if isinstance(value, list):
        return value, {}
    if isinstance(value, dict):
        return [], value
    raise StudioError("args must be a JSON list (positional arguments) or object (keywords)")


def build(params: dict) -> tuple[Callable[..., nn.Module], dict]:
    """(a function that builds the module, no keywords), once the code is trusted."""
    target, text = params["target"], params["args"]
    if not target:
        raise StudioError("name the class it runs in 'target': path/to/file.py:Class or package.module:Class")
    trust.require((target, text))
    positional, keywords = arguments(text)
    cls = load_class(target)
    if isinstance(keywords.get("config"), dict) and "model_type" in keywords["config"]:
        keywords = {**keywords, "config": hugging_face_config(keywords["config"])}
    return (lambda: _checked(cls(*positional, **keywords), target)), {}


def hugging_face_config(settings: dict) -> Any:
    """The Hugging Face configuration of ``model_type`` with these settings (the form import writes a
    transformers module's ``config`` argument in)."""
    from transformers import AutoConfig  # only projects that hold a transformers module get here

    settings = dict(settings)
    return AutoConfig.for_model(settings.pop("model_type"), **settings)


def _checked(module: Any, target: str) -> nn.Module:
    if not isinstance(module, nn.Module):
        raise StudioError(f"{target} built a {type(module).__name__}, not a torch.nn.Module")
    module.register_forward_hook(model_output_items)  # a transformers ModelOutput -> its tensors
    return module


def model_output_items(_module: nn.Module, _inputs: Any, output: Any) -> Any:
    """A Hugging Face ``ModelOutput`` as the node's outputs: its tensors in order (a cache left out), one alone."""
    if not hasattr(output, "to_tuple"):
        return output
    items = tuple(v for v in output.to_tuple() if isinstance(v, torch.Tensor))
    return items[0] if len(items) == 1 else items
