"""The rehearsal: a warm-up that trains LeNet-5 a few batches so that the real run starts warm.

The first run in a fresh interpreter spends about two seconds importing
scikit-learn, sympy (torch's symbolic shapes) and the recipes; a process
that has rehearsed has paid that already. The fork server rehearses once
(`studio.train.preload`), so each child forked from it inherits the imports;
a child made ahead of its run rehearses again while it waits
(`rehearse_in_child`), so the memory pages a run writes are its own before
the run needs them. `REHEARSAL` in `studio.train.launcher` names both.
"""

from __future__ import annotations

import gc
import sys
import tempfile

import torch


def rehearse_run() -> None:
    """Train LeNet-5 for one epoch of 128 digits, on the CPU, writing into a temporary folder.

    A failure is ignored: it only leaves the next run as slow as a cold one.
    """
    from studio.graph import io
    from studio.presets import resolve
    from studio.train.run_spec import RunSpec, prepare

    try:
        project = io.load(resolve("lenet5"))
        training = {**project.training, "epochs": 1, "device": "cpu"}
        data = {**project.data, "max_samples": 128}
        with tempfile.TemporaryDirectory(prefix="studio-warm-up-") as out:
            prepare(RunSpec(io.to_dict(project), training, data, None, out), lambda event: None).run()
    except Exception:  # noqa: BLE001  a failed warm-up must not stop the server or the child
        pass


def warm_process() -> None:
    """Rehearse on one thread, then freeze the heap: the fork server's warm-up (`studio.train.preload`).

    One thread, because a child forked after OpenMP started its thread pool
    may hang; each child sets its own thread count.
    """
    torch.set_num_threads(1)
    rehearse_run()
    # The garbage collector of a forked child would otherwise touch every inherited object and
    # so copy the server's whole heap, page by page; frozen objects are never collected.
    gc.collect()
    gc.freeze()


def rehearse_in_child() -> None:
    """Rehearse in a child made ahead of its run, as the fork server did before it.

    A forked child shares the server's memory until it writes to it, and a
    run writes to much of it (reference counts, the allocator's pages): the
    copies (~8,000 pages) cost a LeNet-5 run ~40 ms before its first batch.
    Made here, while the child waits, they cost a run nothing. A spawned
    child (no fork server) warms itself as the server would have.
    """
    if "studio.train.preload" in sys.modules:  # forked from the server, which rehearsed for its own pages
        rehearse_run()
    else:
        warm_process()
