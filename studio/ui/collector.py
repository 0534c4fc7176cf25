"""Garbage is collected in the GUI thread only (docs/architecture.md, "Known facts").

Any Python thread that allocates may start a collection: a `BackgroundJob`,
the training controller's event reader, the warm-up thread. A collection
there can free Qt wrappers, and shiboken 6.11 crashes the process when it
finishes their deletion in the GUI thread. pyqtgraph's `GarbageCollector`
is made for this: it turns automatic collection off and collects, when the
counts say a generation is due, on a timer in the GUI thread.
"""

from __future__ import annotations

import gc

from pyqtgraph.util.garbage_collector import GarbageCollector

_collector: GarbageCollector | None = None


def collect_in_gui_thread() -> None:
    """From now on, garbage is collected only by a timer in the GUI thread.

    Call it from the GUI thread, before any worker thread starts.
    """
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=1.0)


def collect_anywhere() -> None:
    """Back to Python's own collection (tests that leave the GUI behind)."""
    global _collector
    if _collector is not None:
        _collector.timer.stop()
        _collector = None
        gc.enable()
