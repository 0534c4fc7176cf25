"""Warming up shape analysis: torch loads its meta kernels and flop counter on first use.

That first use costs about half a second (mostly imports); the GUI calls `start()`
at launch so that it is paid while the start page shows, not when the user
opens a project.
"""

from __future__ import annotations

import threading

_started = threading.Event()


def warm_up_analysis() -> None:
    """Analyses a tiny network once, loading everything analysis needs."""
    from studio import catalog
    from studio.graph.analysis import Analyzer
    from studio.graph.project import Project

    project = Project("warm-up")
    net = project.add_network()
    prev = net.add_node(catalog.INPUT, params={"shape": [3, 8, 8]})
    for type_ in ("Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Flatten", "Linear", catalog.OUTPUT):
        node = net.add_node(type_)
        net.connect(prev, "out", node, "in")
        prev = node
    Analyzer(project).analyse()


def start() -> threading.Thread | None:
    """Runs `warm_up_analysis` once in a daemon thread; None when it has already started."""
    if _started.is_set():
        return None
    _started.set()
    thread = threading.Thread(target=warm_up_analysis, name="studio-warm-up", daemon=True)
    thread.start()
    return thread
