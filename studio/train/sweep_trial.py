"""One trial of a sweep, in its own process: ``python -m studio.train.sweep_trial PROJECT --source FILE --out DIR``.

It trains PROJECT (the trial's copy, its values applied) exactly as
``studio train`` would (the same options; ``--source`` is the sweep's project
file, whose folder relative data paths start from), so its folder is a
normal run. After each epoch it writes one line to standard output,
``@epoch {"epoch": N, "metrics": {...}}``, and waits for the sweep's answer on
standard input: ``go``, or ``stop`` when the pruner stops the trial (the run
then ends as if stopped with Ctrl-C, its checkpoints kept). A closed input
(the sweep is gone) stops it too. Progress and messages go to standard error.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from studio.errors import StudioError
from studio.graph import io
from studio.train import cli as train_cli
from studio.train.events import EpochEnded, Event
from studio.train.metrics import scalars

MARK = "@epoch "


def report(event: Event) -> None:
    """Sends an epoch's scalar metrics up and stops the run when the answer is not ``go``."""
    if not isinstance(event, EpochEnded):
        return
    try:
        print(MARK + json.dumps({"epoch": event.epoch, "metrics": scalars(event.metrics)}), flush=True)
        answer = sys.stdin.readline().strip()
    except (BrokenPipeError, OSError):
        answer = ""
    if answer != "go":
        # The run's Ctrl-C handler (`studio.train.run`) stops after this batch and keeps the checkpoints.
        signal.raise_signal(signal.SIGINT)


def main(argv: list[str] | None = None) -> int:
    """Trains one trial; the exit code of ``studio train``."""
    parser = argparse.ArgumentParser(prog="studio.train.sweep_trial")
    parser.add_argument("project", help="the trial's project file")
    parser.add_argument("--source", help="the sweep's project file (relative data paths start from its folder)")
    train_cli.add_train_arguments(parser)
    args = parser.parse_args(argv)
    try:
        project = io.load(args.project)
        return train_cli.run_from_args(project, args, Path(args.source or args.project), callback=report)
    except StudioError as e:
        print(f"studio: {e}", file=sys.stderr)
        return e.exit_code


if __name__ == "__main__":
    sys.exit(main())
