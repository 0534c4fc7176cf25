"""Built-in and generated data sources: shapes, dtypes, classes, values, fitting to the Input shape."""

import ast
from pathlib import Path

import pytest
import torch

import studio.data
from studio.data import SOURCES, DataSplits, describe_sources, load_data
from studio.errors import DataError

# name -> (input_shape, num_classes or None, task, x dtype, samples in total)
EXPECTED = {
    "digits": ((1, 8, 8), 10, "classification", torch.float32, 1797),
    "iris": ((4,), 3, "classification", torch.float32, 150),
    "wine": ((13,), 3, "classification", torch.float32, 178),
    "breast_cancer": ((30,), 2, "classification", torch.float32, 569),
    "diabetes": ((10,), None, "regression", torch.float32, 442),
    "xor": ((2,), 2, "classification", torch.float32, 400),
    "spirals": ((2,), 2, "classification", torch.float32, 400),
    "moons": ((2,), 2, "classification", torch.float32, 400),
    "circles": ((2,), 2, "classification", torch.float32, 400),
    "blobs": ((2,), 3, "classification", torch.float32, 600),
    "ring": ((2,), 8, "classification", torch.float32, 2000),
    "shapes": ((1, 32, 32), 3, "classification", torch.float32, 1000),
    "sequences": ((20,), 2, "classification", torch.int64, 2000),
    "labelled_sentences": ((64,), 4, "classification", torch.int64, 2000),
}
# Generated sources whose layout (a character stream, word2vec rows) these checks do not fit.
TESTED_ELSEWHERE = {"grammar_text", "word_pairs",  # tests/core/test_seq_data.py
                    "transduction", "masked_text"}  # tests/core/test_attn_data.py


def _all_pairs(dataset):
    xs, ys = zip(*(dataset[i] for i in range(len(dataset))))
    return torch.stack(xs), torch.stack(ys)


def test_every_registered_source_is_described_and_tested():
    described = describe_sources()
    assert [row[0] for row in described] == list(SOURCES)
    assert all(kind in ("built-in", "generated", "file") and len(text) > 10 for _, kind, text in described)
    non_file = {name for name, kind, _ in described if kind != "file"}
    assert non_file == set(EXPECTED) | TESTED_ELSEWHERE


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_source_loads_with_its_shape_dtype_and_classes(name):
    shape, classes, task, dtype, total = EXPECTED[name]
    splits = load_data({"source": name, "val_split": 0.2, "test_split": 0.1})
    assert isinstance(splits, DataSplits)
    assert splits.input_shape == shape
    assert (splits.task, splits.num_classes) == (task, classes)
    assert len(splits.train) + len(splits.val) + len(splits.test) == total
    assert len(splits.val) == round(total * 0.2) and len(splits.test) == round(total * 0.1)
    x, y = _all_pairs(splits.train)
    assert x.dtype == dtype and tuple(x.shape[1:]) == shape
    if task == "classification":
        assert y.dtype == torch.int64 and y.shape == (len(splits.train),)
        assert set(y.tolist()) == set(range(classes)), "every class appears in training"
        assert len(splits.class_names) == classes
    else:
        assert y.dtype == torch.float32 and y.shape == (len(splits.train), 1)
        assert splits.class_names is None


def test_digits_values_are_scaled_to_unit_range_and_match_sklearn():
    from sklearn.datasets import load_digits

    splits = load_data({"source": "digits", "val_split": 0.0, "normalize": False})
    x, y = _all_pairs(splits.train)
    reference = load_digits()
    # val_split 0 keeps every sample in file order.
    assert torch.equal(y, torch.as_tensor(reference.target))
    assert torch.allclose(x[:, 0], torch.as_tensor(reference.images, dtype=torch.float32) / 16)
    assert x.min() == 0 and x.max() == 1
    assert splits.mean is None and splits.std is None and splits.test is None


def test_digits_loads_are_independent_copies():
    from studio.data.builtin import load_digits

    first = load_digits({}, Path("."), None)
    first.x.mul_(0)  # the file is parsed once; changing one load's tensors must not change the next
    first.y.zero_()
    again = load_digits({}, Path("."), None)
    assert again.x.max() == 1 and again.y.max() == 9


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (28, 28), (784,), (1024,)])
def test_digits_resize_to_input_shape(shape):
    splits = load_data({"source": "digits", "normalize": False}, input_shape=shape)
    x, _ = splits.train[0]
    assert splits.input_shape == shape and tuple(x.shape) == shape and x.dtype == torch.float32
    assert 0 <= x.min() and x.max() <= 1 and x.max() > 0.5


def test_resize_is_bilinear_and_rgb_repeats_grey():
    grey = load_data({"source": "digits", "normalize": False, "val_split": 0.0}, input_shape=(1, 16, 16))
    rgb = load_data({"source": "digits", "normalize": False, "val_split": 0.0}, input_shape=(3, 16, 16))
    native = load_data({"source": "digits", "normalize": False, "val_split": 0.0})
    g, c, n = grey.train[5][0], rgb.train[5][0], native.train[5][0]
    assert torch.equal(c[0], g[0]) and torch.equal(c[1], g[0]) and torch.equal(c[2], g[0])
    expected = torch.nn.functional.interpolate(n[None], size=(16, 16), mode="bilinear", antialias=True)[0]
    assert torch.allclose(g, expected, atol=1e-6)
    assert abs(g.mean() - n.mean()) < 0.02  # an upsample keeps the average brightness


def test_rgb_to_grey_takes_the_channel_mean():
    rgb = load_data({"source": "shapes", "normalize": False, "n": 30, "val_split": 0.0}, input_shape=(3, 24, 24))
    grey = load_data({"source": "shapes", "normalize": False, "n": 30, "val_split": 0.0}, input_shape=(1, 24, 24))
    assert torch.allclose(rgb.train[3][0].mean(0), grey.train[3][0][0])


def test_images_refuse_an_impossible_input_shape():
    with pytest.raises(DataError, match="digits.*Input"):
        load_data({"source": "digits"}, input_shape=(1000,))
    with pytest.raises(DataError, match="channel"):
        load_data({"source": "digits"}, input_shape=(4, 8, 8))


def test_tabular_feature_count_is_checked_and_reshaped():
    assert load_data({"source": "iris"}, input_shape=(2, 2)).train[0][0].shape == (2, 2)
    with pytest.raises(DataError, match=r"4 features.*\(5,\)"):
        load_data({"source": "iris"}, input_shape=(5,))


def test_generated_sources_follow_their_settings_and_seed():
    a = load_data({"source": "blobs", "n": 90, "classes": 5, "features": 7, "seed": 3})
    b = load_data({"source": "blobs", "n": 90, "classes": 5, "features": 7, "seed": 3})
    c = load_data({"source": "blobs", "n": 90, "classes": 5, "features": 7, "seed": 4})
    assert a.input_shape == (7,) and a.num_classes == 5
    assert len(a.train) + len(a.val) == 90
    assert torch.equal(_all_pairs(a.train)[0], _all_pairs(b.train)[0])
    assert not torch.equal(_all_pairs(a.train)[0], _all_pairs(c.train)[0])
    assert load_data({"source": "blobs"}, input_shape=(5,)).input_shape == (5,)


def test_xor_labels_are_the_xor_of_signs():
    splits = load_data({"source": "xor", "noise": 0.0, "normalize": False, "n": 200})
    x, y = _all_pairs(splits.train)
    assert torch.equal(y, ((x[:, 0] > 0) != (x[:, 1] > 0)).long())
    assert x.abs().max() <= 1


def test_spirals_and_circles_have_their_geometry():
    spirals = load_data({"source": "spirals", "noise": 0.0, "normalize": False, "val_split": 0.0})
    x, y = _all_pairs(spirals.train)
    assert (x.norm(dim=1) <= 1.0 + 1e-6).all() and y.float().mean() == 0.5
    circles = load_data({"source": "circles", "noise": 0.0, "normalize": False, "factor": 0.3, "val_split": 0.0})
    x, y = _all_pairs(circles.train)
    assert torch.allclose(x.norm(dim=1), torch.where(y == 1, 0.3, 1.0))


def test_sequences_label_counts_sevens_against_threes():
    splits = load_data({"source": "sequences", "n": 300, "vocab": 12}, input_shape=(15,))
    x, y = _all_pairs(splits.train)
    assert x.shape[1:] == (15,) and x.dtype == torch.int64 and splits.mean is None
    assert 0 <= x.min() and x.max() < 12
    assert torch.equal(y, ((x == 7).sum(1) > (x == 3).sum(1)).long())
    assert 0.2 < y.float().mean() < 0.6
    with pytest.raises(DataError, match="length"):
        load_data({"source": "sequences", "length": 10}, input_shape=(12,))


def test_shapes_draws_the_kinds_asked_for():
    splits = load_data({"source": "shapes", "n": 60, "kinds": ["square", "ring"], "normalize": False,
                        "val_split": 0.0}, input_shape=(1, 40, 40))
    x, y = _all_pairs(splits.train)
    assert splits.class_names == ["square", "ring"] and x.shape == (60, 1, 40, 40)
    assert (x.flatten(1).max(1).values > 0.5).all(), "every image shows a shape"
    # A ring has a dark centre around its middle; a square is lit across it.
    fill = (x[:, 0] > 0).float().flatten(1).mean(1)
    assert fill[y == 0].mean() > fill[y == 1].mean()
    with pytest.raises(DataError, match="kinds"):
        load_data({"source": "shapes", "kinds": ["circle", "hexagon"]})


def test_settings_are_validated():
    with pytest.raises(DataError, match="unknown data source 'nope'.*digits"):
        load_data({"source": "nope"})
    with pytest.raises(DataError, match="val_split"):
        load_data({"source": "iris", "val_split": "a lot"})
    with pytest.raises(DataError, match="sum below 1"):
        load_data({"source": "iris", "val_split": 0.6, "test_split": 0.5})
    with pytest.raises(DataError, match="seed"):
        load_data({"source": "xor", "seed": 1.5})
    assert load_data({}).input_shape == (1, 8, 8), "the default source is digits"


def test_data_package_never_imports_qt_or_pickle():
    forbidden = {"PySide6", "PyQt5", "PyQt6", "pyqtgraph", "pickle", "studio.ui"}
    for file in Path(studio.data.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] in forbidden or n.startswith("studio.ui") for n in names), file


def test_input_shape_must_be_positive_whole_numbers():
    assert load_data({"source": "iris"}, input_shape=[4]).input_shape == (4,)
    with pytest.raises(DataError, match="Input node's shape"):
        load_data({"source": "digits"}, input_shape=(0, 8, 8))
    with pytest.raises(DataError, match="Input node's shape"):
        load_data({"source": "iris"}, input_shape=(4.0,))
