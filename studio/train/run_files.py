"""The files one run writes while it trains: metrics, checkpoints, final weights, how it ended.

`RunFiles` writes into the run's folder (none at all without one, or in a
process other than rank 0): metrics.jsonl at once, each epoch's checkpoint
(and best.pt) on a background thread while the next epoch trains, forced to
the disk no more often than `checkpoint.SyncClock` says, final.pt, and
result.json / test.json at the end. `studio.train.checkpoint` names the files.
"""

from __future__ import annotations

import contextlib
import traceback
from pathlib import Path
from typing import Any

from studio.train import checkpoint as ckpt
from studio.train.events import CheckpointSaved, RunFailed, RunFinished, event_to_dict


class RunFiles:
    """The files of one run in ``out_dir``; ``writes`` False (or no folder): nothing is written.

    Methods that finish a checkpoint return its `CheckpointSaved` (or None)
    for the trainer to send.
    """

    def __init__(self, out_dir: Path | None, writes: bool, keep_checkpoints: int):
        self.out_dir = out_dir
        self.writes = writes and out_dir is not None
        self.keep_checkpoints = keep_checkpoints
        self._writer = ckpt.BackgroundWriter()
        self._sync_clock = ckpt.SyncClock()
        self._unsynced: dict[str, Path] = {}  # written without fsync since the last one with it

    def start(self, history: list[dict[str, Any]]) -> None:
        """Make the folder; metrics.jsonl holds ``history`` (a resumed run's); an earlier end goes."""
        if not self.writes:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        ckpt.rewrite_metrics(self.out_dir / "metrics.jsonl", history)
        for name in ("test.json", "result.json"):  # an earlier run's end, not this one's
            (self.out_dir / name).unlink(missing_ok=True)

    def save_epoch(self, epoch: int, record: dict[str, Any], state: Any, best: Any,
                   best_epoch: int) -> CheckpointSaved | None:
        """Append ``record`` now; write the checkpoint ``state`` (and ``best``) in the background.

        ``state`` and ``best`` are snapshots (`checkpoint.snapshot`). Returns the
        previous epoch's checkpoint, if it was still being written.
        """
        ckpt.append_metrics(self.out_dir / "metrics.jsonl", record)
        return self._writer.submit(lambda: self._write_epoch(epoch, state, best, best_epoch))

    def _write_epoch(self, epoch: int, state: Any, best: Any, best_epoch: int) -> CheckpointSaved:
        """Runs on the writer's thread: touches files only, never the trainer's state."""
        sync = self._sync_clock.due()
        if sync:  # what earlier epochs left in the cache goes to the disk with this one
            self.sync_pending()
        if best is not None:
            ckpt.atomic_save(best, self.out_dir / "best.pt", sync=sync)
        path = ckpt.atomic_save(state, ckpt.epoch_path(self.out_dir, epoch), sync=sync)
        if not sync:
            self._unsynced["checkpoint"] = path
            if best is not None:
                self._unsynced["best"] = self.out_dir / "best.pt"
        ckpt.atomic_link(path, self.out_dir / "last.pt")
        ckpt.prune(self.out_dir, self.keep_checkpoints, upto=epoch, best=best_epoch)
        return CheckpointSaved(path=str(path), epoch=epoch)

    def poll(self) -> CheckpointSaved | None:
        """The checkpoint being written, once it is on disk."""
        return self._writer.poll()

    def wait(self) -> CheckpointSaved | None:
        """Wait for the checkpoint being written (a failed write raises here)."""
        return self._writer.wait()

    def sync_pending(self) -> None:
        """Force the newest checkpoint and best.pt, if written without it, to the disk."""
        ckpt.sync_files(list(self._unsynced.values()))
        self._unsynced.clear()

    def settle(self) -> CheckpointSaved | None:
        """After a failure: let a pending checkpoint land, so the message names what is on disk."""
        try:
            event = self._writer.wait()
        except Exception:  # noqa: BLE001  the failure being reported matters more than this write's
            return None
        with contextlib.suppress(OSError):  # the file is in place; only forcing it to the disk failed
            self.sync_pending()
        return event

    def save_final(self, weights: dict[str, Any]) -> str:
        """Write final.pt (only when this run `writes`); its path."""
        return str(ckpt.atomic_save(weights, self.out_dir / "final.pt"))

    def write_result(self, result: RunFinished | RunFailed) -> None:
        """result.json (and test.json): how the run ended, for whoever reads it later."""
        if not self.writes or not self.out_dir.is_dir():
            return
        try:
            if isinstance(result, RunFinished) and result.test:
                ckpt.write_json(self.out_dir / "test.json", result.test)
            ckpt.write_json(self.out_dir / "result.json", event_to_dict(result))
        except OSError:  # a full disk: the event still reaches the caller
            traceback.print_exc()

    def close(self) -> None:
        """Let a pending write finish and end the writer's thread."""
        self._writer.close()
