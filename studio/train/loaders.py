"""DataLoaders for training and evaluation.

The training order is a `DistributedSampler` permutation seeded by the config's
seed and the epoch, in one process too (``num_replicas=1``). So the order of
epoch N is the same whether a run is resumed or not, and N processes together
see, in each step, exactly the samples one process sees in one batch of the
global size (the DDP test relies on it).

In-memory data (a `TensorDataset`, or a `Subset` of one) is read a whole batch
at a time by indexing its tensors, instead of one sample at a time and
stacking: the same values, several times faster for small samples.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Subset, TensorDataset


class TensorBatches(Dataset):
    """Rows of some tensors, fetched a batch at a time by `DataLoader`."""

    def __init__(self, tensors: Sequence[torch.Tensor], indices: torch.Tensor | None = None):
        self.tensors = tuple(tensors)
        self.indices = indices

    def __len__(self) -> int:
        return len(self.indices) if self.indices is not None else len(self.tensors[0])

    def __getitem__(self, i: int) -> tuple[torch.Tensor, ...]:
        return self.__getitems__([i])

    def __getitems__(self, rows: list[int]) -> tuple[torch.Tensor, ...]:
        index = torch.as_tensor(rows, dtype=torch.long)
        if self.indices is not None:
            index = self.indices[index]
        return tuple(t[index] for t in self.tensors)


def keep_batch(batch: Any) -> Any:
    """The collate function for `TensorBatches`: the batch is already stacked."""
    return batch


def fast_view(dataset: Dataset) -> TensorBatches | None:
    """A `TensorBatches` over the same rows, when the data is plain tensors in memory."""
    indices = None
    while isinstance(dataset, Subset):
        step = torch.as_tensor(list(dataset.indices), dtype=torch.long)
        indices = step if indices is None else step[indices]
        dataset = dataset.dataset
    if type(dataset) is not TensorDataset:
        return None
    return TensorBatches(dataset.tensors, indices)


def train_loader(dataset: Dataset, batch_size: int, *, seed: int, rank: int = 0,
                 world_size: int = 1, num_workers: int = 0,
                 pin_memory: bool = False) -> tuple[DataLoader, DistributedSampler]:
    """The training loader of one process and its sampler (call ``set_epoch``)."""
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank,
                                 shuffle=True, seed=seed, drop_last=False)
    # A last batch of one sample breaks BatchNorm in training mode: drop that one.
    drop_last = len(sampler) > batch_size and len(sampler) % batch_size == 1
    return _loader(dataset, batch_size, sampler, drop_last, num_workers, pin_memory), sampler


def eval_loader(dataset: Dataset, batch_size: int, *, num_workers: int = 0,
                pin_memory: bool = False) -> DataLoader:
    """A loader over ``dataset`` in order, for evaluation."""
    return _loader(dataset, batch_size, None, False, num_workers, pin_memory)


def _loader(dataset: Dataset, batch_size: int, sampler: Any, drop_last: bool,
            num_workers: int, pin_memory: bool) -> DataLoader:
    fast = fast_view(dataset)
    return DataLoader(
        fast if fast is not None else dataset,
        batch_size=batch_size, sampler=sampler, shuffle=False, drop_last=drop_last,
        num_workers=num_workers, pin_memory=pin_memory,
        collate_fn=keep_batch if fast is not None else None,
    )
