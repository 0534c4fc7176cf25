"""``mnist``: images and labels in the IDX format (MNIST, Fashion-MNIST, EMNIST), plain or gzipped.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number
of dimensions), one big-endian uint32 per dimension, then the values. Images
must be unsigned bytes with 3 dimensions (count, height, width); labels any
integer type with 1 dimension. Every mismatch (magic, type, dimensions,
truncation, trailing bytes, image/label counts, negative labels) is a
`DataError` naming the file.

Settings: ``images`` and ``labels`` (paths), optional ``test_images`` and
``test_labels`` (used as the test split instead of ``test_split``); or ``path``,
a folder holding the usual names (``train-images-idx3-ubyte[.gz]``,
``train-labels-idx1-ubyte[.gz]``, ``t10k-*`` for the test set).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from studio.data import settings as s
from studio.data.base import RawData
from studio.errors import DataError

IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}

# setting -> file name pattern inside a ``path`` folder
FOLDER_NAMES = {"images": "train-images*idx3*", "labels": "train-labels*idx1*",
                "test_images": "t10k-images*idx3*", "test_labels": "t10k-labels*idx1*"}


def read_idx(file: Path, ndim: int) -> np.ndarray:
    """Read one IDX file whose array must have ``ndim`` dimensions.

    The header is read first and the size it declares checked (`settings.check_size`)
    before the values are read: a small gzipped file can declare gigabytes.

    Raises:
        DataError: the file is missing, not IDX, truncated, the wrong shape, or too big to hold.
    """
    with s.open_data(file) as stream:
        magic = stream.read(4)
        if len(magic) < 4:
            raise DataError(f"{file}: only {len(magic)} bytes, too short for an IDX header; the file is truncated")
        zero, code, dims = magic[:2], magic[2], magic[3]
        if zero != b"\0\0" or code not in IDX_TYPES:
            raise DataError(f"{file}: not an IDX file (magic number 0x{magic.hex()}, expected "
                            f"0x0000080{ndim}); check that the setting points at the MNIST file")
        if dims != ndim:
            raise DataError(f"{file}: holds a {dims}-dimensional array, expected {ndim} dimensions "
                            f"({'count, height, width' if ndim == 3 else 'count'}); are images and labels swapped?")
        sizes = stream.read(4 * dims)
        if len(sizes) < 4 * dims:
            raise DataError(f"{file}: truncated inside its header ({4 + len(sizes)} bytes); download it again")
        shape = tuple(int(d) for d in np.frombuffer(sizes, ">u4"))
        dtype = IDX_TYPES[code]
        expected = math.prod(shape) * dtype.itemsize
        s.check_size(file, expected, f"its header declares shape {shape}")
        data = stream.read(expected + 1)  # one more: a longer file is refused too
    if len(data) != expected:
        state = "truncated" if len(data) < expected else "longer than its header says"
        raise DataError(f"{file}: {state}: the header gives shape {shape} ({expected} bytes of data) but "
                        f"{'more' if len(data) > expected else len(data)} bytes follow; download the file again")
    return np.frombuffer(data, dtype).reshape(shape)


def read_pair(images_file: Path, labels_file: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``(N, 1, H, W)`` uint8 and labels ``(N,)`` int64 from two IDX files."""
    images = read_idx(images_file, 3)
    labels = read_idx(labels_file, 1)
    if images.dtype != np.uint8:
        raise DataError(f"{images_file}: image values are {images.dtype.name}, expected unsigned bytes (type 0x08)")
    if labels.dtype.kind not in "iu":
        raise DataError(f"{labels_file}: labels are {labels.dtype.name}, expected integers")
    if len(images) != len(labels):
        raise DataError(f"{labels_file}: holds {len(labels)} labels but {images_file} holds {len(images)} "
                        "images; they must come from the same set (train with train, t10k with t10k)")
    if len(labels) and labels.min() < 0:
        raise DataError(f"{labels_file}: holds a negative label ({labels.min()}); labels must be 0 or more")
    return torch.from_numpy(images.copy()).unsqueeze(1), torch.from_numpy(labels.astype(np.int64))


def load_mnist(settings: dict, root: Path, input_shape) -> RawData:
    """MNIST-style IDX files; class names are the label numbers."""
    files = _files(settings, root)
    x, y = read_pair(files["images"], files["labels"])
    test = None
    if "test_images" in files or "test_labels" in files:
        if not ("test_images" in files and "test_labels" in files):
            raise DataError("data source 'mnist': give both 'test_images' and 'test_labels', or neither")
        test = read_pair(files["test_images"], files["test_labels"])
    top = max(int(y.max()) if len(y) else 0, int(test[1].max()) if test and len(test[1]) else 0)
    return RawData(x, y, "image", "classification", [str(i) for i in range(top + 1)], test=test)


def _files(settings: dict, root: Path) -> dict[str, Path]:
    if "path" in settings and "images" not in settings:
        folder = s.path(settings, "path", root, "a folder of MNIST IDX files")
        found = {key: sorted(folder.glob(pattern)) for key, pattern in FOLDER_NAMES.items()}
        if not found["images"] or not found["labels"]:
            raise DataError(f"{folder}: no train-images-idx3-ubyte / train-labels-idx1-ubyte files "
                            "(plain or .gz); set 'images' and 'labels' to the files instead")
        return {key: matches[0] for key, matches in found.items() if matches}
    files = {key: s.path(settings, key, root, f"the IDX file of the training {key}") for key in ("images", "labels")}
    for key in ("test_images", "test_labels"):
        if settings.get(key):
            files[key] = s.path(settings, key, root, "")
    return files
