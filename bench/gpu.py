"""On a CUDA GPU: ResNet-50 training speed, the plain fp32 loop against the `Trainer`'s fast settings.

Runs, one after another on the preset's own data at batch 64 (images per
second; ``*_steady`` counts the epochs after the first, when a compiled
model is compiled already):

    plain_fp32        a hand-written fp32 eager loop (bench/train.py's `plain`)
    trainer_fp32      the `Trainer`, fp32, eager
    trainer_bf16      the `Trainer`, bf16 autocast and channels-last, eager
    trainer_bf16_compiled   the same with ``training.compile = "default"``

``fast_ratio`` is trainer_bf16_compiled's steady figure over plain_fp32's
(issue: at least 2), and ``data_wait_share_*`` the share of the Trainer's
training time spent waiting for the next batch.

    PYTHONPATH=. python bench/gpu.py [--preset resnet50] [--epochs 4]
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from train import compiled_run, load_project, plain, prepare  # bench/train.py, beside this file
from studio.train import Trainer
from studio.train.project_run import optimiser_settings


def trainer_run(project, compile_mode: str) -> dict[str, float] | None:
    """`compiled_run` plus the share of training time the Trainer waited for data; None if it failed."""
    models, data = prepare(project)
    run = Trainer(models, data, {**optimiser_settings(project.training), "compile": compile_mode})
    result = run.run()
    if not hasattr(result, "reason"):  # RunFailed: say why, as the user would see it
        print(f"failed: {result.message}\n{result.detail[-3000:]}", file=sys.stderr)
        return None
    figures = compiled_run(project, compile_mode)
    figures["data_wait_share"] = run.data_wait_s / sum(e["time_s"] for e in run.history)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="resnet50")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--modes", default="default,reduce-overhead")  # training.compile modes to time
    parser.add_argument("--static", action="store_true", help="no dynamic recompiles (a smaller last batch)")
    args = parser.parse_args()
    if args.static:
        torch._dynamo.config.automatic_dynamic_shapes = False
    if not torch.cuda.is_available():
        print("gpu.py needs a CUDA device", file=sys.stderr)
        return 2
    print(f"device_name: {torch.cuda.get_device_name()}")
    print(f"torch: {torch.__version__}")
    fp32 = load_project(args.epochs, args.preset, "cuda", False)
    bf16 = load_project(args.epochs, args.preset, "cuda", True)
    start = time.perf_counter()
    base = plain(fp32)
    print(f"plain_fp32_images_per_s_whole: {base:.0f}")
    results = {}
    runs = [(f"trainer_bf16_compiled_{m}", bf16, m) for m in args.modes.split(",")]
    for name, project, mode in runs + [("trainer_fp32", fp32, "off"), ("trainer_bf16", bf16, "off")]:
        r = results[name] = trainer_run(project, mode)
        if r is None:
            continue
        for key in ("whole", "steady"):
            print(f"{name}_images_per_s_{key}: {r[key]:.0f}")
        print(f"{name}_first_epoch_s: {r['first_epoch_s']:.1f}")
        print(f"data_wait_share_{name}: {r['data_wait_share']:.4f}")
    steady_plain = plain(fp32)  # again, now that cuDNN has chosen its kernels: the fairer baseline
    print(f"plain_fp32_images_per_s_second_run: {steady_plain:.0f}")
    for name, r in results.items():
        if r is not None:
            print(f"ratio_to_plain_fp32_{name}: {r['steady'] / max(base, steady_plain):.2f}")
    print(f"bench_wall_s: {time.perf_counter() - start:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
