"""`studio train FILE`: train a project from the command line.

Writes checkpoints, ``metrics.jsonl`` and ``final.pt`` into ``--out`` (by
default ``runs/NAME``); ``--nproc N`` trains data-parallel in N processes
through torch's own launcher, and ``--nnodes N --node-rank R --master-addr A
--master-port P`` on N machines (`studio.train.multinode`). Before it trains, the run is checked
(`studio.train.preflight.prepare_run`): what would fail at the first batch
refuses it, warnings and the class count it trains with (``--classes N``, or
a preset's data's count) are printed. Exit code 0 when the run completed (or
was stopped with Ctrl-C), 1 when it failed or was refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from studio.data import class_count
from studio.errors import TrainingError
from studio.graph import Project
from studio.train.checkpoint import files_summary
from studio.presets import is_preset, resolve
from studio.train.distributed import launch_spec
from studio.train.events import RunFailed
from studio.train.multinode import add_node_arguments, is_distributed, spec_name, torchrun_args
from studio.train.preflight import prepare_run
from studio.train.run_copy import save_run_project
from studio.train.project_run import (PROJECT_KEYS, check_room, data_for, input_shape, models_for,
                                       optimiser_settings, training_copy)
from studio.train.run import add_train_arguments as _add_run_arguments
from studio.train.run import apply_overrides, run_training


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `studio train` (see `studio.train.run`)."""
    _add_run_arguments(parser)
    parser.add_argument("--classes", type=int, metavar="N", help="train the Output with N classes")
    parser.add_argument("--teacher", metavar="FILE",
                        help="distil from this trained project (sets recipe=distillation; preset names too)")
    parser.add_argument("--teacher-weights", metavar="CKPT", help="the teacher's trained weights (final.pt)")
    add_node_arguments(parser)


def run_from_args(project: Project, args: argparse.Namespace, path: Path, callback=None) -> int:
    """Trains `project` (read from `path`) as the parsed arguments say; the exit code.

    `callback`, if given, is called with every event of a one-process run (a sweep's trials report through it).
    """
    training, data = _settings(project, args)
    out = Path(args.out or Path("runs") / project.name)
    root = path.parent
    rendezvous = torchrun_args(args)
    training, splits = _checked(project, training, data, args, path)
    save_run_project(out, project, training, data)  # `studio diff` compares runs by it
    if is_distributed(args):
        spec = {"models": {"builder": "studio.train.project_run:build_models",
                           "kwargs": {"project": str(path), "training": training}},
                "data": {"settings": data, "input_shape": list(input_shape(training_copy(project, training))),
                         "root": str(root)},
                "training": optimiser_settings(training), "out_dir": str(out), "resume_from": args.resume}
        result = launch_spec(spec, args.nproc, out / spec_name(args), torchrun_args=rendezvous)
    else:
        result = run_training(models_for(project, training, root), splits,
                              optimiser_settings(training), out, resume_from=args.resume, callback=callback)
    if isinstance(result, RunFailed):
        print(f"studio: training failed: {result.message}", file=sys.stderr)
        return 1
    if is_distributed(args) and result.final_weights is None:  # another machine held global rank 0
        print(f"node {args.node_rank}: finished; the machine torchrun ranked first wrote the run's files "
              f"into its {out}", file=sys.stderr)
        return 0
    print(f"results in {files_summary(out)}", file=sys.stderr)
    return 0


def _checked(project: Project, training: dict, data: dict, args: argparse.Namespace, path: Path):
    """The training section settled by `prepare_run` (its notes on stderr) and, in one process, the data."""
    if args.classes is not None:
        training = {**training, "classes": args.classes}
    check_room(project, training)  # before the data is read: a run that cannot fit says so first
    splits = None if is_distributed(args) else data_for(project, training, data, path.parent)
    count = (lambda: splits.num_classes) if splits is not None else (lambda: class_count(data, path.parent))
    training, notes = prepare_run(project, training, data, count, preset=is_preset(path))
    for note in notes:
        print(f"studio: {note}", file=sys.stderr)
    return training, splits


def _settings(project: Project, args: argparse.Namespace) -> tuple[dict, dict]:
    """The training and data sections with the command line's overrides applied."""
    kept = {k: v for k, v in project.training.items() if k in PROJECT_KEYS}
    own = [o for o in args.overrides if o.split("=", 1)[0] in PROJECT_KEYS]
    args.overrides = [o for o in args.overrides if o not in own]
    training, data = apply_overrides(optimiser_settings(project.training), project.data, args)
    for item in own:
        key, _, value = item.partition("=")
        try:
            kept[key] = json.loads(value)
        except ValueError:
            raise TrainingError(f"--set {item}: the value must be JSON, e.g. input_shape=[3,64,64]") from None
    return _with_teacher({**training, **kept}, args), data


def _with_teacher(training: dict, args: argparse.Namespace) -> dict:
    """``--teacher FILE [--teacher-weights CKPT]`` as the distillation recipe's settings, paths made absolute."""
    if args.teacher is None:
        if args.teacher_weights is not None:
            raise TrainingError("--teacher-weights needs --teacher FILE: the project the weights belong to")
        return training
    training = {**training, "recipe": "distillation", "teacher": str(resolve(args.teacher).resolve())}
    if args.teacher_weights is not None:
        training["teacher_weights"] = str(Path(args.teacher_weights).resolve())
    return training
