"""Deterministic train / validation / test index splits, stratified for classification.

Sizes are ``round(N × fraction)`` (at least 1 when the fraction is above 0), the
rest is training. With class labels each class is shared out in proportion
(largest-remainder rounding, so the totals stay exact), which always works,
even where scikit-learn's ``train_test_split(stratify=...)`` refuses (a class
with one sample, fewer test samples than classes). The same ``seed`` gives the
same split on every machine: numpy's PCG64 generator is platform-independent.
Each returned index array is sorted, so samples keep their file order.
"""

from __future__ import annotations

import numpy as np

from studio.errors import DataError


def split_sizes(n: int, val_split: float, test_split: float, where: str) -> tuple[int, int]:
    """Validation and test counts for ``n`` samples; refuses to leave no training sample."""
    n_val, n_test = (max(1, round(n * f)) if f > 0 else 0 for f in (val_split, test_split))
    if n - n_val - n_test < 1:
        raise DataError(f"{where}: {n} samples are too few for val_split {val_split} and test_split "
                        f"{test_split}; lower the splits or use more data")
    return n_val, n_test


def split_indices(n: int, n_val: int, n_test: int, seed: int,
                  labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of the train, validation and test samples.

    Args:
        n: number of samples.
        n_val, n_test: how many go to validation and test.
        seed: the random seed.
        labels: class per sample; when given the split is stratified.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    if labels is None:
        test, val, train = np.split(order, [n_test, n_test + n_val])
        return np.sort(train), np.sort(val), np.sort(test)
    # Group the shuffled indices by class (a stable sort keeps the shuffle within
    # each class), then take each class's share of test and validation in turn.
    order = order[np.argsort(labels[order], kind="stable")]
    counts = np.bincount(labels)
    test_share = _shares(counts, n_test, rng)
    val_share = _shares(counts - test_share, n_val, rng)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pick = np.zeros(n, dtype=np.int8)  # 0 train, 1 val, 2 test, by position in `order`
    for start, t, v in zip(starts, test_share, val_share):
        pick[start:start + t] = 2
        pick[start + t:start + t + v] = 1
    return tuple(np.sort(order[pick == k]) for k in (0, 1, 2))


def _shares(counts: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Split ``total`` across classes in proportion to ``counts``, summing exactly to ``total``."""
    available = counts.sum()
    if total == 0 or available == 0:
        return np.zeros_like(counts)
    # Integer arithmetic keeps the rounding exact: share = floor(count × total / available).
    shares, remainder = np.divmod(counts.astype(np.int64) * total, available)
    # Largest remainders first; random jitter breaks ties without favouring low class ids.
    ranked = np.lexsort((rng.random(len(counts)), -remainder))
    shares[ranked[:total - shares.sum()]] += 1
    return shares
