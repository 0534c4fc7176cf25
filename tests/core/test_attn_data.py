"""The attention presets' data sources: deterministic by seed, the layouts their docstrings promise."""

import datetime
import re

import pytest
import torch

from studio.data import SOURCES, load_data
from studio.data import transduction as td
from studio.errors import DataError


def _all(splits):
    xs, ys = zip(*(splits.train[i] for i in range(len(splits.train))))
    return torch.stack(xs), torch.stack(ys)


@pytest.mark.parametrize("settings, shape", [
    ({"source": "transduction", "n": 60, "length": 8}, (8,)),
    ({"source": "transduction", "n": 60, "length": 20, "task": "dates"}, (20,)),
    ({"source": "masked_text", "n": 60, "length": 12}, (12,)),
])
def test_sources_are_deterministic_by_seed(settings, shape):
    a, b, c = (_all(load_data({**settings, "seed": seed}, shape)) for seed in (3, 3, 4))
    assert a[0].dtype == torch.int64 and a[0].shape[1:] == shape
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])
    assert SOURCES[settings["source"]].kind == "generated"


@pytest.mark.parametrize("task", ["reverse", "sort"])
def test_transduction_targets_rewrite_the_source_and_end_in_eos(task):
    splits = load_data({"source": "transduction", "n": 50, "length": 6, "task": task}, (6,))
    assert splits.task == "transduction" and splits.class_names == td.TOKENS
    x, y = _all(splits)
    assert y.shape[1] == 7
    for src, tgt in zip(x.tolist(), y.tolist()):
        digits = [i for i in src if i != td.PAD]
        size = len(digits)
        assert 3 <= size <= 6 and tgt[:size] == td.rewrite(digits, task)
        assert tgt[size] == td.EOS and set(tgt[size + 1:]) <= {td.PAD}
    with pytest.raises(DataError, match="Input"):
        load_data({"source": "transduction", "n": 50, "length": 6}, (7,))


def _text(ids):
    return "".join(td.TOKENS[i] for i in ids if i not in (td.PAD, td.EOS))


# The formats written the way strptime reads them: an independent check of what the generator writes.
STRPTIME = ("%d %B %Y", "%B %d, %Y", "%d %b %Y", "%b %d, %Y", "%d/%m/%Y", "%d.%m.%Y")


def test_dates_are_rewritten_as_iso_from_mixed_formats():
    splits = load_data({"source": "transduction", "n": 300, "task": "dates", "val_split": 0.0}, (20,))
    assert splits.class_names == td.TOKENS
    x, y = _all(splits)
    assert y.shape[1] == 21
    used = set()
    for src, tgt in zip(x.tolist(), y.tolist()):
        source, target = _text(src), _text(tgt)
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", target) and tgt[10] == td.EOS and set(tgt[11:]) == {td.PAD}
        assert src[len(source):] == [td.PAD] * (20 - len(source))  # padding only after the text
        day = datetime.date.fromisoformat(target)
        assert 1950 <= day.year <= 2049
        parsed = [f for f in STRPTIME if _parses(source, f) == day]
        assert parsed, f"{source!r} is no known way of writing {target}"
        used.update(parsed)
    assert used == set(STRPTIME)  # every format shows up


def _parses(text, form):
    try:
        return datetime.datetime.strptime(text, form).date()
    except ValueError:
        return None


def test_dates_need_room_for_the_longest_source():
    assert td.write_date(datetime.date(2049, 9, 30), 1) == ("september 30, 2049", "2049-09-30")
    with pytest.raises(DataError, match="at least"):
        load_data({"source": "transduction", "n": 50, "task": "dates"}, (10,))


def test_masked_text_hides_some_tokens_and_keeps_their_originals():
    splits = load_data({"source": "masked_text", "n": 200, "length": 12, "val_split": 0.0}, (12,))
    assert splits.task == "masked_lm" and splits.class_names[:2] == ["<pad>", "<mask>"]
    x, y = _all(splits)
    chosen = y != td.IGNORE
    assert chosen.any(1).all()                                   # every row has a target
    assert (x[chosen] == td.MASK).float().mean() > 0.6           # most chosen tokens are masked
    assert not (x[~chosen] == td.MASK).any()                     # nothing else is
    assert 0.1 < chosen.sum() / (x != 0).sum() < 0.3
