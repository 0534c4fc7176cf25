"""The events a training run sends to its callback, in the order they come.

Each event is a small frozen dataclass of plain values (numbers, strings,
lists, dicts), named in the past tense and sent after the state it describes is
consistent (a `CheckpointSaved` only once the file is in place). A run sends:

    RunStarted
    (BatchEnded* EpochEnded CheckpointSaved)*     one group per epoch
    RunFinished | RunFailed                       exactly one, always last

`BatchEnded` is throttled to about 20 a second; the last batch of every epoch is
always sent. Epoch-level events are never dropped. With
``training.histogram_every`` above 0, a `LayersMeasured` comes among the
batch events every that many steps (`studio.train.layer_stats`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class RunStarted:
    """A run is about to train its first batch.

    Attributes:
        config: the `TrainConfig` as a dict.
        device: where it runs, e.g. ``"cuda:0"`` or ``"cpu"``.
        total_epochs: the epoch the run ends at (``config["epochs"]``).
        batches_per_epoch: training batches per epoch in this process.
        start_epoch: the first epoch trained now (above 1 when resumed).
        world_size: processes training together (1 without torch.distributed).
        mixed_precision: whether bf16 autocast is on.
        channels_last: whether models and inputs use the channels-last layout.
        class_names: the data's class names (classification), else None.
    """

    config: dict[str, Any]
    device: str
    total_epochs: int
    batches_per_epoch: int
    start_epoch: int = 1
    world_size: int = 1
    mixed_precision: bool = False
    channels_last: bool = False
    class_names: list[str] | None = None


@dataclass(frozen=True)
class BatchEnded:
    """Progress inside an epoch (throttled; the epoch's last batch always comes).

    Attributes:
        epoch: 1-based epoch.
        batch: 1-based batch within the epoch.
        batches: batches in the epoch.
        loss: mean training loss over the batches since the previous event.
        samples_per_s: training samples a second over the epoch so far, all processes.
        lr: the learning rate of the first parameter group now.
        eta_s: seconds left for the whole run, estimated from the pace so far.
    """

    epoch: int
    batch: int
    batches: int
    loss: float
    samples_per_s: float
    lr: float
    eta_s: float


@dataclass(frozen=True)
class LayersMeasured:
    """Per-layer histograms and gradient norms of one training step (`studio.train.layer_stats`).

    Attributes:
        epoch: 1-based epoch.
        batch: 1-based batch within the epoch.
        step: 1-based step of the run (the x axis of its plots).
        layers: one dict per leaf module: ``name`` (its path in the compiled
            module, ``role.path`` with several networks), ``role``, ``path``
            (its path in its role's module), and where
            present ``weights``, ``grads``, ``activations`` (histograms:
            ``min``, ``max``, ``num``, ``sum``, ``sum_squares``, ``counts``,
            ``non_finite``), ``grad_norm`` and ``grad_state`` (``"ok"``,
            ``"vanishing"``, ``"exploding"``).
        grad_norm: the norm of all gradients together (None: no gradients).
        grad_state: its state, as a layer's.
        memory: on CUDA, ``allocated`` and ``peak`` bytes; else empty.
    """

    epoch: int
    batch: int
    step: int
    layers: list[dict[str, Any]]
    grad_norm: float | None = None
    grad_state: str = "ok"
    memory: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class EpochEnded:
    """An epoch finished and was evaluated.

    Attributes:
        epoch: 1-based epoch.
        metrics: ``epoch``, ``train_loss``, ``val_loss``, ``lr``, ``samples_per_s``,
            ``time_s`` and the recipe's metrics; for classification also
            ``val_accuracy``, ``val_macro_f1``, ``val_confusion`` (list of lists,
            rows are true classes), ``val_precision``/``val_recall``/``val_f1``
            (one value per class), ``class_names`` and, for image inputs,
            ``samples`` (a list of ``{"image", "pred", "true"}``); for regression
            ``val_mae``, ``val_rmse``, ``val_r2``.
    """

    epoch: int
    metrics: dict[str, Any]


@dataclass(frozen=True)
class CheckpointSaved:
    """A checkpoint file is complete on disk.

    Attributes:
        path: the epoch's checkpoint (``last.pt`` beside it holds the same).
        epoch: the epoch it ends.
    """

    path: str
    epoch: int


@dataclass(frozen=True)
class RunWarning:
    """Something the run worked around and the user should know (a model torch.compile could not compile).

    Attributes:
        message: what happened, where, and what the run does instead.
    """

    message: str


@dataclass(frozen=True)
class RunFinished:
    """The run ended normally; always the last event of such a run.

    Attributes:
        reason: ``"completed"``, ``"stopped"`` (asked to stop) or ``"early_stopped"``.
        best: the scalar metrics of the best epoch (by the early-stopping metric);
            empty when no epoch finished.
        best_epoch: that epoch, or 0.
        epochs_run: the last finished epoch.
        final_weights: path of ``final.pt``, or None without an output folder.
        test: scalar metrics on the test split, when the data has one.
    """

    reason: str
    best: dict[str, Any] = field(default_factory=dict)
    best_epoch: int = 0
    epochs_run: int = 0
    final_weights: str | None = None
    test: dict[str, Any] | None = None


@dataclass(frozen=True)
class RunFailed:
    """The run could not go on; always the last event of such a run.

    Attributes:
        message: what happened, where (epoch and batch) and what to do.
        epoch: 1-based epoch it failed in (0 before training started).
        batch: 1-based batch it failed at (0 outside the batch loop).
        last_checkpoint: the last good checkpoint, or None.
        detail: the Python traceback for unexpected errors, else empty.
        kind: ``"non_finite"`` (NaN or infinite loss), ``"out_of_memory"``,
            ``"studio"`` (a `StudioError`, e.g. bad data) or ``"error"`` (anything else).
    """

    message: str
    epoch: int = 0
    batch: int = 0
    last_checkpoint: str | None = None
    detail: str = ""
    kind: str = "error"


Event = RunStarted | BatchEnded | LayersMeasured | EpochEnded | CheckpointSaved | RunFinished | RunFailed | RunWarning


# name -> class, for events that travel as JSON (from worker processes, to logs).
EVENT_TYPES: dict[str, type] = {cls.__name__: cls for cls in (
    RunStarted, BatchEnded, LayersMeasured, EpochEnded, CheckpointSaved, RunFinished, RunFailed, RunWarning)}


def event_to_dict(event: Event) -> dict[str, Any]:
    """``event`` as a JSON-ready dict with its class name under ``"event"``."""
    return {"event": type(event).__name__, **asdict(event)}


def event_from_dict(d: dict[str, Any]) -> Event:
    """The event `event_to_dict` made ``d`` from."""
    fields = dict(d)
    return EVENT_TYPES[fields.pop("event")](**fields)
