"""Tiny data and networks the training tests share (no tests here).

The builders at the bottom are named in worker specs
(``tests.core.test_train_support:mlp_models``), so they take JSON arguments only.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from studio.data import DataSplits


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: more threads only contend, and on a busy machine they crawl."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def blobs(n: int = 96, features: int = 4, classes: int = 3, seed: int = 0,
          spread: float = 0.3) -> tuple[torch.Tensor, torch.Tensor]:
    """Well-separated Gaussian blobs: a problem any small net learns."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, features, generator=g) * 3
    y = torch.arange(n) % classes
    x = centres[y] + spread * torch.randn(n, features, generator=g)
    return x.float(), y.long()


def classification_splits(n: int = 96, features: int = 4, classes: int = 3,
                          test: bool = False) -> DataSplits:
    x, y = blobs(n + n // 2 + (n // 2 if test else 0), features, classes)
    train = TensorDataset(x[:n], y[:n])
    val = TensorDataset(x[n:n + n // 2], y[n:n + n // 2])
    test_ds = TensorDataset(x[n + n // 2:], y[n + n // 2:]) if test else None
    return DataSplits(train, val, test_ds, (features,), "classification", classes,
                      [f"c{i}" for i in range(classes)], None, None)


def image_splits(n: int = 48, classes: int = 2) -> DataSplits:
    """1x6x6 images whose class is which half is bright."""
    g = torch.Generator().manual_seed(1)
    y = torch.arange(n) % classes
    x = torch.rand(n, 1, 6, 6, generator=g) * 0.2
    x[y == 0, :, :3, :] += 1.0
    x[y == 1, :, 3:, :] += 1.0
    half = n // 2
    return DataSplits(TensorDataset(x[:half], y[:half]), TensorDataset(x[half:], y[half:]),
                      None, (1, 6, 6), "classification", classes, ["top", "bottom"],
                      [0.5], [0.25])


def regression_splits(n: int = 96) -> DataSplits:
    g = torch.Generator().manual_seed(2)
    x = torch.randn(n + n // 2, 3, generator=g)
    y = (x @ torch.tensor([1.5, -2.0, 0.5]) + 0.3).unsqueeze(1)
    return DataSplits(TensorDataset(x[:n], y[:n]), TensorDataset(x[n:], y[n:]), None, (3,),
                      "regression", None, None, None, None)


def mlp(features: int = 4, classes: int = 3, hidden: int = 16, seed: int = 0,
        dropout: float = 0.0) -> nn.Module:
    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Linear(features, hidden), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(hidden, classes))


def small_cnn(classes: int = 2, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, classes))


def params_of(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_same_params(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor],
                       atol: float = 0.0) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if atol == 0.0:
            assert torch.equal(a[key], b[key]), f"{key} differs"
        else:
            torch.testing.assert_close(a[key], b[key], atol=atol, rtol=0, msg=f"{key} differs")


class Recorder:
    """A callback that keeps every event."""

    def __init__(self) -> None:
        self.events: list = []

    def __call__(self, event) -> None:
        self.events.append(event)

    def of(self, cls) -> list:
        return [e for e in self.events if isinstance(e, cls)]

    def names(self) -> list[str]:
        return [type(e).__name__ for e in self.events]


# --- builders for worker specs (JSON arguments only) ------------------------------------

def mlp_models(features: int = 4, classes: int = 3, save_dir: str | None = None) -> dict:
    """{"model": mlp}; with ``save_dir``, each rank saves its final parameters at exit."""
    model = mlp(features, classes)
    if save_dir is not None:
        import atexit
        import os

        rank = os.environ.get("RANK", "0")
        atexit.register(lambda: torch.save(model.state_dict(), f"{save_dir}/rank{rank}.pt"))
    return {"model": model}


def blob_data(n: int = 96) -> DataSplits:
    return classification_splits(n)


def flat_mlp_models(features: int = 64, classes: int = 10) -> dict:
    """{"model": Flatten + mlp} for image data such as the bundled digits."""
    return {"model": nn.Sequential(nn.Flatten(), mlp(features, classes, hidden=32))}


class _NaNOnRank(nn.Module):
    def __init__(self, model: nn.Module, at: int):
        super().__init__()
        self.model, self.at, self.calls = model, at, 0

    def forward(self, x):
        out = self.model(x)
        if self.training:
            self.calls += 1
            if self.calls == self.at:
                return out * float("nan")
        return out


def nan_on_rank1_models(at: int = 3) -> dict:
    """An MLP whose output turns NaN at training call ``at``, in rank 1 only."""
    import os

    model = mlp()
    return {"model": _NaNOnRank(model, at) if os.environ.get("RANK") == "1" else
            _NaNOnRank(model, 0)}
