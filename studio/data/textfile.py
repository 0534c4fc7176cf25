"""``text``: a plain UTF-8 text file for a character-level language model.

The vocabulary is the file's distinct characters, sorted; ``class_names`` lists
them and ``num_classes`` is their count. The text becomes one stream of int64
character ids; the pipeline cuts it into windows: ``x`` is ``seq_len``
characters and ``y`` the same window shifted one character on (shape
``(seq_len,)``, the next character at every position). The task is
``"language_model"``.

Splits are contiguous stretches of the text (train first, then validation, then
test), because overlapping windows drawn at random would put nearly every
validation character in the training set too.

Settings: ``path``; ``seq_len`` (the Input node's length when it is 1-D, else
64); ``stride`` (1, characters between window starts).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from studio.data import settings as s
from studio.data.base import RawData
from studio.errors import DataError


def load_text(settings: dict, root: Path, input_shape) -> RawData:
    """The whole file as a stream of character ids."""
    file = s.path(settings, "path", root, "the text file to read")
    default_len = input_shape[0] if input_shape is not None and len(input_shape) == 1 else 64
    seq_len = s.number(settings, "seq_len", default_len, lo=1, integer=True)
    stride = s.number(settings, "stride", 1, lo=1, integer=True)
    if input_shape is not None and tuple(input_shape) != (seq_len,):
        raise DataError(f"{file}: windows of seq_len {seq_len} do not fit the Input node's shape "
                        f"{tuple(input_shape)}; set the Input shape to [{seq_len}] or 'seq_len' to match")
    content = _read(file)
    if len(content) < seq_len + 1:
        raise DataError(f"{file}: {len(content)} characters, fewer than seq_len + 1 = {seq_len + 1}; "
                        "use a longer text or a smaller 'seq_len'")
    # UTF-32 gives one fixed-width code per character, so numpy finds the
    # vocabulary and every id in one pass instead of a Python loop per character.
    codes = np.frombuffer(content.encode("utf-32-le"), dtype="<u4")
    distinct, ids = np.unique(codes, return_inverse=True)
    vocabulary = [chr(c) for c in distinct]
    stream = torch.from_numpy(ids.astype(np.int64).reshape(-1))
    return RawData(stream, None, "stream", "language_model", vocabulary, window=seq_len, stride=stride)


def _read(file: Path) -> str:
    try:
        return s.read_bytes(file).decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"{file}: not UTF-8 text (bad byte at offset {error.start}); "
                        "save it as UTF-8") from None
