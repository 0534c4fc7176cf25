"""Studio's own torch modules, across the files that hold them.

`FILES` lists the files in the order `studio code` copies their classes into
generated source (`compile.classes.used_helpers`); `CLASSES` is every module
class defined in them, by name, which the importer recognises as studio's own.
"""

from __future__ import annotations

from torch import nn

from studio.catalog import modules, rbm

FILES = (modules, rbm)
CLASSES: dict[str, type[nn.Module]] = {
    name: obj for f in FILES for name, obj in vars(f).items()
    if isinstance(obj, type) and issubclass(obj, nn.Module) and obj.__module__ == f.__name__}
