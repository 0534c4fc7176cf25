"""The input path: the time the batch loop waits for data, and the loaders' settings for a GPU.

The CUDA side (page-locked batches, non-blocking copies) cannot run on these
CPU-only machines; these tests check what the CPU sees of it.
"""

import time

import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

from studio.data import DataSplits
from studio.train import RunFinished, Trainer
from studio.train.loaders import InMemoryBatches, train_loader

from tests.core.test_train_support import (  # one_thread: an autouse fixture
    one_thread,  # noqa: F401
    blobs, classification_splits, mlp,
)

TRAINING = {"epochs": 1, "batch_size": 8, "lr": 0.05, "optimizer": "sgd", "device": "cpu", "seed": 1}


class SlowBlobs(Dataset):
    """A map-style dataset that reads each sample slowly, like one decoding files from a disk."""

    def __init__(self, n: int = 32, delay: float = 0.004):
        self.x, self.y = blobs(n)
        self.delay = delay

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        time.sleep(self.delay)
        return self.x[i], self.y[i]


def test_the_trainer_counts_the_time_it_waits_for_batches():
    fast = classification_splits(32)
    slow = DataSplits(SlowBlobs(32), fast.val, None, (4,), "classification", 3, None, None, None)
    waits = {}
    for name, data in (("slow", slow), ("fast", fast)):
        trainer = Trainer({"model": mlp()}, data, TRAINING)
        assert isinstance(trainer.run(), RunFinished)
        waits[name] = (trainer.data_wait_s, trainer.history[0]["time_s"])
    slow_wait, slow_time = waits["slow"]
    assert 32 * 0.004 <= slow_wait <= slow_time  # every sample's read, and no more than the epoch took
    assert waits["fast"][0] < slow_wait / 4


def test_in_memory_batches_are_the_same_with_pinning_asked_for_on_the_cpu():
    # On the CPU nothing is pinned (there is no device to copy to); the batches are unchanged.
    data = TensorDataset(*blobs(40))
    plain, _ = train_loader(data, 8, seed=3)
    pinned, _ = train_loader(data, 8, seed=3, pin_memory=True)
    assert isinstance(pinned, InMemoryBatches) and pinned.pin_memory == torch.cuda.is_available()
    for a, b in zip(plain, pinned):
        assert all(torch.equal(s, t) for s, t in zip(a, b))


def test_worker_processes_persist_across_epochs():
    loader, _ = train_loader(SlowBlobs(16, 0.0), 8, seed=0, num_workers=1)
    assert isinstance(loader, DataLoader) and loader.persistent_workers
