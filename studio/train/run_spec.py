"""What a training child runs, as plain values (`RunSpec`), and the `Trainer` it builds from them.

The GUI's child process (`studio.train.process`) and the fork server's
rehearsal (`studio.train.preload`) both build their run here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.train.preflight import settle_classes
from studio.train.project_run import data_for, models_for, optimiser_settings
from studio.train.run_copy import save_run_project
from studio.train.trainer import Trainer


@dataclass(frozen=True)
class RunSpec:
    """Everything the child needs, as plain values.

    Attributes:
        project: the project as `studio.graph.io.to_dict` writes it.
        training, data: the sections to run with (they may differ from the project's own).
        root: the folder relative data paths start from, or None.
        out_dir: where checkpoints, metrics and the final weights go.
        event_interval: seconds between batch events (the trainer's throttle).
        threads: torch's intra-op threads in the child (0: torch's default).
        cwd: the parent's working folder (a forked child starts in the fork server's).
    """

    project: dict
    training: dict
    data: dict
    root: str | None
    out_dir: str
    event_interval: float = 0.05
    threads: int = 0
    cwd: str | None = None


def prepare(spec: RunSpec, send: Callable[[Any], None]) -> Trainer:
    """The run's `Trainer`, its models compiled and its data loaded; events go to ``send``.

    Raises:
        StudioError: the data or the models cannot be prepared (the message says why).
    """
    from studio.graph import io

    root = Path(spec.root) if spec.root is not None else None
    project = io.from_dict(spec.project, "<training copy>")
    models = models_for(project, spec.training, base=root)
    data = data_for(project, spec.training, spec.data, root=root)
    settle_classes(project, spec.training, spec.data, lambda: data.num_classes)  # refuses more classes than scores
    save_run_project(spec.out_dir, spec.project, spec.training, spec.data)  # runs are compared by it
    return Trainer(models, data, optimiser_settings(spec.training), callback=send,
                   out_dir=spec.out_dir, event_interval=spec.event_interval)
