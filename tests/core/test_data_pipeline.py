"""Splits, normalisation, augmentation and the lazy image path of `load_data`."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from studio.data import load_data, pipeline
from studio.data.split import split_indices
from studio.errors import DataError


def _stack(dataset):
    xs, ys = zip(*(dataset[i] for i in range(len(dataset))))
    return torch.stack(xs), torch.stack(ys)


# ---- splits -------------------------------------------------------------------------------

def test_split_sizes_follow_the_fractions():
    splits = load_data({"source": "digits", "val_split": 0.25, "test_split": 0.15})
    assert (len(splits.train), len(splits.val), len(splits.test)) == (1797 - 449 - 270, 449, 270)
    assert load_data({"source": "digits", "test_split": 0.0}).test is None
    assert len(load_data({"source": "digits", "val_split": 0.0}).val) == 0


def test_splits_are_deterministic_by_seed_and_disjoint():
    first = load_data({"source": "digits", "seed": 7, "normalize": False, "test_split": 0.1})
    again = load_data({"source": "digits", "seed": 7, "normalize": False, "test_split": 0.1})
    other = load_data({"source": "digits", "seed": 8, "normalize": False, "test_split": 0.1})
    for part in ("train", "val", "test"):
        assert torch.equal(_stack(getattr(first, part))[0], _stack(getattr(again, part))[0])
    assert not torch.equal(_stack(first.val)[0], _stack(other.val)[0])
    # Every digit image appears in exactly one split (digits has a few duplicates, so count rows).
    rows = lambda d: {tuple(r.tolist()) for r in _stack(d)[0].flatten(1)}  # noqa: E731
    everything = load_data({"source": "digits", "val_split": 0.0, "normalize": False})
    assert rows(first.train) | rows(first.val) | rows(first.test) == rows(everything.train)


def test_classification_splits_are_stratified():
    splits = load_data({"source": "iris", "val_split": 0.2, "test_split": 0.2})
    for part, size in ((splits.val, 10), (splits.test, 10), (splits.train, 30)):
        counts = torch.bincount(_stack(part)[1], minlength=3)
        assert counts.tolist() == [size] * 3


@settings(max_examples=60, deadline=None)
@given(counts=st.lists(st.integers(0, 40), min_size=1, max_size=6), val=st.floats(0, 0.5),
       test=st.floats(0, 0.4), seed=st.integers(0, 2**32 - 1))
def test_split_indices_partition_exactly_and_proportionally(counts, val, test, seed):
    labels = np.repeat(np.arange(len(counts)), counts)
    n = len(labels)
    n_val, n_test = round(n * val), round(n * test)
    if n_val + n_test > n:
        return
    train_i, val_i, test_i = split_indices(n, n_val, n_test, seed, np.random.default_rng(seed).permutation(labels))
    assert (len(val_i), len(test_i)) == (n_val, n_test)
    assert np.array_equal(np.sort(np.concatenate([train_i, val_i, test_i])), np.arange(n))
    shuffled = np.random.default_rng(seed).permutation(labels)
    for part, size in ((test_i, n_test), (val_i, n_val)):
        got = np.bincount(shuffled[part], minlength=len(counts))
        # the test share is exact up to rounding; the validation share is taken from what is left
        assert np.all(np.abs(got - np.array(counts) * size / max(n, 1)) <= 2)


def test_max_samples_draws_a_seeded_subset():
    splits = load_data({"source": "digits", "max_samples": 100, "val_split": 0.2, "seed": 1})
    assert (len(splits.train), len(splits.val)) == (80, 20)
    with pytest.raises(DataError, match="too few"):
        load_data({"source": "digits", "max_samples": 1, "val_split": 0.5})


# ---- normalisation ------------------------------------------------------------------------

def test_image_normalisation_uses_train_statistics_only():
    raw = load_data({"source": "digits", "normalize": False, "test_split": 0.2}, input_shape=(3, 16, 16))
    norm = load_data({"source": "digits", "normalize": True, "test_split": 0.2}, input_shape=(3, 16, 16))
    raw_train = _stack(raw.train)[0]
    expected_mean = raw_train.mean(dim=(0, 2, 3))
    expected_std = raw_train.std(dim=(0, 2, 3), correction=0)
    assert np.allclose(norm.mean, expected_mean, atol=1e-5) and np.allclose(norm.std, expected_std, atol=1e-5)
    train = _stack(norm.train)[0]
    assert torch.allclose(train.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4)
    assert torch.allclose(train.std(dim=(0, 2, 3), correction=0), torch.ones(3), atol=1e-4)
    # val and test use the train statistics, so they are close to but not exactly centred
    for part, raw_part in ((norm.val, raw.val), (norm.test, raw.test)):
        got, original = _stack(part)[0], _stack(raw_part)[0]
        assert torch.allclose(got, (original - expected_mean.view(3, 1, 1)) / expected_std.view(3, 1, 1), atol=1e-4)
        assert 1e-5 < abs(float(got.mean())) < 0.2


def test_vector_normalisation_is_per_feature_and_constant_features_survive(tmp_path):
    splits = load_data({"source": "wine", "test_split": 0.2})
    train = _stack(splits.train)[0]
    assert torch.allclose(train.mean(0), torch.zeros(13), atol=1e-4)
    assert torch.allclose(train.std(0, correction=0), torch.ones(13), atol=1e-4)
    assert len(splits.mean) == 13 and max(splits.mean) > 100  # proline is in the hundreds
    np.savez(tmp_path / "c.npz", x=np.stack([np.arange(20.0), np.full(20, 3.0)], 1), y=np.arange(20) % 2)
    const = load_data({"source": "npz", "path": "c.npz"}, root=tmp_path)
    assert const.std[1] == 1.0 and torch.isfinite(_stack(const.train)[0]).all()


# ---- augmentation -------------------------------------------------------------------------

AUGMENTS = {"flip": True, "crop_padding": 2, "rotation": 20.0, "noise": 0.1}


def test_augmentation_changes_train_samples_but_not_val():
    splits = load_data({"source": "digits", "augment": AUGMENTS}, input_shape=(1, 16, 16))
    torch.manual_seed(0)
    a, b = splits.train[3][0], splits.train[3][0]
    assert a.shape == (1, 16, 16) and not torch.equal(a, b)
    assert torch.equal(splits.val[3][0], splits.val[3][0])
    plain = load_data({"source": "digits"}, input_shape=(1, 16, 16))
    assert torch.equal(plain.train[3][0], plain.train[3][0])
    assert torch.allclose(plain.val[3][0], splits.val[3][0])


@pytest.mark.parametrize("option", sorted(AUGMENTS))
def test_each_augmentation_does_its_own_change(option):
    splits = load_data({"source": "shapes", "n": 20, "normalize": False, "val_split": 0.0,
                        "augment": {option: AUGMENTS[option]}}, input_shape=(1, 24, 24))
    original = load_data({"source": "shapes", "n": 20, "normalize": False, "val_split": 0.0},
                         input_shape=(1, 24, 24)).train[0][0]
    torch.manual_seed(1)
    outputs = [splits.train[0][0] for _ in range(40)]
    assert any(not torch.equal(o, original) for o in outputs)
    if option == "flip":
        assert all(torch.equal(o, original) or torch.equal(o, original.flip(-1)) for o in outputs)
        assert 5 < sum(torch.equal(o, original.flip(-1)) for o in outputs) < 35
    elif option == "crop_padding":  # a shift by at most 2 pixels: sums never grow
        assert all(o.sum() <= original.sum() + 1e-4 for o in outputs)
    elif option == "rotation":  # the area of the shape is roughly kept
        assert all(abs(o.sum() - original.sum()) < 0.25 * original.sum() for o in outputs)
    else:
        assert abs(float(torch.stack([o - original for o in outputs]).std()) - 0.1) < 0.01


def test_augmentation_works_on_flattened_images_and_noise_on_vectors():
    flat = load_data({"source": "digits", "augment": {"rotation": 30.0}}, input_shape=(64,))
    assert flat.train[0][0].shape == (64,)
    vectors = load_data({"source": "iris", "augment": {"noise": 0.5}})
    assert not torch.equal(vectors.train[0][0], vectors.train[0][0])
    with pytest.raises(DataError, match="flip.*images"):
        load_data({"source": "iris", "augment": {"flip": True}})
    with pytest.raises(DataError, match="noise"):
        load_data({"source": "sequences", "augment": {"noise": 0.1}})
    with pytest.raises(DataError, match="unknown augment.*zoom"):
        load_data({"source": "digits", "augment": {"zoom": 2}})
    with pytest.raises(DataError, match="crop_padding"):
        load_data({"source": "digits", "augment": {"crop_padding": 1.5}})
    off = {"flip": False, "crop_padding": 0, "rotation": 0.0, "noise": 0.0}
    assert type(load_data({"source": "iris", "augment": off}).train).__name__ == "TensorDataset"


# ---- large image sets are prepared lazily -------------------------------------------------

def test_lazy_image_path_matches_the_bulk_path(monkeypatch):
    settings = {"source": "digits", "test_split": 0.1}
    bulk = load_data(settings, input_shape=(3, 12, 12))
    monkeypatch.setattr(pipeline, "BULK_LIMIT", 0)
    lazy = load_data(settings, input_shape=(3, 12, 12))
    assert type(lazy.train).__name__ == "LazyImages"
    assert np.allclose(lazy.mean, bulk.mean) and np.allclose(lazy.std, bulk.std)
    for part in ("train", "val", "test"):
        got, want = _stack(getattr(lazy, part)), _stack(getattr(bulk, part))
        assert torch.allclose(got[0], want[0], atol=1e-5) and torch.equal(got[1], want[1])
    assert torch.equal(lazy.train[-1][0], lazy.train[len(lazy.train) - 1][0])
