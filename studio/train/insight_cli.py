"""`studio inspect` and `studio lr-find`: their arguments and what they print.

    studio inspect FILE [--weights CKPT] --node NAME [--network NET] [--samples N] [--json]
    studio lr-find FILE [--steps N] [--start LR] [--end LR] [--json]

`inspect` prints a node's output on a few samples of the project's data (see
`studio.train.inspect`); `lr-find` runs the learning-rate range test (see
`studio.train.lr_find`) and prints the suggested rate. `--json` prints one
JSON object instead of text.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_inspect_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds --node, --weights, --network, --samples and --json (FILE is the caller's)."""
    parser.add_argument("--node", required=True, metavar="NAME",
                        help="the node to inspect; a node inside a block as block/node (block/1/node: its 2nd copy)")
    parser.add_argument("--weights", metavar="CKPT", help="trained weights (final.pt, last.pt, a state_dict)")
    parser.add_argument("--network", metavar="NET", help="the network holding the node (default: the first)")
    parser.add_argument("--samples", type=int, default=8, metavar="N", help="samples to run (default 8)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def run_inspect(project, args: argparse.Namespace, path: Path) -> int:
    """Prints the node's figures; returns 0."""
    from studio.train.inspect import inspect_node, preview_lines

    preview = inspect_node(project, args.node, weights=args.weights, network=args.network,
                           root=Path(path).parent, samples=max(1, args.samples))
    print(json.dumps(preview.to_json(), indent=2) if args.json else "\n".join(preview_lines(preview)))
    return 0


def add_lr_find_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds --steps, --start, --end and --json (FILE is the caller's)."""
    from studio.train.lr_find import END, START, STEPS

    parser.add_argument("--steps", type=int, default=STEPS, metavar="N",
                        help=f"training steps to sweep over (default {STEPS})")
    parser.add_argument("--start", type=float, default=START, metavar="LR",
                        help=f"first learning rate (default {START:g})")
    parser.add_argument("--end", type=float, default=END, metavar="LR", help=f"last learning rate (default {END:g})")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def run_lr_find(project, args: argparse.Namespace, path: Path) -> int:
    """Prints the suggested rate (or the whole sweep as JSON); returns 0."""
    from studio.train.lr_find import find_lr

    result = find_lr(project, root=Path(path).parent, steps=args.steps, start=args.start, end=args.end)
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print(f"suggested lr {result.suggested_lr:.3g} (steepest descent of the loss; the minimum / 10 is "
              f"{result.min_over_ten:.3g}) over {len(result.lrs)} steps "
              f"from {result.lrs[0]:.3g} to {result.lrs[-1]:.3g}")
    return 0
