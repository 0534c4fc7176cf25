"""``csv``: a table with a header row; numeric feature columns and a target column.

Settings:

- ``path``: the CSV file.
- ``target``: the target column's name (default: the last column); for
  regression a list of names gives several targets.
- ``features``: the feature column names (default: every other column).
- ``task``: ``"classification"`` or ``"regression"``. Default: classification
  when the target holds text, or whole numbers with at most
  `MAX_INFERRED_CLASSES` distinct values; regression otherwise.
- ``delimiter``: default guessed from the header among ``, ; tab |``.

Features become float32 vectors; a cell that is empty, not a number, or not
finite is a `DataError` naming the file, the line and the column.
Classification targets become class indices; ``class_names`` are the distinct
target values, sorted (numerically when they are all numbers). Regression
targets are float32 ``(N, K)``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import torch

from studio.data import settings as s
from studio.data.base import RawData
from studio.errors import DataError

MAX_INFERRED_CLASSES = 20


def load_csv(settings: dict, root: Path, input_shape) -> RawData:
    """Read the table, check every cell, and split it into features and targets."""
    file = s.path(settings, "path", root, "the CSV file to read")
    header, rows, lines = _read_table(file, s.text(settings, "delimiter"))
    targets = _columns(file, header, settings.get("target", header[-1]), "target")
    features = _columns(file, header, settings.get("features", [c for c in header if c not in targets]), "features")
    if not features:
        raise DataError(f"{file}: no feature columns left besides the target; list them in 'features'")
    x = _numeric(file, header, rows, lines, features)
    target_cells = rows[:, [header.index(t) for t in targets]]
    task = s.text(settings, "task", None, ("classification", "regression")) or _infer_task(target_cells)
    if task == "regression":
        y = _numeric(file, header, rows, lines, targets)
        return RawData(torch.from_numpy(x), torch.from_numpy(y), "vector", task)
    if len(targets) != 1:
        raise DataError(f"{file}: classification needs exactly one target column, got {targets}")
    names, y = _classes(target_cells[:, 0])
    return RawData(torch.from_numpy(x), torch.from_numpy(y), "vector", task, names)


def _read_table(file: Path, delimiter: str | None) -> tuple[list[str], np.ndarray, list[int]]:
    """Header, cells as a string array ``(rows, columns)``, and each row's line number."""
    try:
        content = s.read_bytes(file).decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(f"{file}: cannot be read as UTF-8 text ({error})") from None
    first = content.split("\n", 1)[0]
    delimiter = delimiter or max(",;\t|", key=first.count)
    reader = csv.reader(io.StringIO(content), delimiter=delimiter)
    try:
        header = [name.strip() for name in next(reader, [])]
        _check_header(file, header)
        rows, lines = [], []
        for row in reader:
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise DataError(f"{file}: line {reader.line_num} has {len(row)} fields but the header has "
                                f"{len(header)}; fix that row")
            rows.append(row)
            lines.append(reader.line_num)
    except csv.Error as error:  # a field over csv.field_size_limit() (131,072 characters), a stray NUL
        raise DataError(f"{file}: line {reader.line_num} is not a table row ({error}); "
                        "is this a CSV file?") from None
    if not rows:
        raise DataError(f"{file}: has a header but no data rows")
    return header, np.array(rows, dtype=str), lines


def _check_header(file: Path, header: list[str]) -> None:
    if not header or not any(header):
        raise DataError(f"{file}: empty; a CSV needs a header row and at least one data row")
    seen = set()
    for name in header:
        if name in seen:
            raise DataError(f"{file}: the header names column {name!r} twice; give each column its own name")
        seen.add(name)


def _columns(file: Path, header: list[str], names, key: str) -> list[str]:
    names = [names] if isinstance(names, str) else names
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise DataError(f"data setting '{key}' must be a column name or a list of them, got {names!r}")
    missing = [n for n in names if n not in header]
    if missing:
        raise DataError(f"{file}: no column {missing[0]!r} (setting '{key}'); the columns are {', '.join(header)}")
    return names


def _numeric(file: Path, header, rows: np.ndarray, lines: list[int], columns: list[str]) -> np.ndarray:
    cells = rows[:, [header.index(c) for c in columns]]
    values = _as_numbers(cells)
    if values is not None and np.isfinite(values).all():
        return values.astype(np.float32)
    for r in range(cells.shape[0]):  # only reached on bad data: find the first bad cell to name it
        for c, column in enumerate(columns):
            _check_cell(file, lines[r], column, str(cells[r, c]))
    raise AssertionError("unreachable: a bad cell was not found")


def _check_cell(file: Path, line: int, column: str, cell: str) -> None:
    where = f"{file}: line {line}, column {column!r}"
    if not cell.strip():
        raise DataError(f"{where} is empty; fill it in or drop the row")
    try:
        value = float(cell)
    except ValueError:
        raise DataError(f"{where}: {cell!r} is not a number; feature and regression target columns "
                        "must be numeric (encode it as numbers, or leave the column out with the 'features' setting)") from None
    if not np.isfinite(value):
        raise DataError(f"{where}: {cell!r} is not a finite number; replace it")


def _as_numbers(cells: np.ndarray) -> np.ndarray | None:
    try:
        return np.char.strip(cells).astype(np.float64)
    except ValueError:
        return None


def _infer_task(cells: np.ndarray) -> str:
    if cells.shape[1] > 1:
        return "regression"
    values = _as_numbers(cells[:, 0])
    if values is None:
        return "classification"
    whole = np.isfinite(values).all() and (values == np.round(values)).all()
    return "classification" if whole and len(np.unique(values)) <= MAX_INFERRED_CLASSES else "regression"


def _classes(cells: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Sorted distinct target values and each row's index among them."""
    cells = np.char.strip(cells)
    values = _as_numbers(cells)
    if values is not None:
        distinct, index = np.unique(values, return_inverse=True)
        names = [f"{v:g}" for v in distinct]
    else:
        distinct, index = np.unique(cells, return_inverse=True)
        names = [str(v) for v in distinct]
    return names, index.astype(np.int64).reshape(-1)
