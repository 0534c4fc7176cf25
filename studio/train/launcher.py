"""`Launcher`: starts the GUI's training child processes, the next one ready ahead of its run.

On Linux a child is forked from multiprocessing's fork server, elsewhere
spawned (`Launcher.context`). How a child gets warm is a strategy the
launcher is given, a `WarmUp`: the modules the fork server imports once
(each child forked from it inherits them) and what a child made ahead runs
while it waits for its run. `REHEARSAL`, the GUI's, trains LeNet-5 a few
batches in both (`studio.train.rehearsal`), so pressing Train costs neither
the fork nor the child's start-up: a LeNet-5 run then reaches its first
batch as soon as one in the window's own process would. `COLD` warms
nothing. The launcher keeps at most one child made ahead (`get_ready`), for
the next `child` call to take; nothing of it is global but the fork server.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
from collections.abc import Callable
from dataclasses import dataclass

from studio.train.child import child_main
from studio.train.rehearsal import rehearse_in_child


@dataclass(frozen=True)
class WarmUp:
    """How a training child gets warm before its run.

    Attributes:
        server_modules: modules the fork server imports once, before it forks
            any child (this takes effect only if the server has not started yet).
        in_child: what a child made ahead runs while it waits for its run; it
            must pickle (a module-level function, say), as it is sent to the child.
    """

    server_modules: tuple[str, ...] = ()
    in_child: Callable[[], None] | None = None


REHEARSAL = WarmUp(("studio.train.preload",), rehearse_in_child)
COLD = WarmUp()


class Child:
    """A child process and the parent's ends of its two pipes (events up, commands down)."""

    def __init__(self, ctx: mp.context.BaseContext, warm_up: WarmUp):
        self.events, child_events = ctx.Pipe(duplex=False)
        child_commands, self.commands = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=child_main, args=(child_events, child_commands, warm_up.in_child),
                                   name="studio-training", daemon=True)
        self._child_ends = (child_events, child_commands)
        self.started = False

    def start(self) -> None:
        """Start the process (blocks while a fresh fork server still imports its modules)."""
        self.process.start()
        for end in self._child_ends:  # the child holds them now; closing ours lets EOF show when it exits
            end.close()
        self.started = True


class Launcher:
    """Makes training children (`studio.train.child`), each warmed as ``warm_up`` says; one made ahead on request."""

    def __init__(self, warm_up: WarmUp = REHEARSAL):
        self.warm_up = warm_up
        self._ready: Child | None = None  # started, waiting for a spec; taken by the next `child`
        self._lock = threading.Lock()

    def context(self) -> mp.context.BaseContext:
        """The fork server where the platform has one (fast starts, torch imported once), else spawn."""
        if "forkserver" in mp.get_all_start_methods():
            ctx = mp.get_context("forkserver")
            ctx.set_forkserver_preload(list(self.warm_up.server_modules))
            return ctx
        return mp.get_context("spawn")

    def fresh(self) -> Child:
        """A child not started yet."""
        return Child(self.context(), self.warm_up)

    def get_ready(self) -> threading.Thread:
        """Make the next run's child in the background (and the fork server with it).

        Returns at once, with the thread that makes it (join it to wait until it is ready).
        """
        thread = threading.Thread(target=self._make_ready, name="studio-training-standby", daemon=True)
        thread.start()
        return thread

    def _make_ready(self) -> None:
        with self._lock:
            if self._ready is not None and self._ready.process.is_alive():
                return
            child = self.fresh()
            try:
                child.start()
            except OSError:  # no process to spare now: the run will start its own
                return
            self._ready = child

    @property
    def ready(self) -> bool:
        """Whether a child made ahead is waiting for its run."""
        child = self._ready
        return child is not None and child.process.is_alive()

    def child(self) -> Child:
        """The child made ahead if it is ready and alive, else a fresh one (not started)."""
        if not self._lock.acquire(blocking=False):  # still being made: not worth waiting for
            return self.fresh()
        try:
            child, self._ready = self._ready, None
        finally:
            self._lock.release()
        return child if child is not None and child.process.is_alive() else self.fresh()
