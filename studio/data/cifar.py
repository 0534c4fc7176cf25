"""``cifar10``: the CIFAR-10 binary batches (``data_batch_*.bin``, ``test_batch.bin``).

Each record is one label byte (0..9) and 3,072 pixel bytes: the red, green and
blue 32×32 planes in turn, so records reshape straight to ``(3, 32, 32)``. A
file whose size is not a whole number of records, an empty file, or a label
above 9 (a CIFAR-100 file has two label bytes) is a `DataError` naming it.

Settings: ``files`` (a path or a list of paths to training batches), optional
``test_files`` (used as the test split instead of ``test_split``); or ``path``,
the ``cifar-10-batches-bin`` folder (its ``data_batch_*.bin`` train,
``test_batch.bin`` tests and ``batches.meta.txt`` names the classes).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from studio.data import settings as s
from studio.data.base import RawData
from studio.errors import DataError

RECORD = 1 + 3 * 32 * 32
CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def read_batch(file: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 3, 32, 32)`` uint8 and labels ``(N,)`` from one binary batch."""
    data = s.read_bytes(file)
    if not data or len(data) % RECORD:
        raise DataError(f"{file}: {len(data)} bytes is not a whole number of CIFAR-10 records "
                        f"({RECORD} bytes each: 1 label byte + 3072 pixel bytes); the file is truncated "
                        "or not a CIFAR-10 binary batch")
    records = np.frombuffer(data, np.uint8).reshape(-1, RECORD)
    labels = records[:, 0]
    if labels.max() > 9:
        bad = int(np.argmax(labels > 9))
        raise DataError(f"{file}: record {bad} has label byte {labels[bad]}, not a CIFAR-10 class (0-9); "
                        "is this a CIFAR-100 file (which has two label bytes)?")
    return records[:, 1:].reshape(-1, 3, 32, 32), labels


def read_batches(files: list[Path]) -> tuple[torch.Tensor, torch.Tensor]:
    """All records of several batches, concatenated."""
    parts = [read_batch(f) for f in files]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts]).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def load_cifar10(settings: dict, root: Path, input_shape) -> RawData:
    """CIFAR-10 binary batches as uint8 images ``(N, 3, 32, 32)``."""
    train, test, names = _files(settings, root)
    x, y = read_batches(train)
    test_pair = read_batches(test) if test else None
    return RawData(x, y, "image", "classification", names, test=test_pair)


def _files(settings: dict, root: Path) -> tuple[list[Path], list[Path], list[str]]:
    if "path" in settings and "files" not in settings:
        folder = s.path(settings, "path", root, "the cifar-10-batches-bin folder")
        train = sorted(folder.glob("data_batch_*.bin"))
        if not train:
            raise DataError(f"{folder}: no data_batch_*.bin files; point 'path' at the cifar-10-batches-bin "
                            "folder or list the batches in 'files'")
        test = sorted(folder.glob("test_batch.bin"))
        return train, test, _class_names(folder / "batches.meta.txt")
    train = s.paths(settings, "files", root)
    test = s.paths(settings, "test_files", root) if settings.get("test_files") else []
    return train, test, list(CLASS_NAMES)


def _class_names(meta: Path) -> list[str]:
    # The meta file is optional; the standard names are right for CIFAR-10 anyway.
    try:
        names = [line.strip() for line in meta.read_text().splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError):
        return list(CLASS_NAMES)
    return names if len(names) == 10 else list(CLASS_NAMES)
