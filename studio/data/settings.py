"""Reading the "data" section of a project: defaults, typed values, paths and files.

Every value a loader reads goes through these helpers, so a wrong value always
gives the same kind of `DataError`: which setting, what it holds, what it must
be. Paths are resolved against the project's folder, and a missing or
unreadable file is reported with its full path.

Common settings and their defaults (`COMMON_DEFAULTS`):
``source`` ("digits"), ``val_split`` (0.2), ``test_split`` (0.0), ``seed`` (0),
``normalize`` (true), ``augment`` (every option off), ``max_samples`` (none).
"""

from __future__ import annotations

import gzip
import os
import zlib
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from studio.errors import DataError
from studio.system import free_memory, size_text

COMMON_DEFAULTS: dict[str, Any] = {
    "source": "digits",
    "val_split": 0.2,
    "test_split": 0.0,
    "seed": 0,
    "normalize": True,
    "augment": {},
    "max_samples": None,
}


def with_defaults(settings: dict | None) -> dict:
    """Return a copy of ``settings`` with every common key present."""
    if settings is None:
        settings = {}
    if not isinstance(settings, dict):
        raise DataError(f"the data settings must be a JSON object, got {type(settings).__name__}")
    return {**COMMON_DEFAULTS, **settings}


def number(settings: dict, key: str, default: float | None, lo: float | None = None,
           hi: float | None = None, integer: bool = False) -> Any:
    """Read a number setting, checking its type and inclusive bounds.

    Raises:
        DataError: the value is not a number (booleans are not numbers here) or
            lies outside ``[lo, hi]``.
    """
    value = settings.get(key, default)
    if value is None:
        return default
    kind = "a whole number" if integer else "a number"
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type:
        raise DataError(f"data setting '{key}' must be {kind}, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        bounds = f"from {lo} to {hi}" if hi is not None else f"at least {lo}"
        raise DataError(f"data setting '{key}' must be {bounds}, got {value!r}")
    return value


def text(settings: dict, key: str, default: str | None = None, choices: tuple = ()) -> str | None:
    """Read a string setting, optionally one of ``choices``."""
    value = settings.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str):
        raise DataError(f"data setting '{key}' must be a string, got {value!r}")
    if choices and value not in choices:
        raise DataError(f"data setting '{key}' must be one of {', '.join(choices)}; got {value!r}")
    return value


def flag(settings: dict, key: str, default: bool) -> bool:
    """Read a true/false setting."""
    value = settings.get(key, default)
    if not isinstance(value, bool):
        raise DataError(f"data setting '{key}' must be true or false, got {value!r}")
    return value


def path(settings: dict, key: str, root: Path, what: str) -> Path:
    """Resolve a path setting against ``root`` and check that it exists.

    Args:
        settings: the data section.
        key: the setting holding the path.
        root: the folder relative paths are relative to (the project's folder).
        what: a few words for the message when the setting is missing
            ("the CSV file to read").
    """
    value = settings.get(key)
    if value is None:
        source = settings.get("source", "?")
        raise DataError(f"data source '{source}' needs a '{key}' setting: {what}")
    return existing(resolve(value, root, key), key)


def paths(settings: dict, key: str, root: Path) -> list[Path]:
    """Resolve a list-of-paths setting (a single string is a list of one)."""
    value = settings.get(key)
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values:
        raise DataError(f"data setting '{key}' must be a file path or a non-empty list of them, got {value!r}")
    return [existing(resolve(item, root, key), key) for item in values]


def resolve(value: Any, root: Path, key: str) -> Path:
    """Turn a path setting into an absolute path (relative to ``root``)."""
    if not isinstance(value, (str, Path)) or not str(value):
        raise DataError(f"data setting '{key}' must be a file path, got {value!r}")
    candidate = Path(value).expanduser()
    return candidate if candidate.is_absolute() else (root / candidate)


def existing(file: Path, key: str) -> Path:
    """Return ``file`` if it exists, else raise a DataError naming it."""
    if not file.exists():
        raise DataError(f"{file}: not found; check the data setting '{key}' "
                        "(relative paths are relative to the project file's folder)")
    return file


# Bytes a data file may hold once read (unzipped); the machine's free memory may set a lower bound.
MAX_DATA_BYTES = 2 ** 31  # 2 GiB: a dataset this app trains on in memory is far smaller (CIFAR-10: 180 MB)
# Memory per byte of data as it is loaded: the bytes, then a float32 copy of them and one more while normalising.
LOADING_FACTOR = 9


def check_size(file: Path, nbytes: int, what: str) -> None:
    """DataError, before reading, when `nbytes` of data (as a header or a zip declares them) cannot be held.

    `what` says where the size comes from ("its header declares shape (3000000, 28, 28)").
    """
    if nbytes > MAX_DATA_BYTES:
        raise DataError(f"{file}: {what}, {size_text(nbytes)} of data, more than the {size_text(MAX_DATA_BYTES)} "
                        "a data file may hold; use a smaller file")
    free = free_memory()
    if free is not None and nbytes * LOADING_FACTOR > free:
        raise DataError(f"{file}: {what}, {size_text(nbytes)} of data; loading it needs about "
                        f"{size_text(nbytes * LOADING_FACTOR)} of memory, but only {size_text(free)} is free; "
                        "use a smaller file")


@contextmanager
def open_data(file: Path) -> Iterator[BinaryIO]:
    """The file's bytes as a stream, un-gzipped when it starts with the gzip magic; read errors become DataError."""
    try:
        with open(file, "rb") as raw:
            zipped = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            with (gzip.GzipFile(fileobj=raw) if zipped else nullcontext(raw)) as stream:
                yield stream
    except DataError:
        raise
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise DataError(f"{file}: the gzip data is corrupt or truncated ({error}); download the file again") from None
    except OSError as error:
        raise DataError(f"{file}: cannot be read ({error.strerror or error}); check its permissions") from None


def read_bytes(file: Path) -> bytes:
    """Read a whole file, un-gzipping it when it starts with the gzip magic, within `check_size`'s budget.

    A gzipped file is unpacked in pieces and refused as soon as it passes the
    budget: 10 MB of gzip can hold gigabytes.
    """
    chunks, total = [], 0
    with open_data(file) as stream:
        if not isinstance(stream, gzip.GzipFile):
            check_size(file, os.fstat(stream.fileno()).st_size, "it is")
        while chunk := stream.read(1 << 24):
            total += len(chunk)
            check_size(file, total, "unzipped, it holds at least")
            chunks.append(chunk)
    return b"".join(chunks)
