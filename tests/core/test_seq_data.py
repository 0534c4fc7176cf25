"""The grammar data sources: deterministic by seed, the layouts their docstrings promise."""

import zlib

import pytest
import torch

from studio.data import SOURCES, load_data
from studio.data import grammar
from studio.errors import DataError


def _all(splits):
    """Every training sample's x, stacked."""
    return torch.stack([splits.train[i][0] for i in range(len(splits.train))])


@pytest.mark.parametrize("settings, shape", [
    ({"source": "grammar_text", "n": 60, "seq_len": 16, "stride": 4}, (16,)),
    ({"source": "labelled_sentences", "n": 60, "length": 32, "buckets": 512}, (32,)),
    ({"source": "word_pairs", "n": 60, "window": 2, "negatives": 3}, (5,)),
])
def test_sources_are_deterministic_by_seed(settings, shape):
    a = _all(load_data({**settings, "seed": 3}, shape))
    b = _all(load_data({**settings, "seed": 3}, shape))
    c = _all(load_data({**settings, "seed": 4}, shape))
    assert a.dtype == torch.int64 and a.shape[1:] == shape
    assert torch.equal(a, b)
    assert a.shape != c.shape or not torch.equal(a, c)


def test_sources_are_registered_as_generated():
    for name in ("grammar_text", "labelled_sentences", "word_pairs"):
        assert SOURCES[name].kind == "generated"


def test_sentences_follow_the_topics_without_noise():
    topic_of = grammar.word_topic()
    for words, topic in grammar.sentences(50, seed=1, noise=0.0):
        topics = {topic_of[w] for w in words if w in topic_of}
        assert topics == {grammar.TOPIC_NAMES[topic]}
    assert grammar.sentences(5, 2) == grammar.sentences(5, 2) != grammar.sentences(5, 3)


def test_grammar_text_is_a_language_model_stream_over_the_fixed_alphabet():
    splits = load_data({"source": "grammar_text", "n": 40, "seq_len": 12}, (12,))
    assert splits.task == "language_model" and splits.class_names == grammar.alphabet()
    x, y = splits.train[0]
    assert torch.equal(x[1:], y[:-1])
    assert int(x.max()) < splits.num_classes
    with pytest.raises(DataError, match="Input"):
        load_data({"source": "grammar_text", "n": 40, "seq_len": 12}, (10,))


def test_labelled_sentences_hash_features_and_pad_with_zero():
    feats = grammar.features(["the", "cat"], word_ngrams=2, char_ngrams=3)
    assert feats[:3] == ["the", "cat", "the cat"] and "<ca" in feats and "at>" in feats
    ids = grammar.hash_ids(feats, 100, 20)
    assert len(ids) == 20 and ids[0] == 1 + zlib.crc32(b"the") % 100
    assert ids[len(feats):] == [0] * (20 - len(feats)) and all(i >= 1 for i in ids[:len(feats)])
    splits = load_data({"source": "labelled_sentences", "n": 80, "length": 64, "buckets": 50}, (64,))
    x = _all(splits)
    assert splits.task == "classification" and splits.class_names == grammar.TOPIC_NAMES
    assert int(x.max()) <= 50 and (x == 0).any() and (x[:, 0] > 0).all()


def test_word_pairs_rows_for_skipgram_and_cbow():
    sg = load_data({"source": "word_pairs", "n": 30, "window": 1, "negatives": 2, "val_split": 0.0}, (4,))
    assert sg.task == "word_embedding" and sg.class_names[0] in (".", "the")
    cb = load_data({"source": "word_pairs", "n": 30, "window": 2, "negatives": 2, "mode": "cbow",
                    "val_split": 0.0}, (7,))
    # skip-gram: one row per (centre, neighbour) pair; CBOW: one row per centre.
    assert len(sg.train) == 2 * len(cb.train) + 4
    with pytest.raises(DataError, match=r"set the Input shape to \[7\]"):
        load_data({"source": "word_pairs", "n": 30, "window": 2, "negatives": 2, "mode": "cbow"}, (4,))
