"""What runs in the GUI's training child: take a `RunSpec`, train it, send every event up.

The parent (`studio.train.process`) sends the `RunSpec` first, then
``"pause"``, ``"resume"`` and ``"stop"``; the child sends each trainer event
(small dataclasses of plain values) or `NotStarted` when the run could not
be prepared. When the parent goes away the command pipe closes and the
child stops after its batch (or, still waiting for a spec, exits).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any

import torch

from studio import library_logs
from studio.errors import StudioError
from studio.train.events import RunFinished
from studio.train.run_spec import RunSpec, prepare
from studio.train.trainer import Trainer

COMMANDS = ("pause", "resume", "stop")


@dataclass(frozen=True)
class NotStarted:
    """The run never trained: its data or models could not be prepared (the message says why)."""

    message: str


class _Control:
    """Commands that may arrive before the trainer exists (while data loads), applied once it does."""

    def __init__(self):
        self._lock = threading.Lock()
        self._trainer: Trainer | None = None
        self.paused = self.stopped = False

    def apply(self, command: str) -> None:
        with self._lock:
            if command == "stop":
                self.stopped = True
            elif command in ("pause", "resume"):
                self.paused = command == "pause"
            if self._trainer is not None:
                getattr(self._trainer, command)()

    def attach(self, trainer: Trainer) -> bool:
        """Hand over to `trainer`; True when a stop came first."""
        with self._lock:
            self._trainer = trainer
            if self.paused:
                trainer.pause()
            return self.stopped


def child_main(events: Connection, commands: Connection, warm_up: Callable[[], None] | None) -> None:
    """The child's whole life: warm up if made ahead (``warm_up``), take a `RunSpec`, train, report."""
    library_logs.quiet()
    if warm_up is not None and not commands.poll():  # made ahead: nobody waits yet
        warm_up()
    try:
        spec = commands.recv()
    except (EOFError, OSError):  # a standby child whose parent has gone
        return
    if spec.cwd is not None:
        os.chdir(spec.cwd)
    if spec.threads:
        torch.set_num_threads(spec.threads)
    control = _Control()
    threading.Thread(target=_read_commands, args=(commands, control), daemon=True).start()
    sender = _Sender(events, on_gone=lambda: control.apply("stop"))  # the parent went away
    try:
        _run(spec, control, sender.send)
    finally:
        sender.close()


def _run(spec: RunSpec, control: _Control, send: Callable[[Any], None]) -> None:
    try:
        trainer = prepare(spec, send)
    except StudioError as exc:
        send(NotStarted(str(exc)))
        return
    except Exception as exc:  # a bug or a network that does not compile: say so, don't crash
        send(NotStarted(f"could not prepare the run: {type(exc).__name__}: {exc}"))
        return
    if control.attach(trainer):
        send(RunFinished(reason="stopped"))
        return
    trainer.run()  # never raises; its last event is RunFinished or RunFailed


class _Sender:
    """Sends the run's events to the parent, in order, from a thread of its own.

    An epoch's event (its sample images) is larger than the pipe's 64 KiB
    buffer, so writing it waits until the window's receiving thread has read
    it, and that thread reads only when it gets the window's GIL: written from
    the training thread, every epoch waited for the window (a LeNet-5 run
    in the window took 4 % longer). The training thread pickles (the event is
    then fixed); this thread only writes the bytes, and writing releases the GIL.
    """

    def __init__(self, events: Connection, on_gone: Callable[[], None]):
        self._events = events
        self._on_gone = on_gone
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write, name="studio-events", daemon=True)
        self._thread.start()

    def send(self, event: Any) -> None:
        """Queue ``event``; returns at once."""
        self._queue.put(bytes(ForkingPickler.dumps(event)))

    def close(self) -> None:
        """Write everything queued, then close the pipe (the parent then sees the end)."""
        self._queue.put(None)
        self._thread.join()
        self._events.close()

    def _write(self) -> None:
        gone = False
        while (data := self._queue.get()) is not None:
            if gone:
                continue
            try:
                self._events.send_bytes(data)
            except OSError:  # nobody reads any more: stop the run, drop the rest
                gone = True
                self._on_gone()


def _read_commands(commands: Connection, control: _Control) -> None:
    while True:
        try:
            command = commands.recv()
        except (EOFError, OSError):
            control.apply("stop")  # the parent has gone
            return
        if command in COMMANDS:
            control.apply(command)
