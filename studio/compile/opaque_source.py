"""Generated source for "Module" nodes: an import of the user's own class, said plainly.

A "Module" node runs code of the user's (docs/architecture.md, "Code a project
runs"), so the generated file cannot stand alone: it imports that class
(``from spectral import SpectralGate``, the folder of a file target on
``sys.path`` being the reader's job) under a comment that says so. A
transformers module is built from ``AutoConfig.for_model(...)`` with the
settings import saved. Every such module but torch's own layers hands on the
tensors of a ``ModelOutput`` it returns as the node's outputs (`MODEL_OUTPUT_ITEMS`, the same
as `studio.catalog.opaque` does; anything else passes unchanged).
"""

from __future__ import annotations

from pathlib import Path

from studio.catalog.opaque import arguments
from studio.user_code import is_file_spec


def imported(target: str, taken: set[str]) -> tuple[str, str]:
    """(the expression naming the class in the file, its import line); the name is added to `taken`."""
    where, _, qualname = target.rpartition(":")
    top = qualname.split(".")[0]
    module = Path(where).stem if is_file_spec(where) else where
    alias, i = top, 2
    while alias in taken:
        alias, i = f"{top}{i}", i + 1
    taken.add(alias)
    line = f"from {module} import {top}" + (f" as {alias}" if alias != top else "")
    if is_file_spec(where):
        line += f"  # {where}: its folder must be on sys.path"
    return alias + qualname[len(top):], line


class Code(str):
    """Python source written into the file as it is (a name, an expression), not as a string."""


# A transformers module returns a ModelOutput; the graph's wires carry its tensors.
MODEL_OUTPUT_ITEMS = '''def model_output_items(module, inputs, output):
    """A transformers ModelOutput as the tensors it holds, in order (one alone): what the next layers take."""
    if not hasattr(output, "to_tuple"):
        return output
    items = tuple(v for v in output.to_tuple() if isinstance(v, torch.Tensor))
    return items[0] if len(items) == 1 else items'''


def is_torch_layer(target: str) -> bool:
    """True for a torch.nn layer kept as a Module node (``torch.nn:PixelUnshuffle``): it returns tensors."""
    return target.startswith("torch.")


def constructor_arguments(args: str) -> tuple[dict, list[str]]:
    """(the ``args`` JSON as the keywords `studio.compile.classes` writes, positional ones as ``"*"``; the
    import lines they need)."""
    positional, keywords = arguments(args)
    if positional:
        return {"*": ", ".join(repr(a) for a in positional)}, []
    config = keywords.get("config")
    if isinstance(config, dict) and "model_type" in config:
        settings = {k: v for k, v in config.items() if k != "model_type"}
        made = Code(f"AutoConfig.for_model({config['model_type']!r}, **{settings!r})")
        return {**keywords, "config": made}, ["from transformers import AutoConfig"]
    return dict(keywords), []


def header(lines: list[str]) -> str:
    """The import block of the user's classes, with the comment that the file needs them."""
    return "\n".join(["# Not generated: this file imports and runs these classes (your own code, or a package's);",
                      "# it runs only where that code can be imported.", *dict.fromkeys(lines)])
