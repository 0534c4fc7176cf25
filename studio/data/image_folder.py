"""``image_folder``: a folder with one subfolder of images per class, read with Pillow.

Class names are the subfolder names in sorted order; hidden entries and files
that are not images (by extension) are skipped. Every image is converted to
greyscale or RGB and resized (bilinear) to one size while it is read, so the
set stacks into one uint8 tensor ``(N, C, H, W)``.

- Channels: the Input node's channel count when it has 1 or 3; otherwise RGB if
  any image has colour, else greyscale.
- Size: the Input node's height × width; otherwise the ``size`` setting
  (an int or ``[height, width]``); otherwise the first image's size.

Settings: ``path`` (the folder), ``size`` (optional).

An empty folder, a class folder without images, or an image Pillow cannot
decode is a `DataError` naming it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from studio.data import settings as s
from studio.data.base import RawData
from studio.errors import DataError

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm"}
GREY_MODES = {"1", "L", "LA", "I", "I;16", "F"}


def load_image_folder(settings: dict, root: Path, input_shape) -> RawData:
    """Every image under ``path/<class>/``, labelled by its subfolder."""
    folder = s.path(settings, "path", root, "a folder with one subfolder of images per class")
    classes = _class_folders(folder)
    files, labels = [], []
    for index, class_folder in enumerate(classes):
        images = sorted(p for p in class_folder.iterdir() if p.suffix.lower() in EXTENSIONS and p.is_file())
        if not images:
            raise DataError(f"{class_folder}: class folder holds no images ({', '.join(sorted(EXTENSIONS))}); "
                            "add images or remove the folder")
        files += images
        labels += [index] * len(images)

    channels = input_shape[0] if input_shape is not None and len(input_shape) == 3 and input_shape[0] in (1, 3) else None
    if input_shape is not None and len(input_shape) == 2:
        channels = 1
    size = _size(settings, input_shape)
    arrays = [_read(f) for f in files]
    size = size or arrays[0].shape[:2]
    colour = channels == 3 or (channels is None and any(a.ndim == 3 for a in arrays))
    x = np.stack([_fit(a, size, colour) for a in arrays])
    return RawData(torch.from_numpy(x), torch.tensor(labels, dtype=torch.int64), "image",
                   "classification", [c.name for c in classes])


def _class_folders(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise DataError(f"{folder}: is not a folder; 'path' must be a folder with one subfolder per class")
    classes = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        loose = any(p.suffix.lower() in EXTENSIONS for p in folder.iterdir())
        hint = "move the images into one subfolder per class" if loose else "add one subfolder of images per class"
        raise DataError(f"{folder}: no class subfolders; {hint}")
    return classes


def _size(settings: dict, input_shape) -> tuple[int, int] | None:
    if input_shape is not None and len(input_shape) in (2, 3):
        return tuple(input_shape[-2:])
    value = settings.get("size")
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return (value, value)
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and v > 0 for v in value):
        return tuple(value)
    raise DataError(f"data setting 'size' must be a positive int or [height, width], got {value!r}")


def _read(file: Path) -> np.ndarray:
    """One image as uint8 ``(H, W)`` (grey) or ``(H, W, 3)`` (colour)."""
    try:
        with Image.open(file) as image:
            image.load()
            grey = image.mode in GREY_MODES or (image.mode == "P" and _palette_is_grey(image))
            return np.asarray(image.convert("L" if grey else "RGB"))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise DataError(f"{file}: not a readable image ({error}); fix or remove it") from None


def _palette_is_grey(image: Image.Image) -> bool:
    rgb = np.asarray(image.convert("RGB"))
    return bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())


def _fit(array: np.ndarray, size: tuple[int, int], colour: bool) -> np.ndarray:
    """Resize to ``size`` (height, width) and lay out as ``(C, H, W)``."""
    if array.shape[:2] != tuple(size):
        array = np.asarray(Image.fromarray(array).resize((size[1], size[0]), Image.BILINEAR))
    if array.ndim == 2:
        array = array[None]
        return np.repeat(array, 3, axis=0) if colour else array
    array = array.transpose(2, 0, 1)
    return array if colour else array.mean(axis=0, keepdims=True).round().astype(np.uint8)
