"""Generated sequence-to-sequence and masked-token data: the corpora of the attention presets.

Nothing is downloaded; the same settings and seed always give the same rows.

- ``transduction`` (task ``"transduction"``): strings and their
  rewriting. ``task`` "reverse" writes a digit string backwards, "sort" its
  digits in ascending order, "dates" rewrites a date written in one of
  `DATE_FORMATS` ("23 march 2021", "mar 23, 2021", "23/03/2021", ...; days
  from 1950 to 2049) as ISO "2021-03-23". Each row's ``x`` is the source:
  ``length`` ids (the Input node's length, else 10, or 20 for "dates"), the
  characters of the string, padded with `PAD`; digit strings have
  ``min_length`` to ``length`` digits, dates need ``length`` of at least
  `DATE_SOURCE_MAX`. ``y`` is the target: ``length + 1`` ids, the rewritten
  characters, `EOS`, then `PAD`. The decoder's input is the target shifted
  right behind `BOS` (the recipe makes it: teacher forcing). ``class_names``
  is the vocabulary `TOKENS`, one for every task and for source and target,
  so a network switches task by its lengths alone. Settings: ``n`` (2000),
  ``length``, ``min_length`` (half of ``length``, at least 1; digit tasks),
  ``task`` ("reverse").
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

import datetime
from pathlib import Path

import torch

from studio.data import grammar
from studio.data import settings as s
from studio.data.base import RawData
from studio.errors import DataError

# Digits keep ids 3-12 whatever follows them, so networks built for the digit tasks stay valid.
TOKENS = ["<pad>", "<s>", "</s>", *"0123456789", *"abcdefghijklmnopqrstuvwxyz", *" ,-/."]
PAD, BOS, EOS = 0, 1, 2
DIGIT0 = 3  # id of "0"
_INDEX = {t: i for i, t in enumerate(TOKENS)}
TASKS = ("reverse", "sort", "dates")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
# str.format templates over d (day), m (month number), y (year), month (name), mon (its first three letters).
DATE_FORMATS = ("{d} {month} {y}", "{month} {d}, {y}", "{d} {mon} {y}", "{mon} {d}, {y}", "{d:02d}/{m:02d}/{y}",
                "{d:02d}.{m:02d}.{y}")
FIRST_DAY, LAST_DAY = datetime.date(1950, 1, 1).toordinal(), datetime.date(2049, 12, 31).toordinal()
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
    """The target digits of a digit source for ``task`` ("reverse" or "sort")."""
    return digits[::-1] if task == "reverse" else sorted(digits)


def write_date(day: datetime.date, form: int) -> tuple[str, str]:
    """``day`` written in `DATE_FORMATS` [``form``] (the source) and as ISO "yyyy-mm-dd" (the target)."""
    month = MONTHS[day.month - 1]
    text = DATE_FORMATS[form].format(d=day.day, m=day.month, y=day.year, month=month, mon=month[:3])
    return text, day.isoformat()


# The longest source any format writes: September's name, a two-digit day.
DATE_SOURCE_MAX = max(len(write_date(datetime.date(2000, 9, 30), f)[0]) for f in range(len(DATE_FORMATS)))


def encode(text: str) -> list[int]:
    """The ids of ``text``'s characters in `TOKENS`."""
    return [_INDEX[c] for c in text]


def load_transduction(settings: dict, root: Path, input_shape) -> RawData:
    """Source strings and their rewritten copies ending in EOS (target), for the task the settings name."""
    task = s.text(settings, "task", "reverse", choices=TASKS)
    length = _length(settings, input_shape, 20 if task == "dates" else 10, "transduction")
    n = s.number(settings, "n", 2000, lo=2, integer=True)
    rng = _rng(settings)
    pairs = _dates(n, length, rng) if task == "dates" else _digits(settings, n, length, task, rng)
    x = torch.full((n, length), PAD, dtype=torch.long)
    y = torch.full((n, length + 1), PAD, dtype=torch.long)
    for i, (src, tgt) in enumerate(pairs):
        x[i, :len(src)] = torch.tensor(src)
        y[i, :len(tgt)] = torch.tensor(tgt)
        y[i, len(tgt)] = EOS
    return RawData(x, y, "tokens", "transduction", list(TOKENS))


def _digits(settings: dict, n: int, length: int, task: str, rng: torch.Generator) -> list[tuple[list, list]]:
    """(source ids, target ids) of ``n`` digit strings of ``min_length`` to ``length`` digits."""
    low = s.number(settings, "min_length", max(1, length // 2), lo=1, hi=length, integer=True)
    sizes = torch.randint(low, length + 1, (n,), generator=rng).tolist()
    digits = torch.randint(0, 10, (n, length), generator=rng).tolist()
    pairs = []
    for size, row in zip(sizes, digits):
        src = row[:size]
        pairs.append(([d + DIGIT0 for d in src], [d + DIGIT0 for d in rewrite(src, task)]))
    return pairs


def _dates(n: int, length: int, rng: torch.Generator) -> list[tuple[list, list]]:
    """(source ids, target ids) of ``n`` days drawn uniformly, each in a format drawn uniformly."""
    if length < DATE_SOURCE_MAX:
        raise DataError(f"data source 'transduction': task 'dates' writes sources of up to {DATE_SOURCE_MAX} "
                        f"characters, longer than rows of length {length}; set the data setting 'length' and "
                        f"the source Input's shape to at least [{DATE_SOURCE_MAX}] (the decoder's Input to one "
                        f"more)")
    days = torch.randint(FIRST_DAY, LAST_DAY + 1, (n,), generator=rng).tolist()
    forms = torch.randint(0, len(DATE_FORMATS), (n,), generator=rng).tolist()
    pairs = []
    for day, form in zip(days, forms):
        src, tgt = write_date(datetime.date.fromordinal(day), form)
        pairs.append((encode(src), encode(tgt)))
    return pairs


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
