"""The attention presets' data sources: deterministic by seed, the layouts their docstrings promise."""

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


def test_masked_text_hides_some_tokens_and_keeps_their_originals():
    splits = load_data({"source": "masked_text", "n": 200, "length": 12, "val_split": 0.0}, (12,))
    assert splits.task == "masked_lm" and splits.class_names[:2] == ["<pad>", "<mask>"]
    x, y = _all(splits)
    chosen = y != td.IGNORE
    assert chosen.any(1).all()                                   # every row has a target
    assert (x[chosen] == td.MASK).float().mean() > 0.6           # most chosen tokens are masked
    assert not (x[~chosen] == td.MASK).any()                     # nothing else is
    assert 0.1 < chosen.sum() / (x != 0).sum() < 0.3
