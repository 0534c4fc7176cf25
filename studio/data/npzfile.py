"""``npz``: two arrays in a NumPy ``.npz`` file, read with ``allow_pickle=False``.

Settings: ``path``; ``x_key`` ("x") and ``y_key`` ("y"); ``task``
(``"classification"`` or ``"regression"``; default: classification when ``y``
holds integers, regression when it holds floats).

What ``x`` becomes, by its number of dimensions:

- 2 ``(N, F)``: feature vectors (float32).
- 3 ``(N, H, W)``: greyscale images; 4: images, ``(N, C, H, W)`` when C is 1 or 3,
  else ``(N, H, W, C)`` with C in 1, 3 (moved to the front). uint8 images are
  taken as 0..255, any other type as already scaled.

Classification labels must be whole numbers from 0; class names are the
numbers. Regression targets are float32 ``(N, K)`` (a 1-D ``y`` becomes K = 1).
Object arrays are never loaded: pickled data can run code.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np
import torch

from studio.data import settings as s
from studio.data.base import RawData
from studio.errors import DataError


def load_npz(settings: dict, root: Path, input_shape) -> RawData:
    """Read ``x`` and ``y`` and decide the form and task from their shapes and types."""
    file = s.path(settings, "path", root, "the .npz file to read")
    x_key, y_key = s.text(settings, "x_key", "x"), s.text(settings, "y_key", "y")
    x, y = (_array(file, key, setting) for key, setting in ((x_key, "x_key"), (y_key, "y_key")))
    if x.dtype.kind not in "biuf" or y.dtype.kind not in "biuf":
        raise DataError(f"{file}: arrays '{x_key}' and '{y_key}' must be numeric, got {x.dtype} and {y.dtype}")
    if x.ndim < 2 or len(x) != len(y):
        raise DataError(f"{file}: '{x_key}' has shape {x.shape} and '{y_key}' {y.shape}; they need one row "
                        "per sample and the same number of rows")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise DataError(f"{file}: '{x_key}' holds NaN or infinite values; clean them before training")
    form, xt = _features(file, x, x_key)
    task = s.text(settings, "task", None, ("classification", "regression"))
    task = task or ("classification" if y.dtype.kind in "biu" else "regression")
    if task == "regression":
        yt = torch.from_numpy(y.astype(np.float32).reshape(len(y), -1))
        return RawData(xt, yt, form, task)
    labels = _labels(file, y, y_key)
    return RawData(xt, torch.from_numpy(labels), form, task, [str(i) for i in range(int(labels.max()) + 1)])


def _array(file: Path, key: str, setting: str) -> np.ndarray:
    # Checked first because np.load takes any other file for a pickle, and
    # would then report it as pickled data rather than as not an .npz.
    if not zipfile.is_zipfile(file):
        raise DataError(f"{file}: not a readable .npz file (not a zip archive); save it with numpy.savez")
    try:
        with np.load(file, allow_pickle=False) as archive:
            if key not in archive.files:
                raise DataError(f"{file}: has no array '{key}' (it holds: {', '.join(archive.files) or 'nothing'}); "
                                f"set '{setting}' to the right name")
            _check_declared(file, archive.zip, key)
            return archive[key]
    except DataError:
        raise
    except ValueError as error:
        if "allow_pickle" in str(error) or "Object arrays" in str(error):
            raise DataError(f"{file}: array '{key}' holds Python objects, which are not loaded because "
                            "unpickling can run code; save it as a numeric array") from None
        raise DataError(f"{file}: not a readable .npz file ({error})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"{file}: not a readable .npz file ({error}); save it with numpy.savez") from None


def _check_declared(file: Path, archive: zipfile.ZipFile, key: str) -> None:
    """Refuses an array whose header declares more than can be held, before it is unpacked.

    A few megabytes of zipped zeros can declare gigabytes; only the .npy header
    (its first bytes) is unpacked to read the shape and type.
    """
    with archive.open(f"{key}.npy") as member:
        version = np.lib.format.read_magic(member)
        shape, _, dtype = (np.lib.format.read_array_header_1_0(member) if version == (1, 0)
                           else np.lib.format.read_array_header_2_0(member))
    size = math.prod(shape) * dtype.itemsize
    s.check_size(file, size, f"array '{key}' declares shape {shape} of {dtype}")


def _features(file: Path, x: np.ndarray, key: str) -> tuple[str, torch.Tensor]:
    if x.ndim == 2:
        return "vector", torch.from_numpy(x.astype(np.float32))
    if x.ndim == 3:
        x = x[:, None]
    elif x.ndim == 4 and x.shape[1] not in (1, 3) and x.shape[3] in (1, 3):
        x = x.transpose(0, 3, 1, 2)
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise DataError(f"{file}: cannot read '{key}' of shape {x.shape} as vectors (N, F) or images "
                        "(N, H, W), (N, C, H, W), (N, H, W, C) with 1 or 3 channels")
    x = np.ascontiguousarray(x)
    return "image", torch.from_numpy(x if x.dtype == np.uint8 else x.astype(np.float32))


def _labels(file: Path, y: np.ndarray, key: str) -> np.ndarray:
    flat = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    if flat.ndim != 1 or len(flat) == 0 or not (flat == np.round(flat)).all() or flat.min() < 0:
        raise DataError(f"{file}: classification needs '{key}' to be one whole number from 0 per sample; "
                        f"got shape {y.shape}, type {y.dtype}; set \"task\": \"regression\" for real-valued targets")
    return flat.astype(np.int64)
