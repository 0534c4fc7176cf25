"""Every preset, the heavy ones included, trains two real steps at its training size as `studio train` runs it.

The test suite trains all but the heaviest presets this way (tests/core/test_presets.py); VGG and
ResNeXt-101 take 8-14 s and several GB each on two cores, so they train for real only here.
Each preset goes through the command line's own checks first (`prepare_run`: the class count
settled to the data's, the network checked at its training size), then two steps of batch 2
on the CPU with one thread.

Prints, per preset: `NAME_two_steps_s` (wall) and `NAME_two_steps_cpu_s` (process CPU time)
from the start of the run to the end of its second step, or `NAME_failed: 1` with the reason
on stderr; last, `presets_failed` (target 0).
"""

from __future__ import annotations

import math
import sys
import time

import torch

from studio.data import class_count
from studio.graph import io
from studio.presets import list_presets
from studio.train import BatchEnded, RunFinished, Trainer
from studio.train.config import field_names
from studio.train.preflight import prepare_run
from studio.train.project_run import data_for, models_for, optimiser_settings

SMALL = {"batch_size": 2, "device": "cpu", "env_steps": 4, "learning_starts": 2, "replay_size": 16,
         "num_envs": 2, "rollout_steps": 2, "eval_episodes": 1}


def two_steps(path) -> tuple[float, float]:
    """(wall, CPU) seconds of two training steps of the preset at `path`, after its checks."""
    project = io.load(path)
    training = {**project.training, **{k: v for k, v in SMALL.items() if k in field_names()}}
    data = {**project.data, "max_samples": 12, "val_split": 0.25}
    training, _ = prepare_run(project, training, data, lambda: class_count(data), preset=True)
    splits = data_for(project, training, data)
    models = models_for(project, training)
    losses: list[float] = []

    def on_event(event) -> None:
        if isinstance(event, BatchEnded):
            losses.append(event.loss)
            if len(losses) == 2:
                trainer.stop()

    trainer = Trainer(models, splits, optimiser_settings(training), callback=on_event, event_interval=0)
    wall, cpu = time.perf_counter(), time.process_time()
    result = trainer.run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if not (isinstance(result, RunFinished) and len(losses) == 2 and all(map(math.isfinite, losses))):
        raise RuntimeError(f"did not train two finite steps: {result}")
    return wall, cpu


def main() -> None:
    torch.set_num_threads(1)
    failed = 0
    for info in list_presets():
        try:
            wall, cpu = two_steps(info.path)
        except Exception as exc:  # noqa: BLE001  a bench reports every preset, not the first failure
            failed += 1
            print(f"{info.name}_failed: 1", flush=True)
            print(f"{info.name}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            continue
        print(f"{info.name}_two_steps_s: {wall:.2f}", flush=True)
        print(f"{info.name}_two_steps_cpu_s: {cpu:.2f}", flush=True)
    print(f"presets_failed: {failed}")


if __name__ == "__main__":
    main()
