"""Compression figures on LeNet-5 and ResNet-18 (digits, CPU): int8, unstructured and structured pruning.

For each preset the network is trained briefly on the built-in digits
(LeNet-5: 6 epochs at 1×32×32; ResNet-18: 2 epochs at its training size
3×32×32 — short runs on 2 shared cores, not converged), then compressed with
`studio.compress.compress` the way `studio compress` does:

* int8: int8 quantization with onnxruntime, `--quantize-mode auto`: static
  (calibrated on 512 training samples) and dynamic (int8 Linear layers,
  float convolutions from float16 weights) are both measured and the file
  faster at batch 32 is kept;
* prune50: 50 % unstructured magnitude pruning + FINETUNE epochs (LeNet-5: 5, ResNet-18: 1);
* struct50: 50 % of the channels of every layer that can lose them + FINETUNE epochs.

Accuracy is on the held-out split (the project's validation split: the
presets have no test split). Latency is timed here, not by `compress`: all
variants of a preset are warmed up, then called round-robin (one call of each
per round, so drift hits all alike) on one thread, at batch 1 and 32; a
ratio is the median of the per-round ratios against the baseline timed in the
same round (int8 against the float ONNX file in the same runtime; the pruned
torch models against the float torch model), with the quartiles of those
ratios as the spread, wall time and CPU time side by side.

Prints `name: value` lines, e.g. `lenet5_int8_size_ratio: 0.30`. Targets:
int8 ≤ 0.3× size, ≤ 1 point accuracy loss, faster at batch 32; struct50
≤ 0.55× FLOPs with ≤ 2 points loss after fine-tuning.

Measured (2 busy shared cores; paired medians, quartiles in the output):
LeNet-5 int8 (dynamic kept: static ran 2.1× the float file's time, its int8
convolutions and max pooling slow on 1→6→16 channels) 0.29× size, ±0 points,
0.86× the float ONNX file's time at batch 32 (0.83-0.91; 0.48× the float
torch model), 0.65× at batch 1; prune50 +0.6 points; struct50 0.32× FLOPs,
−0.6 points, 0.69× time at batch 32. ResNet-18 int8 (static kept) 0.25× size,
−0.3 points, 0.68× the float ONNX file's time at batch 32; prune50 −0.8
points; struct50 0.54× FLOPs, −1.95 points, 0.62× time at batch 32. About 5
minutes.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import zlib
from pathlib import Path

import torch

from studio.compress import compress
from studio.compress.quantize import predictor
from studio.compress.subject import load_subject
from studio.export import export
from studio.presets import resolve
from studio.graph import io
from studio.train.preflight import prepare_run
from studio.train.project_run import data_for, models_for, optimiser_settings
from studio.train.run import run_training

EPOCHS = {"lenet5": 6, "resnet18": 2}
FINETUNE = {"lenet5": 5, "resnet18": 1}
ROUNDS = {("lenet5", 1): 200, ("lenet5", 32): 60, ("resnet18", 1): 30, ("resnet18", 32): 8}


def say(name: str, value) -> None:
    print(f"{name}: {value:.4g}" if isinstance(value, float) else f"{name}: {value}", flush=True)


def trained(name: str, folder: Path):
    """The preset trained EPOCHS[name] epochs as `studio train` trains it; (project, path, final weights)."""
    path = resolve(name)
    project = io.load(path)
    splits = data_for(project, project.training, project.data, path.parent)
    training, _ = prepare_run(project, dict(project.training), project.data, lambda: splits.num_classes, preset=True)
    training = {**training, "epochs": EPOCHS[name], "seed": 0}
    start = time.perf_counter()
    run_training(models_for(project, training, path.parent), splits, optimiser_settings(training),
                 folder / "run", progress=False)
    say(f"{name}_train_s", time.perf_counter() - start)
    return project, path, folder / "run" / "final.pt"


def timed_rounds(models: dict, sample: torch.Tensor, batch: int, rounds: int) -> dict[str, list[tuple[float, float]]]:
    """{variant: [(wall ms, cpu ms) per round]}, one call of each variant per round, on one thread."""
    x = sample.unsqueeze(0).expand(batch, *sample.shape).contiguous()
    times = {k: [] for k in models}
    with torch.inference_mode():
        for f in models.values():
            f(x), f(x)
        for _ in range(rounds):
            for k, f in models.items():
                w, c = time.perf_counter(), time.process_time()
                f(x)
                times[k].append(((time.perf_counter() - w) * 1e3, (time.process_time() - c) * 1e3))
    return times


def paired(times, variant: str, base: str, which: int) -> tuple[float, float, float]:
    """Median and quartiles of the per-round ratios variant / base (which: 0 wall, 1 cpu)."""
    ratios = sorted(a[which] / b[which] for a, b in zip(times[variant], times[base]) if b[which] > 0)
    q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
    return q[1], q[0], q[2]


def bench(name: str, folder: Path) -> None:
    project, path, weights = trained(name, folder)
    results = {}
    for variant, kwargs in (("int8", dict(method="quantize", out=folder / "int8.onnx")),
                            ("prune50", dict(method="prune", out=folder / "prune50.pt",
                                             finetune_epochs=FINETUNE[name])),
                            ("struct50", dict(method="prune", structured=True, out=folder / "struct50.json",
                                              finetune_epochs=FINETUNE[name]))):
        start = time.perf_counter()
        results[variant] = compress(project, weights, amount=0.5, root=path.parent, preset=True, repeats=3, **kwargs)
        say(f"{name}_{variant}_compress_s", time.perf_counter() - start)
    subject = load_subject(project, weights, path.parent, preset=True)
    base = results["int8"].before
    say(f"{name}_fp32_accuracy", base.accuracy)
    say(f"{name}_fp32_params", base.params)
    say(f"{name}_fp32_flops", base.flops)
    _sizes_and_accuracy(name, folder, weights, results, base)
    _latency(name, folder, subject, weights, results)


def _sizes_and_accuracy(name, folder, weights, results, base) -> None:
    fp32_pt = _state_size(folder, weights)
    int8 = results["int8"]
    say(f"{name}_fp32_onnx_bytes", int8.before.size_bytes)
    say(f"{name}_int8_onnx_bytes", int8.after.size_bytes)
    say(f"{name}_int8_size_ratio", int8.after.size_bytes / int8.before.size_bytes)
    say(f"{name}_int8_mode_kept", int8.notes[0].split()[0])  # auto: the faster of static and dynamic
    for variant in ("prune50", "struct50"):
        r = results[variant]
        say(f"{name}_{variant}_size_ratio", r.after.size_bytes / fp32_pt)
        say(f"{name}_{variant}_params_ratio", r.after.params / r.before.params)
        say(f"{name}_{variant}_flops_ratio", r.after.flops / r.before.flops)
    say(f"{name}_fp32_state_bytes", fp32_pt)
    deflated = [len(zlib.compress(p.read_bytes(), 6)) for p in (folder / "prune50.pt", folder / "fp32_state.pt")]
    say(f"{name}_prune50_deflated_size_ratio", deflated[0] / deflated[1])
    for variant, r in results.items():
        say(f"{name}_{variant}_accuracy", r.after.accuracy)
        say(f"{name}_{variant}_accuracy_change_points", 100 * (r.after.accuracy - base.accuracy))


def _state_size(folder: Path, weights: Path) -> int:
    """The size of the trained state_dict saved alone (final.pt may hold only it, but be sure)."""
    from studio.compile.weights import read_state_dict

    target = folder / "fp32_state.pt"
    torch.save(read_state_dict(weights), target)
    return target.stat().st_size


def _latency(name, folder, subject, weights, results) -> None:
    export(subject.project, "onnx", folder / "fp32.onnx", weights=subject.state)
    pruned = subject.model(state=torch.load(folder / "prune50.pt", weights_only=True))
    struct_project = io.load(folder / "struct50.json")
    struct = subject.model(struct_project, torch.load(folder / "struct50.pt", weights_only=True))
    variants = {"fp32": subject.model(), "fp32_onnx": predictor(folder / "fp32.onnx"),
                "int8": predictor(folder / "int8.onnx"), "prune50": pruned, "struct50": struct}
    torch.set_num_threads(1)
    for batch in (1, 32):
        times = timed_rounds(variants, subject.sample, batch, ROUNDS[(name, batch)])
        for variant in variants:
            say(f"{name}_b{batch}_{variant}_ms", statistics.median(t[0] for t in times[variant]))
            say(f"{name}_b{batch}_{variant}_cpu_ms", statistics.median(t[1] for t in times[variant]))
        for variant, base in (("int8", "fp32_onnx"), ("int8", "fp32"), ("prune50", "fp32"), ("struct50", "fp32")):
            for which, kind in ((0, "wall"), (1, "cpu")):
                mid, lo, hi = paired(times, variant, base, which)
                label = f"{name}_b{batch}_{variant}_vs_{base}_{kind}"
                say(f"{label}_ratio", mid)
                say(f"{label}_ratio_q1_q3", f"{lo:.3f}..{hi:.3f}")


def main(names: list[str]) -> int:
    torch.manual_seed(0)
    for name in names or list(EPOCHS):
        with tempfile.TemporaryDirectory(prefix=f"studio-bench-compress-{name}-") as folder:
            bench(name, Path(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
