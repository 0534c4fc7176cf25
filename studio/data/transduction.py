"""Generated sequence-to-sequence and masked-token data: the corpora of the attention presets.

Nothing is downloaded; the same settings and seed always give the same rows.

- ``transduction`` (task ``"transduction"``): digit strings and their
  rewriting. ``task`` "reverse" writes the digits backwards, "sort" in
  ascending order. Each row's ``x`` is the source: ``length`` ids (the Input
  node's length, else 10), the digits of a string of ``min_length`` to
  ``length`` digits, padded with `PAD`. ``y`` is the target: ``length + 1``
  ids, the rewritten digits, `EOS`, then `PAD`. The decoder's input is the
  target shifted right behind `BOS` (the recipe makes it: teacher forcing).
  ``class_names`` is the vocabulary `TOKENS` (shared by source and target).
  Settings: ``n`` (2000), ``length``, ``min_length`` (half of ``length``,
  at least 1), ``task`` ("reverse").
- ``masked_text`` (task ``"masked_lm"``): sentences of the grammar corpus
  (`studio.data.grammar`) for masked-token prediction (BERT). Each row is
  one sentence as ``length`` ids (words, or characters with ``level``
  "char"), padded with id 0 (``<pad>``); id 1 is ``<mask>``. A fraction
  ``mask_prob`` (0.15) of the real tokens of each row is chosen, at least
  one: 80% of those become ``<mask>``, 10% a random token, 10% stay. ``y``
  holds the original id at chosen positions and -100 (ignored) elsewhere.
  Masks are drawn once from the seed, so validation is stable. Settings:
  ``n`` (2000 sentences), ``length`` (the Input node's length, else 12 words
  or 64 characters), ``level`` ("word"), ``mask_prob``, ``noise`` (0.1).
"""

from __future__ import annotations

from pathlib import Path

import torch

from studio.data import grammar
from studio.data import settings as s
from studio.data.base import RawData
from studio.errors import DataError

TOKENS = ["<pad>", "<s>", "</s>", *"0123456789"]
PAD, BOS, EOS = 0, 1, 2
DIGIT0 = 3  # id of "0"
IGNORE = -100  # a target no loss is taken on (torch's cross-entropy default ignore_index)
MASKED_SPECIALS = ["<pad>", "<mask>"]
MASK = 1


def _rng(settings: dict) -> torch.Generator:
    return torch.Generator().manual_seed(s.number(settings, "seed", 0, lo=0, integer=True))


def _length(settings: dict, input_shape, default: int, source: str) -> int:
    default = input_shape[0] if input_shape is not None and len(input_shape) == 1 else default
    length = s.number(settings, "length", default, lo=1, integer=True)
    if input_shape is not None and tuple(input_shape) != (length,):
        raise DataError(f"data source '{source}': rows of length {length} do not fit the Input node's shape "
                        f"{tuple(input_shape)}; set the Input shape to [{length}] or the data setting "
                        f"'length' to match")
    return length


def rewrite(digits: list[int], task: str) -> list[int]:
    """The target digits of a source for ``task`` ("reverse" or "sort")."""
    return digits[::-1] if task == "reverse" else sorted(digits)


def load_transduction(settings: dict, root: Path, input_shape) -> RawData:
    """Digit strings (source) and their reversed or sorted copies ending in EOS (target)."""
    length = _length(settings, input_shape, 10, "transduction")
    n = s.number(settings, "n", 2000, lo=2, integer=True)
    low = s.number(settings, "min_length", max(1, length // 2), lo=1, hi=length, integer=True)
    task = s.text(settings, "task", "reverse", choices=("reverse", "sort"))
    rng = _rng(settings)
    sizes = torch.randint(low, length + 1, (n,), generator=rng).tolist()
    digits = torch.randint(0, 10, (n, length), generator=rng).tolist()
    x = torch.full((n, length), PAD, dtype=torch.long)
    y = torch.full((n, length + 1), PAD, dtype=torch.long)
    for i, (size, row) in enumerate(zip(sizes, digits)):
        src = row[:size]
        x[i, :size] = torch.tensor(src) + DIGIT0
        y[i, :size] = torch.tensor(rewrite(src, task)) + DIGIT0
        y[i, size] = EOS
    return RawData(x, y, "tokens", "transduction", list(TOKENS))


def masked_vocabulary(level: str) -> list[str]:
    """``<pad>``, ``<mask>``, then every word (or character) the grammar writes."""
    return MASKED_SPECIALS + (grammar.all_words() if level == "word" else grammar.alphabet())


def load_masked_text(settings: dict, root: Path, input_shape) -> RawData:
    """Grammar sentences with some tokens masked; targets are the originals at masked places."""
    level = s.text(settings, "level", "word", choices=("word", "char"))
    length = _length(settings, input_shape, 12 if level == "word" else 64, "masked_text")
    n = s.number(settings, "n", 2000, lo=2, integer=True)
    noise = s.number(settings, "noise", 0.1, lo=0.0, hi=1.0)
    p = s.number(settings, "mask_prob", 0.15, lo=0.0, hi=1.0)
    seed = s.number(settings, "seed", 0, lo=0, integer=True)
    vocabulary = masked_vocabulary(level)
    index = {t: i for i, t in enumerate(vocabulary)}
    x = torch.zeros((n, length), dtype=torch.long)
    for i, (words, _) in enumerate(grammar.sentences(n, seed, noise)):
        tokens = words + ["."] if level == "word" else list(" ".join(words) + ".")
        ids = [index[t] for t in tokens[:length]]
        x[i, :len(ids)] = torch.tensor(ids)
    rng = _rng(settings)
    real = x != 0
    chosen = (torch.rand(x.shape, generator=rng) < p) & real
    first = real.long().argmax(1)  # at least one chosen token per row: its first one when none was drawn
    none = ~chosen.any(1)
    chosen[none.nonzero().squeeze(1), first[none]] = True
    y = torch.where(chosen, x, torch.full_like(x, IGNORE))
    roll = torch.rand(x.shape, generator=rng)
    randoms = torch.randint(len(MASKED_SPECIALS), len(vocabulary), x.shape, generator=rng)
    masked = x.clone()
    masked[chosen & (roll < 0.8)] = MASK
    swap = chosen & (roll >= 0.8) & (roll < 0.9)
    masked[swap] = randoms[swap]
    return RawData(masked, y, "tokens", "masked_lm", vocabulary)
