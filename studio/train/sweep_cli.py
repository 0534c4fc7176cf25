"""`studio sweep FILE --trials N [--jobs J] --out DIR`: search the project's marked values with Optuna.

Prints one line per finished trial on standard error while it runs, then the
trials table on standard output; writes ``DIR/trials.csv``, ``DIR/best.json``
and ``DIR/sweep.db`` (the study: run the same command again to resume an
interrupted sweep). Exit code 0 once the trials ran (pruned or failed trials
included), 1 when none completed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.graph import Project
from studio.train.search_space import SAMPLERS
from studio.train.sweep import SweepOptions, run_sweep
from studio.train.sweep_results import best, table


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `studio sweep`."""
    parser.add_argument("--trials", type=int, required=True, metavar="N",
                        help="trials in all (a resumed sweep counts its earlier ones)")
    parser.add_argument("--jobs", type=int, default=1, metavar="J",
                        help="trials training at once, each in its own process")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="folder for trials.csv, best.json, sweep.db and the trials' runs")
    parser.add_argument("--sampler", choices=SAMPLERS, default="tpe", help="how values are picked (default tpe)")
    parser.add_argument("--metric", metavar="M",
                        help="epoch metric to optimise (default: training.early_stop_metric, val_loss)")
    parser.add_argument("--epochs", type=int, metavar="N", help="epochs per trial (default: the project's)")
    parser.add_argument("--device", metavar="D", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--seed", type=int, metavar="N", help="the sampler's seed, for a repeatable choice of values")
    parser.add_argument("--data-root", metavar="DIR",
                        help="folder relative data paths start from (default: the project file's)")
    parser.add_argument("--startup-trials", type=int, default=5, metavar="N",
                        help="trials that finish before the median pruner stops any (default 5)")


def run_from_args(project: Project, args: argparse.Namespace, path: Path) -> int:
    """Runs the sweep the parsed arguments describe; the exit code."""
    options = SweepOptions(trials=args.trials, jobs=args.jobs, sampler=args.sampler, metric=args.metric,
                           epochs=args.epochs, seed=args.seed, startup_trials=args.startup_trials,
                           device=args.device)
    source = Path(args.data_root) / Path(path).name if args.data_root else path  # the trials read data from its folder
    study = run_sweep(project, source, Path(args.out), options, log=lambda line: print(line, file=sys.stderr))
    print(table(study))
    if best(study) is None:
        print("studio: no trial completed; see train.log in the trials' folders", file=sys.stderr)
        return 1
    return 0
