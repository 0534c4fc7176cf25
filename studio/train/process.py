"""A `Trainer` in a child process, driven over two pipes: how the GUI trains.

A training thread inside the GUI's process shares the GIL with the window:
every repaint and queued signal there holds up the loop's Python between torch
kernels (LeNet-5 on the digits trained 25 % slower than a plain loop that way).
In a child process the two never wait for each other, and a crash inside
training (a segfault in a kernel, the kernel's OOM killer) ends the run, not
the app and the user's unsaved project.

The child comes from a `Launcher` (`studio.train.launcher`): forked from a
warm fork server, and made ahead of its run when the launcher was asked to
`get_ready` (the GUI's controller does, once it has a project). What runs in
the child is `studio.train.child`. The project crosses as its JSON dict.
"""

from __future__ import annotations

import threading
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any

from studio.train.child import NotStarted
from studio.train.events import RunFailed
from studio.train.launcher import Launcher
from studio.train.run_spec import RunSpec

__all__ = ["PIPE_ROOM", "NotStarted", "RunSpec", "TrainingProcess", "crashed"]

# Bytes a pipe takes with nobody reading, on every platform (Windows: 8 KiB; Linux: 64 KiB).
PIPE_ROOM = 8 * 1024


class TrainingProcess:
    """One run in a child process: `start`, then `next_event` until it returns None.

    `pause`, `resume` and `stop` may be called from any thread, before or after `start`.

    Args:
        spec: the run.
        launcher: where its child comes from (the one it made ahead, if ready);
            None: a launcher of its own, so a child started for this run.
    """

    def __init__(self, spec: RunSpec, launcher: Launcher | None = None):
        self._spec = bytes(ForkingPickler.dumps(spec))  # pickled once: `start_now` weighs it, either sends it
        self._launcher = launcher if launcher is not None else Launcher()
        self._child = self._launcher.child()
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
            self._child = self._launcher.fresh()
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
