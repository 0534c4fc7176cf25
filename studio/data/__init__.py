"""Data sources for training: load, split, fit, normalise and augment, all in torch.

    from studio.data import load_data
    splits = load_data({"source": "digits", "val_split": 0.2}, input_shape=(1, 32, 32))
    x, y = splits.train[0]          # float32 (1, 32, 32), int64 class

`load_data(settings, input_shape, root)` reads a project's "data" section and
returns `DataSplits`: train / val / test datasets of ``(x, y)`` pairs plus what
they hold (input shape, task, classes, normalisation statistics);
`class_count(settings, root)` reads only how many classes a source holds.
`SOURCES` is the registry of sources by name; `describe_sources()` lists them
as ``(name, kind, description)`` for the GUI and the CLI.

Common settings: ``source`` ("digits"), ``val_split`` (0.2), ``test_split``
(0.0), ``seed`` (0), ``normalize`` (true: per-channel / per-feature statistics of
the training split, applied to every split), ``augment`` (``flip``,
``crop_padding``, ``rotation``, ``noise``; train split only, all off by
default), ``max_samples`` (none). Each source's own settings are listed in the
docstring of its module (`builtin`, `generated`, `shapes`, `idx`, `cifar`,
`image_folder`, `csvfile`, `npzfile`, `textfile`, `grammar`).

Every problem with the data or a file is a `studio.errors.DataError` whose
message names the file (or setting) and what to do. Nothing here downloads,
imports Qt, or unpickles.
"""

from studio.data.base import DataSplits
from studio.data.pipeline import class_count, load_data
from studio.data.registry import SOURCES, describe_sources

__all__ = ["DataSplits", "SOURCES", "class_count", "describe_sources", "load_data"]
