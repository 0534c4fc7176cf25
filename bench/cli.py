"""Start-up cost of the `studio` command: whole processes against `python -c "import torch"`.

Each command runs as a fresh process (``python -m studio.cli ...``, as the
console script does), interleaved ``--repeats`` times with the baseline
``python -c "import torch"``; each repeat starts with the next command, so a
shared machine's slow minutes do not always fall on the same one. For each
command it prints

    NAME_wall_s         median wall time of the process
    NAME_cpu_s          median CPU time (user + system) of the process
    NAME_ratio          median over repeats of wall time / the baseline's in the same repeat
    NAME_ratio_spread   lowest..highest of those per-repeat ratios
    NAME_cpu_ratio      the same paired median for CPU time

and ``baseline_wall_s`` / ``baseline_cpu_s`` for ``import torch`` itself.
Targets: check_ratio <= 1.3, summary_ratio <= 1.6.

    python bench/cli.py [--repeats 7] [--train]   # --train adds `studio train lenet5 --epochs 1`
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def commands(train: bool, out: str) -> dict[str, list[str]]:
    """name -> argument list of each process measured (the baseline first)."""
    studio = [sys.executable, "-m", "studio.cli"]
    runs = {
        "baseline": [sys.executable, "-c", "import torch"],
        "presets": [*studio, "presets"],
        "check": [*studio, "check", "lenet5"],
        "summary": [*studio, "summary", "resnet152"],
    }
    if train:
        runs["train"] = [*studio, "train", "lenet5", "--epochs", "1", "--out", out]
    return runs


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one process run to its end; an error stops the bench."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--train", action="store_true", help="also time `studio train lenet5 --epochs 1`")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="studio-bench-cli-") as out:
        runs = commands(args.train, out)
        for argv in runs.values():  # warm-up: the page cache holds torch's files for every figure
            timed(argv)
        wall: dict[str, list[float]] = {name: [] for name in runs}
        cpu: dict[str, list[float]] = {name: [] for name in runs}
        order = list(runs)
        for repeat in range(args.repeats):
            for name in order[repeat % len(order):] + order[:repeat % len(order)]:
                w, c = timed(runs[name])
                wall[name].append(w)
                cpu[name].append(c)
    print(f"repeats: {args.repeats}")
    print(f"baseline_wall_s: {statistics.median(wall['baseline']):.3f}")
    print(f"baseline_cpu_s: {statistics.median(cpu['baseline']):.3f}")
    for name in order[1:]:
        ratios = [a / b for a, b in zip(wall[name], wall["baseline"])]
        cpu_ratios = [a / b for a, b in zip(cpu[name], cpu["baseline"])]
        print(f"{name}_wall_s: {statistics.median(wall[name]):.3f}")
        print(f"{name}_cpu_s: {statistics.median(cpu[name]):.3f}")
        print(f"{name}_ratio: {statistics.median(ratios):.3f}")
        print(f"{name}_ratio_spread: {min(ratios):.3f}..{max(ratios):.3f}")
        print(f"{name}_cpu_ratio: {statistics.median(cpu_ratios):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
