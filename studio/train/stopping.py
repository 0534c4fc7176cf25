"""Watching one epoch metric: the best epoch so far and when to stop early.

`BestTracker` follows the config's ``early_stop_metric`` in ``early_stop_mode``
("auto" = larger is better for accuracy, F1, R², smaller otherwise). It always
knows the best epoch (for `RunFinished.best` and ``best.pt``); it asks to stop
only when ``early_stop_patience`` is above 0 and that many epochs in a row did
not improve. Its state is plain numbers, saved in every checkpoint.
"""

from __future__ import annotations

import math
from typing import Any

from studio.train.metrics import higher_is_better, scalars


class BestTracker:
    """The best value of one metric and the epochs since it improved."""

    def __init__(self, metric: str, mode: str = "auto", patience: int = 0):
        self.metric = metric
        self.maximize = higher_is_better(metric) if mode == "auto" else mode == "max"
        self.patience = patience
        self.best_value: float | None = None
        self.best_epoch = 0
        self.best_metrics: dict[str, Any] = {}
        self.bad_epochs = 0

    @property
    def mode(self) -> str:
        """"max" or "min", with "auto" resolved."""
        return "max" if self.maximize else "min"

    def update(self, epoch: int, metrics: dict[str, Any]) -> bool:
        """Take an epoch's metrics; True when it is the best so far.

        An epoch without the metric (no validation data) counts as the best,
        so the latest weights are kept; a NaN never improves.
        """
        value = metrics.get(self.metric)
        improved = value is None or self._better(float(value))
        if improved:
            self.best_value = None if value is None else float(value)
            self.best_epoch = epoch
            self.best_metrics = scalars(metrics)
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        return improved

    @property
    def should_stop(self) -> bool:
        """Whether patience ran out."""
        return self.patience > 0 and self.bad_epochs >= self.patience

    def _better(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.best_value is None:
            return True
        return value > self.best_value if self.maximize else value < self.best_value

    def state_dict(self) -> dict[str, Any]:
        return {"best_value": self.best_value, "best_epoch": self.best_epoch,
                "best_metrics": dict(self.best_metrics), "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_value = state["best_value"]
        self.best_epoch = state["best_epoch"]
        self.best_metrics = dict(state["best_metrics"])
        self.bad_epochs = state["bad_epochs"]
