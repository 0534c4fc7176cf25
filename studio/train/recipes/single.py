"""What every recipe with one optimizer and one schedule shares (supervised, language model, skip-gram, RBM).

A recipe that sets `self.optimizer` and `self.schedule` in `setup` takes the
schedule's stepping, the learning rate, the batch size and its checkpoint
state from `SingleOptimizer`.
"""

from __future__ import annotations

from typing import Any


class SingleOptimizer:
    """Recipe parts for one `optimizer` and one `schedule` (set by the recipe's `setup`)."""

    optimizer: Any
    schedule: Any

    def end_epoch(self, epoch: int, watched: float | None) -> None:
        self.schedule.after_epoch(epoch, watched)

    @property
    def lr(self) -> float:
        return self.schedule.lr

    def batch_size(self, batch: Any) -> int:
        return len(batch[0])

    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict(), "schedule": self.schedule.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
