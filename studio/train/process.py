"""A `Trainer` in a child process, driven over two pipes: how the GUI trains.

A training thread inside the GUI's process shares the GIL with the window:
every repaint and queued signal there holds up the loop's Python between torch
kernels (LeNet-5 on the digits trained 25 % slower than a plain loop that way).
In a child process the two never wait for each other, and a crash inside
training (a segfault in a kernel, the kernel's OOM killer) ends the run, not
the app and the user's unsaved project.

On Linux the child is forked from multiprocessing's fork server, which imports
torch and the trainer and trains a few batches once (`studio.train.preload`),
so a run starts warm, not after the seconds a fresh interpreter takes;
elsewhere the child is spawned. `warm_up` also starts the next run's child
ahead of time, in the background; it trains a few batches itself (see
`_warm_up_here`) and waits for its `RunSpec`, so pressing Train costs neither
the fork nor the child's start-up: a LeNet-5 run then reaches its first batch
as soon as one in the window's own process would.

The parent sends the `RunSpec` first, then ``"pause"``, ``"resume"`` and
``"stop"``; the child sends each trainer event (small dataclasses of plain
values) or `NotStarted` when the run could not be prepared. The project
crosses as its JSON dict. When the parent goes away the command pipe closes
and the child stops after its batch (or, still waiting for a spec, exits).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any

import torch

from studio.errors import StudioError
from studio.train.events import RunFailed, RunFinished
from studio.train.run_spec import RunSpec, prepare
from studio.train.trainer import Trainer

COMMANDS = ("pause", "resume", "stop")
# Bytes a pipe takes with nobody reading, on every platform (Windows: 8 KiB; Linux: 64 KiB).
PIPE_ROOM = 8 * 1024


@dataclass(frozen=True)
class NotStarted:
    """The run never trained: its data or models could not be prepared (the message says why)."""

    message: str


def context() -> mp.context.BaseContext:
    """The fork server where the platform has one (fast starts, torch imported once), else spawn."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["studio.train.preload"])  # only takes effect before the server starts
        return ctx
    return mp.get_context("spawn")


def warm_up() -> threading.Thread:
    """Get the next run's child ready in the background (and the fork server with it).

    Returns at once, with the thread that makes it (join it to wait until it is ready).
    """
    thread = threading.Thread(target=_make_standby, name="studio-training-standby", daemon=True)
    thread.start()
    return thread


class _Child:
    """A child process and the parent's ends of its two pipes."""

    def __init__(self):
        ctx = context()
        self.events, child_events = ctx.Pipe(duplex=False)
        child_commands, self.commands = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_child_main, args=(child_events, child_commands),
                                   name="studio-training", daemon=True)
        self._child_ends = (child_events, child_commands)
        self.started = False

    def start(self) -> None:
        """Start the process (blocks while a fresh fork server still imports torch)."""
        self.process.start()
        for end in self._child_ends:  # the child holds them now; closing ours lets EOF show when it exits
            end.close()
        self.started = True


_standby: _Child | None = None  # started, waiting for a spec; taken by the next `TrainingProcess`
_standby_lock = threading.Lock()


def _make_standby() -> None:
    global _standby
    with _standby_lock:
        if _standby is not None and _standby.process.is_alive():
            return
        child = _Child()
        try:
            child.start()
        except OSError:  # no process to spare now: the run will start its own
            return
        _standby = child


def _take_standby() -> _Child | None:
    global _standby
    if not _standby_lock.acquire(blocking=False):  # still being made: not worth waiting for
        return None
    try:
        child, _standby = _standby, None
    finally:
        _standby_lock.release()
    return child if child is not None and child.process.is_alive() else None


class TrainingProcess:
    """One run in a child process: `start`, then `next_event` until it returns None.

    `pause`, `resume` and `stop` may be called from any thread, before or after `start`.
    """

    def __init__(self, spec: RunSpec):
        self._spec = bytes(ForkingPickler.dumps(spec))  # pickled once: `start_now` weighs it, either sends it
        self._child = _take_standby() or _Child()
        self._lock = threading.Lock()
        self._started = self._killed = False
        self._early: list[str] = []  # commands given before `start`, sent after the spec

    def start(self) -> None:
        """Start the run (blocks while a fresh fork server still imports torch); once only.

        Raises:
            OSError: no child process could be started, or it died before taking the spec.
        """
        if self._started:  # by `start_now`
            return
        if not self._child.started:
            self._child.start()
        self._hand_over()

    def start_now(self) -> bool:
        """`start` if that cannot keep the caller waiting; whether it did.

        It sends the spec only to a child made ahead and only if the spec fits
        in the pipe's buffer, so the write never waits for a child still
        warming up; otherwise it leaves everything to `start`. The GUI thread
        calls this, so the child prepares while the window sets up the run.
        """
        if not self._child.started or not self._child.process.is_alive() or len(self._spec) > PIPE_ROOM:
            return False
        try:
            self._hand_over()
        except OSError:  # died meanwhile: `start` makes another child and says why if that fails
            self._child = _Child()
            return False
        return True

    def _hand_over(self) -> None:
        self._child.commands.send_bytes(self._spec)
        with self._lock:
            self._started = True
            for command in self._early:
                self._child.commands.send(command)
            if self._killed:  # asked while the child was starting
                self._child.process.kill()

    @property
    def pid(self) -> int | None:
        """The child's process id (None before `start` when it was not made ahead)."""
        return self._child.process.pid

    def next_event(self) -> Any | None:
        """The child's next event, waiting for it; None once the child has closed its end."""
        try:
            return self._child.events.recv()
        except (EOFError, OSError):
            return None

    def pause(self) -> None:
        self._send("pause")

    def resume(self) -> None:
        self._send("resume")

    def stop(self) -> None:
        self._send("stop")

    def join(self, timeout: float | None = None) -> int | None:
        """Wait for the child to exit; its exit code, or None if it still runs."""
        self._child.process.join(timeout)
        return self._child.process.exitcode

    def end(self, timeout: float) -> int:
        """Wait for the child to exit, killing it if it still runs after ``timeout`` s; its exit code."""
        code = self.join(timeout)
        if code is None:  # hangs on exit (a stuck driver, say)
            self.kill()
            code = self.join()
        return code

    def kill(self) -> None:
        """End the child at once (a run that does not answer `stop`), now or as soon as it has started."""
        with self._lock:
            self._killed = True
            if self._started and self._child.process.exitcode is None:
                self._child.process.kill()

    def close(self) -> None:
        """Release the pipes and the process handle (after `join`)."""
        self._child.events.close()
        self._child.commands.close()
        if self._child.process.exitcode is not None:
            self._child.process.close()

    def close_when_ended(self, timeout: float = 10) -> None:
        """`close` once the child has exited (`end`), waiting in the background.

        For a child whose run has sent its last event: tearing down a
        process with torch loaded takes ~10 ms, which nobody needs to wait for.
        """
        def reap() -> None:
            self.end(timeout)
            self.close()

        threading.Thread(target=reap, name="studio-training-reaper", daemon=True).start()

    def _send(self, command: str) -> None:
        with self._lock:
            if not self._started:
                self._early.append(command)
                return
            try:
                self._child.commands.send(command)
            except OSError:  # the child has already ended
                pass


def crashed(exitcode: int | None, out_dir: str | Path) -> RunFailed:
    """The event for a child that ended without saying how its run ended."""
    killed = exitcode is not None and exitcode < 0
    how = f"was killed by signal {-exitcode}" if killed else f"exited with code {exitcode}"
    return RunFailed(message=f"the training process {how} before the run ended (out of memory?); "
                             f"checkpoints saved so far are in {out_dir}", kind="crashed")


# --- in the child --------------------------------------------------------------------
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


def _child_main(events: Connection, commands: Connection) -> None:
    if not commands.poll():  # made ahead: nobody waits yet
        _warm_up_here()
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


def _warm_up_here() -> None:
    """Train a few batches in this child before its run, as the fork server did before it.

    A forked child shares the server's memory until it writes to it, and a
    run writes to much of it (reference counts, the allocator's pages): the
    copies (~8,000 pages) cost a LeNet-5 run ~40 ms before its first batch.
    Made here, while the child waits, they cost a run nothing.
    """
    import sys

    preload = sys.modules.get("studio.train.preload")
    if preload is not None:  # forked from the server, which ran it for its own pages
        preload.warm_up_run()
    else:  # spawned: importing it is the warm-up
        import studio.train.preload  # noqa: F401


def _read_commands(commands: Connection, control: _Control) -> None:
    while True:
        try:
            command = commands.recv()
        except (EOFError, OSError):
            control.apply("stop")  # the parent has gone
            return
        if command in COMMANDS:
            control.apply(command)
