"""`load_data`: from a project's "data" settings to ready-to-train `DataSplits`.

The steps, in order:

1. Look the ``source`` up in `SOURCES` and load its `RawData`.
2. Split: a test set the files provide (else ``test_split``), ``val_split``,
   the rest for training; stratified for classification, fixed by ``seed``.
   ``max_samples`` first draws a random subset of the (non-test) samples.
3. Fit samples to the Input node's shape (`studio.data.fit`).
4. Normalise with statistics of the training split (``normalize``).
5. Wrap the training split in `Augmented` when any ``augment`` option is on.

Each form of data (image, vector, tokens, stream) has its own function for
steps 3–5, chosen from `FORM_STEPS`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import TensorDataset

from studio.data import normalize, settings as s
from studio.data.augment import GEOMETRIC, Augmented, active_options
from studio.data.base import DataSplits, RawData
from studio.data.datasets import LazyImages, TextWindows
from studio.data.fit import fit_images, fit_tokens, fit_vectors
from studio.data.registry import SOURCES
from studio.data.split import split_indices, split_sizes
from studio.errors import DataError

# Above this many bytes of prepared float32 images, keep the stored images and
# prepare each on access instead (CIFAR-10 at 224×224 would need 30 GB).
BULK_LIMIT = 1 << 30
CHUNK = 4096


def load_data(settings: dict, input_shape: tuple[int, ...] | None = None, root: Path | None = None) -> DataSplits:
    """Load, split, fit, normalise and augment the data a project's settings describe.

    Args:
        settings: the project's "data" section; missing keys take defaults.
        input_shape: the shape the network's Input node expects, no batch
            dimension; ``None`` keeps the source's own shape.
        root: the folder relative paths are resolved against (the project
            file's folder); defaults to the current folder.

    Raises:
        DataError: an unknown source, a bad setting, or a missing or bad file;
            the message names the file (or setting) and what to do.
    """
    settings = s.with_defaults(settings)
    root = Path(root) if root is not None else Path.cwd()
    where = origin(settings, root)
    input_shape = _checked_shape(input_shape, where)
    raw = _load_raw(settings, root, input_shape)
    return FORM_STEPS[raw.form](raw, settings, input_shape, where)


def class_count(settings: dict, root: Path | None = None) -> int | None:
    """How many classes the source holds (None: not classification data), read without splitting or fitting it.

    Raises:
        DataError: as `load_data`.
    """
    raw = _load_raw(s.with_defaults(settings), Path(root) if root is not None else Path.cwd(), None)
    return len(raw.class_names) if raw.task == "classification" and raw.class_names is not None else None


def _load_raw(settings: dict, root: Path, input_shape) -> RawData:
    name = s.text(settings, "source")
    if name not in SOURCES:
        raise DataError(f"unknown data source {name!r}; choose one of {', '.join(SOURCES)}")
    return SOURCES[name].load(settings, root, input_shape)


def origin(settings: dict, root: Path) -> str:
    """The file (or source) that messages about this data should name."""
    for key in ("path", "images", "files"):
        value = settings.get(key)
        value = value[0] if isinstance(value, list) and value else value
        if isinstance(value, str) and value:
            return str(s.resolve(value, root, key))
    return f"data source '{settings['source']}'"


def _checked_shape(input_shape, where: str) -> tuple[int, ...] | None:
    if input_shape is None:
        return None
    shape = tuple(input_shape)
    whole = all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0 for d in shape)
    if not shape or not whole:
        raise DataError(f"{where}: the Input node's shape {list(shape)} is not a list of positive whole "
                        "numbers; fix the Input node's shape")
    return tuple(int(d) for d in shape)


def _fractions(settings: dict, where: str) -> tuple[float, float]:
    val = s.number(settings, "val_split", 0.2, lo=0.0, hi=0.95)
    test = s.number(settings, "test_split", 0.0, lo=0.0, hi=0.95)
    if val + test >= 1:
        raise DataError(f"{where}: val_split {val} + test_split {test} leave nothing to train on; "
                        "keep their sum below 1")
    return val, test


def _partition(raw: RawData, settings: dict, where: str):
    """All samples (the files' own test set appended) and the train, val, test index tensors."""
    seed = s.number(settings, "seed", 0, lo=0, integer=True)
    val_split, test_split = _fractions(settings, where)
    x, y, n_pool = raw.x, raw.y, len(raw.x)
    if raw.test is not None:
        if raw.test[0].shape[1:] != x.shape[1:]:
            raise DataError(f"{where}: test samples have shape {tuple(raw.test[0].shape[1:])} but training "
                            f"samples {tuple(x.shape[1:])}; use test files from the same data set")
        x, y, test_split = torch.cat([x, raw.test[0]]), torch.cat([y, raw.test[1]]), 0.0
    pool = np.arange(n_pool)
    limit = s.number(settings, "max_samples", None, lo=1, integer=True)
    if limit is not None and limit < n_pool:
        pool = np.sort(np.random.default_rng(seed).choice(n_pool, limit, replace=False))
    n_val, n_test = split_sizes(len(pool), val_split, test_split, where)
    labels = y[torch.from_numpy(pool)].numpy() if raw.task == "classification" else None
    train, val, test = (pool[i] for i in split_indices(len(pool), n_val, n_test, seed, labels))
    if raw.test is not None:
        test = np.arange(n_pool, len(x))
    has_test = raw.test is not None or n_test > 0
    indices = [torch.from_numpy(i) for i in (train, val, test)]
    return x, y, indices, has_test


def _finish(raw: RawData, make, indices, has_test: bool, shape, stats, train_wrapper=None) -> DataSplits:
    """Build the three datasets with ``make(index_tensor)`` and describe them."""
    train, val, test = (make(i) for i in indices)
    if train_wrapper is not None:
        train = train_wrapper(train)
    mean, std = stats if stats is not None else (None, None)
    names = raw.class_names
    return DataSplits(train, val, test if has_test else None, tuple(shape), raw.task,
                      len(names) if names is not None else None, names, mean, std)


def _augmenter(settings: dict, where: str, form: str, image_shape=None):
    """A function wrapping the train split, or ``None`` when no augmentation applies."""
    options = active_options(settings.get("augment"), where)
    if not options:
        return None
    misplaced = [o for o in options if o in GEOMETRIC] if form != "image" else []
    if form in ("tokens", "stream"):
        misplaced = list(options)
    if misplaced:
        raise DataError(f"{where}: augment option(s) {', '.join(misplaced)} need "
                        f"{'images' if form == 'vector' else 'float samples'}, but this source gives {form}s; "
                        "turn them off in the data settings")
    return lambda dataset: Augmented(dataset, options, image_shape)


def _image_steps(raw: RawData, settings: dict, input_shape, where: str) -> DataSplits:
    fit = fit_images(tuple(raw.x.shape[1:]), input_shape, where)
    x, y, indices, has_test = _partition(raw, settings, where)
    normalise = s.flag(settings, "normalize", True)
    wrap = _augmenter(settings, where, "image", fit.image_shape)
    if len(x) * math.prod(fit.image_shape) * 4 > BULK_LIMIT:
        stats = normalize.image_moments(fit.prepare(x[c]) for c in indices[0].split(CHUNK)) if normalise else None
        mean, std = stats if stats is not None else (None, None)
        make = lambda i: LazyImages(x[i], y[i], fit.prepare, mean, std, fit.shape)  # noqa: E731
        return _finish(raw, make, indices, has_test, fit.shape, stats, wrap)
    images = torch.cat([fit.prepare(chunk) for chunk in x.split(CHUNK)])
    stats = None
    if normalise:
        stats = normalize.image_moments(images[c] for c in indices[0].split(CHUNK))
        images = normalize.apply(images, *stats, channel_dim=1, inplace=True)
    images = images.reshape(len(images), *fit.shape)
    return _finish(raw, lambda i: TensorDataset(images[i], y[i]), indices, has_test, fit.shape, stats, wrap)


def _vector_steps(raw: RawData, settings: dict, input_shape, where: str) -> DataSplits:
    shape = fit_vectors(raw.x.shape[1], input_shape, where)
    x, y, indices, has_test = _partition(raw, settings, where)
    stats = None
    if s.flag(settings, "normalize", True):
        stats = normalize.vector_moments(x[indices[0]])
        x = normalize.apply(x, *stats, channel_dim=-1)
    x = x.reshape(len(x), *shape)
    wrap = _augmenter(settings, where, "vector")
    return _finish(raw, lambda i: TensorDataset(x[i], y[i]), indices, has_test, shape, stats, wrap)


def _token_steps(raw: RawData, settings: dict, input_shape, where: str) -> DataSplits:
    shape = fit_tokens(raw.x.shape[1], input_shape, where)
    x, y, indices, has_test = _partition(raw, settings, where)
    wrap = _augmenter(settings, where, "tokens")
    return _finish(raw, lambda i: TensorDataset(x[i], y[i]), indices, has_test, shape, None, wrap)


def _stream_steps(raw: RawData, settings: dict, input_shape, where: str) -> DataSplits:
    # Contiguous parts, not random windows: neighbouring windows overlap almost
    # entirely, so a random split would leak the validation text into training.
    val_split, test_split = _fractions(settings, where)
    _augmenter(settings, where, "stream")
    total, window = len(raw.x), raw.window
    n_val, n_test = split_sizes(total, val_split, test_split, where)
    n_train = total - n_val - n_test
    for part, size in (("training", n_train), ("validation", n_val), ("test", n_test)):
        if size and size < window + 1:
            raise DataError(f"{where}: the {part} part has {size} characters, fewer than seq_len + 1 = "
                            f"{window + 1}; use a longer text, a smaller 'seq_len' or other split fractions")
    parts = raw.x.split([n_train, n_val, n_test])
    train, val, test = (TextWindows(p, window, raw.stride) for p in parts)
    names = raw.class_names
    return DataSplits(train, val, test if n_test else None, (window,), raw.task, len(names), names, None, None)


FORM_STEPS = {"image": _image_steps, "vector": _vector_steps, "tokens": _token_steps, "stream": _stream_steps}
