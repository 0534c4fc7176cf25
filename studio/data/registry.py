"""`SOURCES`: every data source by name, as data: its kind, a one-line description, its loader.

A loader is ``load(settings, root, input_shape) -> RawData``: ``settings`` is
the project's "data" section, ``root`` the folder relative paths are resolved
against, ``input_shape`` the Input node's shape (or ``None``), which loaders
may use as a default size. Adding a source is adding one row here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, NamedTuple

from studio.data import (
    builtin, cifar, csvfile, generated, grammar, idx, image_folder, npzfile, shapes, textfile, transduction,
)
from studio.data.base import RawData

KINDS = ("built-in", "generated", "file")


class Source(NamedTuple):
    """One entry of `SOURCES`.

    Attributes:
        kind: ``"built-in"`` (bundled real data), ``"generated"`` (made from the
            seed) or ``"file"`` (read from the user's files).
        description: one line for lists in the GUI and the CLI.
        load: ``(settings, root, input_shape) -> RawData``.
    """

    kind: str
    description: str
    load: Callable[[dict, Path, tuple | None], RawData]


SOURCES: dict[str, Source] = {
    "digits": Source("built-in", "1,797 handwritten digits, 8×8 greyscale, 10 classes (scikit-learn)",
                     builtin.load_digits),
    "iris": Source("built-in", "150 iris flowers, 4 measurements, 3 species", builtin.load_iris),
    "wine": Source("built-in", "178 wines, 13 chemical measurements, 3 cultivars", builtin.load_wine),
    "breast_cancer": Source("built-in", "569 tumours, 30 features, benign or malignant",
                            builtin.load_breast_cancer),
    "diabetes": Source("built-in", "442 patients, 10 features, disease progression (regression)",
                       builtin.load_diabetes),
    "xor": Source("generated", "2-D points labelled by the XOR of their signs (n, noise)", generated.load_xor),
    "spirals": Source("generated", "two interleaved 2-D spirals (n, noise, turns)", generated.load_spirals),
    "moons": Source("generated", "two interleaving 2-D half circles (n, noise)", generated.load_moons),
    "circles": Source("generated", "a small circle inside a large one, 2-D (n, noise, factor)",
                      generated.load_circles),
    "blobs": Source("generated", "Gaussian blobs, one per class (n, classes, features, spread)",
                    generated.load_blobs),
    "ring": Source("generated", "a ring of 2-D Gaussians, one per class: GAN mode coverage (n, modes, radius, std)",
                   generated.load_ring),
    "shapes": Source("generated", "greyscale images of circles, squares, triangles... (n, size, kinds, noise)",
                     shapes.load_shapes),
    "sequences": Source("generated", "token sequences: are there more 7s than 3s? (n, length, vocab)",
                        generated.load_sequences),
    "grammar_text": Source("generated", "sentences from a small grammar as characters, for a language model "
                           "(n, seq_len, stride)", grammar.load_grammar_text),
    "labelled_sentences": Source("generated", "grammar sentences labelled by topic, as hashed word and "
                                 "character n-gram ids (n, length, buckets)", grammar.load_labelled_sentences),
    "word_pairs": Source("generated", "word2vec rows from grammar sentences: target, negatives, inputs "
                         "(n, window, negatives, mode)", grammar.load_word_pairs),
    "transduction": Source("generated", "digit strings reversed or sorted, or dates rewritten as yyyy-mm-dd, for seq2seq "
                           "(n, length, min_length, task)", transduction.load_transduction),
    "masked_text": Source("generated", "grammar sentences with masked tokens, for BERT-style training "
                          "(n, length, level, mask_prob)", transduction.load_masked_text),
    "mnist": Source("file", "MNIST-style IDX files, plain or .gz (images, labels, test_images, test_labels)",
                    idx.load_mnist),
    "cifar10": Source("file", "CIFAR-10 binary batches (files, test_files, or path to the folder)",
                      cifar.load_cifar10),
    "image_folder": Source("file", "a folder with one subfolder of images per class (path, size)",
                           image_folder.load_image_folder),
    "csv": Source("file", "a CSV table with a header row (path, target, features, task)", csvfile.load_csv),
    "npz": Source("file", "a NumPy .npz file with x and y arrays (path, x_key, y_key, task)", npzfile.load_npz),
    "text": Source("file", "a UTF-8 text file for a character-level language model (path, seq_len)",
                   textfile.load_text),
}


def describe_sources() -> list[tuple[str, str, str]]:
    """``(name, kind, description)`` for every source, in registry order."""
    return [(name, source.kind, source.description) for name, source in SOURCES.items()]
