"""File sources on small files the tests write: MNIST IDX, CIFAR-10, image folders, CSV, npz, text.

Each format is read back value for value, and each kind of bad file must give a
`DataError` whose message names the file.
"""

import gzip
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from studio.data import load_data
from studio.data.cifar import CLASS_NAMES
from studio.errors import DataError

RNG = np.random.default_rng(0)


def _stack(dataset):
    xs, ys = zip(*(dataset[i] for i in range(len(dataset))))
    return torch.stack(xs), torch.stack(ys)


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_mnist(folder, n=30, size=28, gz=False, prefix="train", labels=None):
    images = RNG.integers(0, 256, (n, size, size), dtype=np.uint8)
    labels = np.arange(n, dtype=np.uint8) % 10 if labels is None else labels
    suffix = ".gz" if gz else ""
    paths = folder / f"{prefix}-images-idx3-ubyte{suffix}", folder / f"{prefix}-labels-idx1-ubyte{suffix}"
    for path, array in zip(paths, (images, labels)):
        data = idx_bytes(array)
        path.write_bytes(gzip.compress(data) if gz else data)
    return images, labels, paths


def write_cifar(path, n=6, offset=0):
    images = RNG.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    labels = ((np.arange(n) + offset) % 10).astype(np.uint8)
    path.write_bytes(np.concatenate([labels[:, None], images.reshape(n, -1)], axis=1).tobytes())
    return images, labels


# ---- MNIST IDX ----------------------------------------------------------------------------

@pytest.mark.parametrize("gz", [False, True])
def test_mnist_idx_reads_images_and_labels(tmp_path, gz):
    images, labels, (img, lab) = write_mnist(tmp_path, gz=gz)
    splits = load_data({"source": "mnist", "images": img.name, "labels": lab.name, "val_split": 0.0,
                        "normalize": False}, root=tmp_path)
    x, y = _stack(splits.train)
    assert splits.input_shape == (1, 28, 28) and splits.num_classes == 10 and splits.class_names[3] == "3"
    assert torch.equal(y, torch.as_tensor(labels, dtype=torch.int64))
    assert torch.allclose(x[:, 0], torch.as_tensor(images, dtype=torch.float32) / 255)


def test_mnist_test_files_make_the_test_split_and_resize(tmp_path):
    write_mnist(tmp_path, n=40, gz=True)
    test_images, test_labels, _ = write_mnist(tmp_path, n=12, prefix="t10k")
    settings = {"source": "mnist", "path": ".", "val_split": 0.25, "test_split": 0.5, "normalize": False}
    splits = load_data(settings, input_shape=(3, 32, 32), root=tmp_path)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (30, 10, 12)
    x, y = _stack(splits.test)
    assert x.shape == (12, 3, 32, 32) and torch.equal(y, torch.as_tensor(test_labels, dtype=torch.int64))
    expected = torch.nn.functional.interpolate(torch.as_tensor(test_images[:, None] / 255, dtype=torch.float32),
                                               size=(32, 32), mode="bilinear", antialias=True)
    assert torch.allclose(x[:, 1:2], expected, atol=1e-5)


def _mnist_settings(img, lab):
    return {"source": "mnist", "images": str(img), "labels": str(lab)}


def test_mnist_missing_file_names_it(tmp_path):
    _, _, (img, lab) = write_mnist(tmp_path)
    with pytest.raises(DataError, match=r"nothere-labels.*not found"):
        load_data(_mnist_settings(img, tmp_path / "nothere-labels"))
    with pytest.raises(DataError, match="needs a 'labels' setting"):
        load_data({"source": "mnist", "images": str(img)})


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_truncated_file_names_it(tmp_path, gz):
    _, _, (img, lab) = write_mnist(tmp_path, gz=gz)
    img.write_bytes(img.read_bytes()[:-100])
    with pytest.raises(DataError, match=rf"{img.name}.*(truncated|corrupt)"):
        load_data(_mnist_settings(img, lab))


def test_mnist_header_cut_short_and_trailing_bytes(tmp_path):
    _, _, (img, lab) = write_mnist(tmp_path)
    data = img.read_bytes()
    img.write_bytes(data[:6])
    with pytest.raises(DataError, match=rf"{img.name}.*header"):
        load_data(_mnist_settings(img, lab))
    img.write_bytes(data + b"\0\0")
    with pytest.raises(DataError, match=rf"{img.name}.*longer than its header"):
        load_data(_mnist_settings(img, lab))


def test_mnist_wrong_magic_names_it(tmp_path):
    _, _, (img, lab) = write_mnist(tmp_path)
    img.write_bytes(b"\x89PNG" + img.read_bytes()[4:])
    with pytest.raises(DataError, match=rf"{img.name}.*not an IDX file.*0x89504e47"):
        load_data(_mnist_settings(img, lab))


def test_mnist_swapped_files_are_caught(tmp_path):
    _, _, (img, lab) = write_mnist(tmp_path)
    with pytest.raises(DataError, match=rf"{lab.name}.*1-dimensional.*swapped"):
        load_data(_mnist_settings(lab, img))


def test_mnist_count_mismatch_names_both_files(tmp_path):
    _, _, (img, _) = write_mnist(tmp_path, n=30)
    lab = tmp_path / "short-labels"
    lab.write_bytes(idx_bytes(np.zeros(29, dtype=np.uint8)))
    with pytest.raises(DataError, match=r"short-labels: holds 29 labels but .*train-images.* holds 30"):
        load_data(_mnist_settings(img, lab))


# ---- CIFAR-10 -----------------------------------------------------------------------------

def test_cifar_binary_batches(tmp_path):
    first, first_labels = write_cifar(tmp_path / "data_batch_1.bin", 6)
    second, second_labels = write_cifar(tmp_path / "data_batch_2.bin", 4, offset=6)
    test, test_labels = write_cifar(tmp_path / "test_batch.bin", 5)
    splits = load_data({"source": "cifar10", "files": ["data_batch_1.bin", "data_batch_2.bin"],
                        "test_files": "test_batch.bin", "val_split": 0.0, "normalize": False}, root=tmp_path)
    x, y = _stack(splits.train)
    assert splits.input_shape == (3, 32, 32) and splits.class_names == CLASS_NAMES and splits.num_classes == 10
    assert torch.equal(y, torch.as_tensor(np.concatenate([first_labels, second_labels]), dtype=torch.int64))
    # the record's first 1024 pixel bytes are the red plane
    assert torch.allclose(x[7, 0], torch.as_tensor(second[1, 0], dtype=torch.float32) / 255)
    assert torch.equal(_stack(splits.test)[1], torch.as_tensor(test_labels, dtype=torch.int64))
    folder = load_data({"source": "cifar10", "path": "."}, input_shape=(1, 16, 16), root=tmp_path)
    assert len(folder.test) == 5 and folder.train[0][0].shape == (1, 16, 16)


def test_cifar_wrong_size_names_the_file(tmp_path):
    write_cifar(tmp_path / "data_batch_1.bin", 3)
    bad = tmp_path / "data_batch_2.bin"
    write_cifar(bad, 3)
    bad.write_bytes(bad.read_bytes()[:-10])
    with pytest.raises(DataError, match=r"data_batch_2\.bin: 9209 bytes is not a whole number"):
        load_data({"source": "cifar10", "files": ["data_batch_1.bin", "data_batch_2.bin"]}, root=tmp_path)
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="empty.bin"):
        load_data({"source": "cifar10", "files": [str(empty)]})


def test_cifar100_file_is_recognised(tmp_path):
    path = tmp_path / "train.bin"
    write_cifar(path, 3)
    data = bytearray(path.read_bytes())
    data[3073] = 57
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"train\.bin: record 1 has label byte 57.*CIFAR-100"):
        load_data({"source": "cifar10", "files": [str(path)]})


# ---- image folder -------------------------------------------------------------------------

def _image_folder(root):
    colours = {"blue": (0, 0, 255), "red": (255, 0, 0), "white": (255, 255, 255)}
    for index, (name, colour) in enumerate(colours.items()):
        (root / name).mkdir(parents=True)
        for k in range(3 + index):
            Image.new("RGB", (10 + 3 * k, 12), colour).save(root / name / f"{k}.png")
    (root / "white" / "grey.png").unlink(missing_ok=True)
    Image.new("L", (9, 9), 255).save(root / "white" / "grey.png")
    (root / "white" / "notes.txt").write_text("not an image, skipped")
    return colours


def test_image_folder_reads_classes_from_subfolders(tmp_path):
    colours = _image_folder(tmp_path / "imgs")
    splits = load_data({"source": "image_folder", "path": "imgs", "val_split": 0.0, "normalize": False},
                       input_shape=(3, 16, 16), root=tmp_path)
    x, y = _stack(splits.train)
    assert splits.class_names == ["blue", "red", "white"] and splits.num_classes == 3
    assert x.shape == (3 + 4 + 6, 3, 16, 16) and torch.bincount(y).tolist() == [3, 4, 6]
    for label, colour in enumerate(colours.values()):
        assert torch.allclose(x[y == label].mean(dim=(0, 2, 3)), torch.tensor(colour) / 255, atol=1e-3)


def test_image_folder_grey_and_size_setting(tmp_path):
    _image_folder(tmp_path / "imgs")
    splits = load_data({"source": "image_folder", "path": str(tmp_path / "imgs"), "size": [8, 6],
                        "normalize": False}, input_shape=None)
    assert splits.input_shape == (3, 8, 6)
    grey = load_data({"source": "image_folder", "path": str(tmp_path / "imgs"), "normalize": False},
                     input_shape=(1, 8, 8))
    x, y = _stack(grey.train)
    assert x.shape[1:] == (1, 8, 8)
    assert torch.allclose(x[y == 0].mean(), torch.tensor(85 / 255), atol=2e-3)  # blue's mean over RGB


def test_empty_image_folder_names_it(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: no class subfolders"):
        load_data({"source": "image_folder", "path": str(tmp_path / "empty")})
    (tmp_path / "empty" / "cats").mkdir()
    with pytest.raises(DataError, match=r"cats: class folder holds no images"):
        load_data({"source": "image_folder", "path": str(tmp_path / "empty")})


def test_unreadable_image_names_it(tmp_path):
    _image_folder(tmp_path / "imgs")
    (tmp_path / "imgs" / "red" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(DataError, match=r"broken\.png: not a readable image"):
        load_data({"source": "image_folder", "path": "imgs"}, root=tmp_path)


# ---- CSV ----------------------------------------------------------------------------------

CSV = "a,b,species,c\n1,2.5,cat,0\n2,3.5,dog,1\n3,4.5,cat,0\n4,5.5,emu,1\n5,6.5,dog,0\n6,7.5,cat,1\n"


def test_csv_classification_with_text_targets(tmp_path):
    (tmp_path / "t.csv").write_text(CSV)
    splits = load_data({"source": "csv", "path": "t.csv", "target": "species", "val_split": 0.0,
                        "normalize": False}, root=tmp_path)
    x, y = _stack(splits.train)
    assert splits.class_names == ["cat", "dog", "emu"] and splits.task == "classification"
    assert splits.input_shape == (3,) and x.dtype == torch.float32
    assert torch.equal(x[1], torch.tensor([2.0, 3.5, 1.0])) and y.tolist() == [0, 1, 0, 2, 1, 0]


def test_csv_regression_features_and_inferred_task(tmp_path):
    (tmp_path / "t.csv").write_text(CSV.replace(",", ";"))
    reg = load_data({"source": "csv", "path": "t.csv", "target": "b", "features": ["a"], "val_split": 0.0,
                     "normalize": False}, root=tmp_path)
    x, y = _stack(reg.train)
    assert reg.task == "regression" and reg.num_classes is None and reg.input_shape == (1,)
    assert y.dtype == torch.float32 and torch.equal(y[:, 0], x[:, 0] + 1.5)
    binary = load_data({"source": "csv", "path": "t.csv", "features": ["a", "b"]}, root=tmp_path)
    assert binary.task == "classification" and binary.class_names == ["0", "1"]  # last column by default


def test_csv_non_numeric_feature_names_file_line_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(CSV.replace("4,5.5,emu", "4,five,emu"))
    with pytest.raises(DataError, match=r"bad\.csv: line 5, column 'b': 'five' is not a number"):
        load_data({"source": "csv", "path": str(path), "target": "species"})
    path.write_text(CSV.replace("3,4.5", "3,"))
    with pytest.raises(DataError, match=r"bad\.csv: line 4, column 'b' is empty"):
        load_data({"source": "csv", "path": str(path), "target": "species"})
    path.write_text(CSV + "7,8\n")
    with pytest.raises(DataError, match=r"bad\.csv: line 8 has 2 fields"):
        load_data({"source": "csv", "path": str(path), "target": "species"})
    path.write_text(CSV)
    with pytest.raises(DataError, match=r"bad\.csv: no column 'kind'.*a, b, species, c"):
        load_data({"source": "csv", "path": str(path), "target": "kind"})


def test_csv_feature_count_mismatch_names_the_file(tmp_path):
    (tmp_path / "t.csv").write_text(CSV)
    with pytest.raises(DataError, match=r"t\.csv: each sample has 3 features.*\(4,\)"):
        load_data({"source": "csv", "path": "t.csv", "target": "species"}, input_shape=(4,), root=tmp_path)


# ---- npz ----------------------------------------------------------------------------------

def test_npz_vectors_images_and_regression(tmp_path):
    x = RNG.normal(size=(20, 5)).astype(np.float64)
    np.savez(tmp_path / "v.npz", x=x, y=np.arange(20) % 4)
    vec = load_data({"source": "npz", "path": "v.npz", "val_split": 0.0, "normalize": False}, root=tmp_path)
    got, y = _stack(vec.train)
    assert vec.num_classes == 4 and got.dtype == torch.float32 and torch.allclose(got, torch.tensor(x).float())
    images = RNG.integers(0, 256, (12, 10, 10, 3), dtype=np.uint8)  # channels last
    np.savez_compressed(tmp_path / "i.npz", pics=images, target=np.linspace(0, 1, 12))
    img = load_data({"source": "npz", "path": "i.npz", "x_key": "pics", "y_key": "target", "val_split": 0.0,
                     "normalize": False}, input_shape=(3, 10, 10), root=tmp_path)
    got, y = _stack(img.train)
    assert img.task == "regression" and y.shape == (12, 1) and y.dtype == torch.float32
    assert torch.allclose(got[2], torch.as_tensor(images[2]).permute(2, 0, 1).float() / 255)


def test_npz_missing_key_names_the_file_and_its_arrays(tmp_path):
    np.savez(tmp_path / "d.npz", features=np.zeros((4, 2)), y=np.zeros(4, dtype=int))
    with pytest.raises(DataError, match=r"d\.npz: has no array 'x' \(it holds: features, y\).*x_key"):
        load_data({"source": "npz", "path": "d.npz"}, root=tmp_path)


def test_npz_object_arrays_are_refused(tmp_path):
    objects = np.empty(4, dtype=object)
    objects[:] = [{"a": 1}, None, "x", 3]
    np.savez(tmp_path / "o.npz", x=np.zeros((4, 2)), y=objects)
    with pytest.raises(DataError, match=r"o\.npz: array 'y' holds Python objects"):
        load_data({"source": "npz", "path": "o.npz"}, root=tmp_path)


def test_npz_not_a_zip_and_bad_shapes(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"definitely not a zip")
    with pytest.raises(DataError, match=r"junk\.npz: not a readable \.npz"):
        load_data({"source": "npz", "path": "junk.npz"}, root=tmp_path)
    np.savez(tmp_path / "n.npz", x=np.zeros((4, 2)), y=np.zeros(5, dtype=int))
    with pytest.raises(DataError, match=r"n\.npz: .*same number of rows"):
        load_data({"source": "npz", "path": "n.npz"}, root=tmp_path)


# ---- text ---------------------------------------------------------------------------------

def test_text_windows_predict_the_next_character(tmp_path):
    content = "hello world, hello stars. " * 20
    (tmp_path / "t.txt").write_text(content)
    splits = load_data({"source": "text", "path": "t.txt", "val_split": 0.25, "test_split": 0.0}, root=tmp_path)
    vocab = sorted(set(content))
    assert splits.task == "language_model" and splits.class_names == vocab and splits.num_classes == len(vocab)
    assert splits.input_shape == (64,) and splits.test is None and splits.mean is None
    x, y = splits.train[3]
    assert x.dtype == torch.int64 and x.shape == y.shape == (64,)
    assert "".join(vocab[i] for i in x) == content[3:67]
    assert torch.equal(y[:-1], x[1:]) and vocab[y[-1]] == content[67]
    n_train = len(content) - round(len(content) * 0.25)
    assert len(splits.train) == n_train - 64 and len(splits.val) == len(content) - n_train - 64
    assert "".join(vocab[i] for i in splits.val[0][0]) == content[n_train:n_train + 64]


def test_text_seq_len_from_input_shape_and_stride(tmp_path):
    (tmp_path / "t.txt").write_text("abcdefghij" * 10)
    splits = load_data({"source": "text", "path": "t.txt", "stride": 4, "val_split": 0.0}, input_shape=(8,),
                       root=tmp_path)
    assert splits.input_shape == (8,) and len(splits.train) == (100 - 9) // 4 + 1
    assert splits.train[1][0].tolist() == [4, 5, 6, 7, 8, 9, 0, 1]
    with pytest.raises(DataError, match=r"t\.txt.*seq_len 5.*\(8,\)"):
        load_data({"source": "text", "path": "t.txt", "seq_len": 5}, input_shape=(8,), root=tmp_path)


def test_text_too_short_or_not_utf8_names_the_file(tmp_path):
    (tmp_path / "short.txt").write_text("tiny")
    with pytest.raises(DataError, match=r"short\.txt: 4 characters"):
        load_data({"source": "text", "path": "short.txt"}, root=tmp_path)
    (tmp_path / "latin.txt").write_bytes("café ".encode("latin-1") * 50)
    with pytest.raises(DataError, match=r"latin\.txt: not UTF-8"):
        load_data({"source": "text", "path": "latin.txt"}, root=tmp_path)
    (tmp_path / "mid.txt").write_text("x" * 100)
    with pytest.raises(DataError, match=r"mid\.txt: the validation part has 20 characters"):
        load_data({"source": "text", "path": "mid.txt", "seq_len": 30}, root=tmp_path)


@pytest.mark.parametrize("source, key", [("csv", "path"), ("npz", "path"), ("text", "path"),
                                         ("image_folder", "path"), ("cifar10", "files")])
def test_missing_files_are_named(tmp_path, source, key):
    with pytest.raises(DataError, match=rf"{tmp_path}.*gone.*not found"):
        load_data({"source": source, key: "gone"}, root=tmp_path)
