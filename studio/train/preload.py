"""What the training fork server runs once, so that every run forked from it starts warm.

The fork server (`studio.train.process`) imports this module. Importing it
imports everything a run needs and trains LeNet-5 for a few batches of the
digits, on one thread: the first run in a fresh interpreter spends about two
seconds importing scikit-learn, sympy (torch's symbolic shapes) and the
recipes, and a forked child inherits all of that instead of repeating it. One
thread, because a child forked after OpenMP started its thread pool may hang;
each child sets its own thread count. Nothing else should import this module;
a child made ahead of its run calls `warm_up_run` again (`studio.train.process`).
"""

from __future__ import annotations

import gc
import tempfile

import torch


def warm_up_run() -> None:
    """Train LeNet-5 for one epoch of 128 digits, on the CPU, writing into a temporary folder.

    A failure is ignored: it only leaves the next run as slow as a cold one.
    """
    from studio.graph import io
    from studio.presets import resolve
    from studio.train import recipes  # noqa: F401  (every recipe module, imported once here)
    from studio.train.run_spec import RunSpec, prepare

    try:
        project = io.load(resolve("lenet5"))
        training = {**project.training, "epochs": 1, "device": "cpu"}
        data = {**project.data, "max_samples": 128}
        with tempfile.TemporaryDirectory(prefix="studio-warm-up-") as out:
            prepare(RunSpec(io.to_dict(project), training, data, None, out), lambda event: None).run()
    except Exception:  # noqa: BLE001  a failed warm-up must not stop the server or the child
        pass


torch.set_num_threads(1)
warm_up_run()
# The garbage collector of a forked child would otherwise touch every inherited object and
# so copy the server's whole heap, page by page; frozen objects are never collected.
gc.collect()
gc.freeze()
