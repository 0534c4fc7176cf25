"""DataLoaders for training and evaluation.

The training order is a `DistributedSampler` permutation seeded by the config's
seed and the epoch, in one process too (``num_replicas=1``). So the order of
epoch N is the same whether a run is resumed or not, and N processes together
see, in each step, exactly the samples one process sees in one batch of the
global size (the DDP test relies on it).

In-memory data (a `TensorDataset`, or a `Subset` of one) is read a whole batch
at a time by indexing its tensors, instead of one sample at a time and
stacking: the same batches, several times faster for small samples. Without
worker processes it skips `DataLoader` altogether (`InMemoryBatches`), whose
own bookkeeping costs about as much per batch as the indexing. On CUDA such
data, when it fits comfortably (`device_budget`), moves to the GPU once, so no
batch is copied from the host at all (MNIST takes 190 MB, CIFAR-10 600 MB);
data that does not fit goes out in page-locked (pinned) batches, which the
recipes copy with ``non_blocking=True``, as `DataLoader` does with
``pin_memory``. Worker processes (``training.num_workers``) persist across
epochs. (The CUDA paths are written for a GPU and untested on one here.)
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


class EpochSampler(DistributedSampler):
    """`DistributedSampler` (shuffled, padded) that can also give its order as a tensor."""

    def index_tensor(self) -> torch.Tensor:
        """The indices `__iter__` gives, as one int64 tensor (no Python list)."""
        n = len(self.dataset)
        g = torch.Generator()
        g.manual_seed(self.seed + self.epoch)
        order = torch.randperm(n, generator=g) if self.shuffle else torch.arange(n)
        if self.total_size > n:  # pad by repeating the start, as the parent does
            order = order.repeat(-(-self.total_size // n))[:self.total_size]
        else:
            order = order[:self.total_size]
        return order[self.rank:self.total_size:self.num_replicas]


class InMemoryBatches:
    """Batches of in-memory tensors in a sampler's order, without a `DataLoader`.

    Iterating gives the same batches as a `DataLoader` over the same data,
    sampler, batch size and ``drop_last``.
    """

    def __init__(self, data: TensorBatches, batch_size: int, sampler: Any = None,
                 drop_last: bool = False, pin_memory: bool = False):
        self.data, self.batch_size = data, batch_size
        self.sampler, self.drop_last = sampler, drop_last
        # Batches gathered on the host go out in page-locked memory (there is none without a GPU).
        self.pin_memory = pin_memory and torch.cuda.is_available()

    def __len__(self) -> int:
        n = len(self.sampler) if self.sampler is not None else len(self.data)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.sampler) if self.sampler is not None else len(self.data)
        if isinstance(self.sampler, EpochSampler):
            order = self.sampler.index_tensor()
        elif self.sampler is not None:
            order = torch.as_tensor(list(self.sampler), dtype=torch.long)
        else:
            order = torch.arange(n)
        if self.data.indices is not None:
            order = self.data.indices[order]
        tensors = self.data.tensors
        order = order.to(tensors[0].device)
        # Page-locked batches let `.to(cuda, non_blocking=True)` overlap the copy with compute;
        # torch's caching host allocator reuses the blocks once their copies are done.
        pin = self.pin_memory and tensors[0].device.type == "cpu"
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            rows = order[start:start + self.batch_size]
            yield tuple(t[rows].pin_memory() if pin else t[rows] for t in tensors)

    def keep_on(self, device: torch.device, max_bytes: int) -> bool:
        """Move the data to ``device`` once, if it takes at most ``max_bytes``.

        Batches are then gathered where the model runs: no copy per batch.
        Returns whether it moved.
        """
        size = sum(t.numel() * t.element_size() for t in self.data.tensors)
        if size > max_bytes:
            return False
        indices = self.data.indices
        self.data = TensorBatches([t.to(device) for t in self.data.tensors],
                                  None if indices is None else indices.to(device))
        return True


def device_budget(device: torch.device) -> int:
    """Bytes of in-memory data worth keeping on ``device``: a quarter of its free
    memory, at most 4 GiB; 0 off CUDA (on the CPU there is nothing to gain)."""
    if device.type != "cuda":
        return 0
    free, _ = torch.cuda.mem_get_info(device)
    return min(free // 4, 4 << 30)


def train_loader(dataset: Dataset, batch_size: int, *, seed: int, rank: int = 0,
                 world_size: int = 1, num_workers: int = 0,
                 pin_memory: bool = False) -> tuple[Any, EpochSampler]:
    """The training loader of one process and its sampler (call ``set_epoch``)."""
    sampler = EpochSampler(dataset, num_replicas=world_size, rank=rank,
                           shuffle=True, seed=seed, drop_last=False)
    # A last batch of one sample breaks BatchNorm in training mode: drop that one.
    drop_last = len(sampler) > batch_size and len(sampler) % batch_size == 1
    return _loader(dataset, batch_size, sampler, drop_last, num_workers, pin_memory), sampler


def eval_loader(dataset: Dataset, batch_size: int, *, num_workers: int = 0,
                pin_memory: bool = False) -> Any:
    """A loader over ``dataset`` in order, for evaluation."""
    return _loader(dataset, batch_size, None, False, num_workers, pin_memory)


def _loader(dataset: Dataset, batch_size: int, sampler: Any, drop_last: bool,
            num_workers: int, pin_memory: bool) -> Any:
    fast = fast_view(dataset)
    if fast is not None and num_workers == 0:
        return InMemoryBatches(fast, batch_size, sampler, drop_last, pin_memory)
    return DataLoader(
        fast if fast is not None else dataset,
        batch_size=batch_size, sampler=sampler, shuffle=False, drop_last=drop_last,
        num_workers=num_workers, pin_memory=pin_memory,
        persistent_workers=num_workers > 0,  # workers start once per run, not once per epoch
        collate_fn=keep_batch if fast is not None else None,
    )
