"""Real data sets that ship with scikit-learn, so they load offline.

- ``digits``: 1,797 greyscale 8×8 handwritten digits, values 0..16 scaled to
  0..1, shape ``(1, 8, 8)``; 10 classes.
- ``iris`` (150 × 4, 3 classes), ``wine`` (178 × 13, 3 classes),
  ``breast_cancer`` (569 × 30, 2 classes): feature vectors.
- ``diabetes``: 442 × 10 features, one float target (regression).

None of these take settings of their own.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np
import torch

from studio.data.base import RawData


def load_digits(settings: dict, root: Path, input_shape) -> RawData:
    """The sklearn digits as images ``(N, 1, 8, 8)`` in 0..1."""
    pixels, labels = _digits_arrays()
    x = torch.tensor(pixels).reshape(-1, 1, 8, 8).div_(16.0)  # a copy: the cached table stays as read
    y = torch.tensor(labels)
    return RawData(x, y, "image", "classification", [str(i) for i in range(10)])


@functools.cache
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    # Parsed once per process (30 ms; a run forked from the training server finds it parsed).
    # Importing sklearn.datasets costs about 0.8 s, several times the whole load,
    # so read the CSV it bundles directly and keep its public API as the fallback.
    spec = importlib.util.find_spec("sklearn")
    folder = Path(spec.submodule_search_locations[0]) if spec and spec.submodule_search_locations else None
    bundled = folder / "datasets" / "data" / "digits.csv.gz" if folder else None
    if bundled is not None and bundled.is_file():
        table = np.loadtxt(bundled, delimiter=",", dtype=np.float32)
        if table.shape == (1797, 65):
            return _read_only(table[:, :64], table[:, 64].astype(np.int64))
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    return _read_only(bunch.data.astype(np.float32), bunch.target.astype(np.int64))


def _read_only(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """``arrays``, made read-only: they are cached and shared by every load."""
    for a in arrays:
        a.setflags(write=False)
    return arrays


def _sklearn_table(name: str, task: str):
    """A loader for the sklearn bundled table ``load_<name>``."""

    def load(settings: dict, root: Path, input_shape) -> RawData:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, f"load_{name}")()
        x = torch.from_numpy(np.asarray(bunch.data, dtype=np.float32))
        if task == "regression":
            y = torch.from_numpy(np.asarray(bunch.target, dtype=np.float32)).reshape(-1, 1)
            return RawData(x, y, "vector", task)
        y = torch.from_numpy(np.asarray(bunch.target, dtype=np.int64))
        return RawData(x, y, "vector", task, [str(n) for n in bunch.target_names])

    load.__name__ = f"load_{name}"
    load.__doc__ = f"The scikit-learn bundled '{name}' table as float32 feature vectors."
    return load


load_iris = _sklearn_table("iris", "classification")
load_wine = _sklearn_table("wine", "classification")
load_breast_cancer = _sklearn_table("breast_cancer", "classification")
load_diabetes = _sklearn_table("diabetes", "regression")
