"""Training speed: plain PyTorch vs the `Trainer` vs the `Trainer` behind the GUI dock.

A preset (LeNet-5 unless ``--preset``; compiled by studio) on the built-in
digits at batch 64, Adam, a fixed number of epochs, on one device (the CPU
unless ``--device``; on CUDA, bf16 autocast with ``--mixed-precision on``),
in one process with the same ``torch.set_num_threads`` for all three:

    plain    a hand-written loop over the same tensors (shuffle, step, and a
             validation pass per epoch, as any real loop has), no events; on
             CUDA the tensors stay on the GPU and the model is channels-last,
             as the `Trainer` does
    trainer  `Trainer(...).run()` alone (no callback, no files)
    gui      the `TrainingDock` of an offscreen QApplication, shown, training
             in its child process (`studio.train.process`; a QThread of the
             GUI waits on its events) while the dashboard draws every event;
             the child writes the run folder (checkpoints, metrics.jsonl)

Each figure is images per second over the whole run (model compile and data
load included, for all three). The three are run interleaved ``--repeats``
times, each repeat starting with the next of them and each run after a second
of idling, and the median of each is reported;
``*_ratio_paired`` is the median over repeats of the ratio within each
repeat, and ``*_ratio_paired_ci95`` a 95 % bootstrap interval of that
median. ``ui_lag_ms_p99`` is how late a 5 ms QTimer fired (99th percentile)
while the GUI run trained; it is measured in runs of its own, as it was when
training shared the GUI's process and the probe's callbacks took the GIL from it.

With ``--histograms`` it measures instead what ``training.histogram_every``
costs: the ``trainer`` figure at the default interval against the same run
with it off (0), interleaved, wall and CPU time; ``histograms_overhead_paired``
is the median over repeats of 1 - (images/s on) / (images/s off). As whole
runs on a shared machine vary by more than that cost, it also times single
steps of the preset (forward, backward, Adam; batch 64), measured and not,
interleaved: ``histograms_step_ratio`` is a measured step's time over a plain
step's, and ``histograms_overhead_estimate`` = (ratio - 1) / histogram_every,
the share a run's steps take longer.

    python bench/train.py [--epochs 3] [--repeats 3] [--threads N]
    python bench/train.py --histograms [--repeats 9]
    python bench/train.py --preset resnet18 --device cuda --mixed-precision on   # on a GPU
    python bench/train.py --compile --preset resnet18 --epochs 3 --repeats 2     # torch.compile vs eager

``trainer_data_wait_share`` is the share of the `Trainer`'s training time
spent waiting for the next batch (`Trainer.data_wait_s`). ``--compile`` runs
the `Trainer` alone, eager (``training.compile`` off) against ``default``
compiled throughout (``compiled_*``, ``compile_ratio_*``) and against
``default`` as a user gets it (``setting_*``, ``setting_ratio_*``: on the CPU
the run times its first compiled steps against eager ones and keeps the
faster, `studio.train.compile_choice`; ``setting_choice`` lines say what each
run chose), interleaved; ``*_steady`` counts the epochs after the first (compiled code),
``*_whole`` the whole run with its compiling, ``*_steady_cpu`` the epochs
after the first per CPU second of this process (steadier than wall time on a
shared machine; the training threads are all in it); the first compiled run of the
process is reported on its own (``compile_first_run_first_epoch_s``).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from studio.graph import io  # noqa: E402
from studio.presets import resolve  # noqa: E402
from studio.train import Trainer, compile_choice, devices  # noqa: E402
from studio.train.events import EpochEnded, RunWarning  # noqa: E402
from studio.train.project_run import data_for, models_for, optimiser_settings  # noqa: E402


def load_project(epochs: int, preset: str = "lenet5", device: str = "cpu", mixed_precision: bool = False):
    """The preset set up for the bench: ``epochs`` at batch 64 on ``device``."""
    project = io.load(resolve(preset))
    project.set_settings("training", {**project.training, "epochs": epochs, "batch_size": 64,
                                      "device": device, "mixed_precision": mixed_precision})
    return project


def prepare(project):
    models = models_for(project, project.training)
    data = data_for(project, project.training, project.data)
    return models, data


def tensors(dataset):
    xs, ys = zip(*(dataset[i] for i in range(len(dataset))))
    return torch.stack(xs), torch.as_tensor(ys)


def plain(project) -> float:
    """A hand-written loop; returns training images per second."""
    start = time.perf_counter()
    models, data = prepare(project)
    c = project.training
    device = torch.device(c["device"])
    channels_last = devices.use_channels_last(device, "auto", getattr(data, "input_shape", None))  # the Trainer's rule
    layout = torch.channels_last if channels_last else torch.contiguous_format
    model = models["model"].to(device, memory_format=layout)
    amp = devices.autocast(device, devices.use_mixed_precision(device, c["mixed_precision"]))  # CUDA only
    torch.manual_seed(0)
    x, y = (t.to(device) for t in tensors(data.train))
    vx, vy = (t.to(device) for t in tensors(data.val))
    opt = torch.optim.Adam(model.parameters(), lr=c["lr"])
    bs, n = c["batch_size"], len(x)
    for _ in range(c["epochs"]):
        model.train()
        order = torch.randperm(n, device=device)
        for i in range(0, n, bs):
            idx = order[i:i + bs]
            with amp:
                loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad(), amp:  # int() waits for the device, as the Trainer's metrics do
            correct = sum(int((model(vx[i:i + bs]).argmax(1) == vy[i:i + bs]).sum())
                          for i in range(0, len(vx), bs))
    _ = correct
    return n * c["epochs"] / (time.perf_counter() - start)


DATA_WAIT: list[float] = []  # each `trainer` run's share of training time spent waiting for batches


def trainer(project, **settings) -> float:
    start = time.perf_counter()
    models, data = prepare(project)
    run = Trainer(models, data, {**optimiser_settings(project.training), **settings})
    result = run.run()
    assert result.reason == "completed", result
    DATA_WAIT.append(run.data_wait_s / sum(e["time_s"] for e in run.history))
    return len(data.train) * project.training["epochs"] / (time.perf_counter() - start)


def histograms(project, repeats: int) -> None:
    """The trainer at the default ``histogram_every`` against it off, interleaved; prints the figures."""
    from studio.train.config import TrainConfig

    every = TrainConfig.histogram_every
    runs = {"on": lambda: trainer(project), "off": lambda: trainer(project, histogram_every=0)}
    trainer(project)  # warm-up
    speed: dict[str, list[float]] = {"on": [], "off": []}
    cpu: dict[str, list[float]] = {"on": [], "off": []}
    for repeat in range(repeats):
        for name in (["on", "off"] if repeat % 2 == 0 else ["off", "on"]):
            start = time.process_time()
            speed[name].append(runs[name]())
            cpu[name].append(time.process_time() - start)
    overhead = [1 - a / b for a, b in zip(speed["on"], speed["off"])]
    cpu_overhead = [a / b - 1 for a, b in zip(cpu["on"], cpu["off"])]
    print(f"histogram_every: {every}")
    for name in ("on", "off"):
        print(f"trainer_histograms_{name}_images_per_s: {statistics.median(speed[name]):.0f}")
        print(f"trainer_histograms_{name}_cpu_s: {statistics.median(cpu[name]):.2f}")
    low, high = median_interval(overhead)
    print(f"histograms_overhead_paired: {statistics.median(overhead):.3f}")
    print(f"histograms_overhead_paired_ci95: {low:.3f}..{high:.3f}")
    print(f"histograms_cpu_overhead_paired: {statistics.median(cpu_overhead):.3f}")
    ratio = step_ratio(project)
    print(f"histograms_step_ratio: {ratio:.2f}")
    print(f"histograms_overhead_estimate: {(ratio - 1) / every:.4f}")


def step_ratio(project, repeats: int = 200) -> float:
    """Median over interleaved pairs of (a step with the layer probe) / (a plain step)."""
    from studio.train.layer_stats import LayerProbe

    models, data = prepare(project)
    model = models["model"]
    x, y = (t[:64] for t in tensors(data.train))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    probe = LayerProbe(models, every=1)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    def measured() -> None:
        probe.attach()
        step()
        probe.collect(1, 1, 1)

    ratios = []
    for _ in range(repeats):
        times = []
        for fn in (step, measured):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        ratios.append(times[1] / times[0])
    return statistics.median(ratios)


CHOICES: list[str] = []  # what each `chosen` run's CPU comparison said (studio.train.compile_choice)
CHOICE_PAIRS = compile_choice.PAIRS


def compiled_run(project, mode: str) -> dict[str, float]:
    """One `Trainer` run with ``training.compile`` = ``mode``: images/s over the whole run (compiling
    included), over the epochs after the first (compiled code only), and CPU seconds.

    ``mode`` "chosen" is "default" as a user gets it: on the CPU its first steps time compiled
    against eager ones and the run keeps the faster; "default" here trains compiled throughout.
    """
    start, cpu = time.perf_counter(), time.process_time()
    models, data = prepare(project)
    compile_choice.PAIRS = CHOICE_PAIRS if mode == "chosen" else 0
    warnings: list[str] = []
    epoch_cpu: list[float] = []  # this process's CPU seconds at each epoch's end

    def on_event(event) -> None:
        if isinstance(event, RunWarning):
            warnings.append(event.message)
        elif isinstance(event, EpochEnded):
            epoch_cpu.append(time.process_time())

    setting = "default" if mode == "chosen" else mode
    run = Trainer(models, data, {**optimiser_settings(project.training), "compile": setting}, callback=on_event)
    result = run.run()
    CHOICES.extend(w for w in warnings if "timed pairs" in w)
    assert result.reason == "completed" and all("timed pairs" in w for w in warnings), (result, warnings)
    later = run.history[1:]
    return {"whole": len(data.train) * len(run.history) / (time.perf_counter() - start),
            "steady": len(data.train) * len(later) / sum(e["time_s"] for e in later),
            # Per CPU second: what a machine shared with other work cannot blur (no compiling after epoch 1).
            "steady_cpu": len(data.train) * len(later) / (epoch_cpu[-1] - epoch_cpu[0]),
            "first_epoch_s": run.history[0]["time_s"], "cpu_s": time.process_time() - cpu,
            "wall_s": time.perf_counter() - start}


def compile_bench(args) -> int:
    """``--compile``: the `Trainer` eager against ``training.compile=default``, interleaved, paired ratios."""
    project = load_project(args.epochs, args.preset, args.device, args.mixed_precision == "on")
    assert args.epochs >= 2, "--compile needs 2 epochs or more: the first one compiles"
    first = compiled_run(project, "default")  # the first compile in this process: what a user waits for once
    compiled_run(project, "off")
    runs: dict[str, list[dict[str, float]]] = {"off": [], "default": [], "chosen": []}
    order = list(runs)
    for repeat in range(args.repeats):  # each repeat starts with the next of the three
        for mode in order[repeat % 3:] + order[:repeat % 3]:
            runs[mode].append(compiled_run(project, mode))
    print(f"preset: {args.preset}")
    print(f"device: {args.device}")
    print(f"threads: {args.threads}")
    print(f"epochs: {args.epochs}")
    print(f"repeats: {args.repeats}")
    print(f"compile_first_run_first_epoch_s: {first['first_epoch_s']:.1f}")
    for mode, name in (("off", "eager"), ("default", "compiled"), ("chosen", "setting")):
        for key in ("steady", "whole", "steady_cpu"):
            print(f"{name}_images_per_s_{key}: {statistics.median(r[key] for r in runs[mode]):.0f}")
        print(f"{name}_first_epoch_s: {statistics.median(r['first_epoch_s'] for r in runs[mode]):.2f}")
        print(f"{name}_cpu_s_per_wall_s: {statistics.median(r['cpu_s'] / r['wall_s'] for r in runs[mode]):.2f}")
    for mode, prefix in (("default", "compile_ratio"), ("chosen", "setting_ratio")):
        for key in ("steady", "whole", "steady_cpu"):
            ratios = [c[key] / e[key] for c, e in zip(runs[mode], runs["off"])]
            low, high = median_interval(ratios)
            print(f"{prefix}_{key}_paired: {statistics.median(ratios):.3f}")
            print(f"{prefix}_{key}_paired_ci95: {low:.3f}..{high:.3f}")
            print(f"{prefix}_{key}_runs: {' '.join(f'{r:.3f}' for r in ratios)}")
    for line in CHOICES:
        print(f"setting_choice: {line}")
    return 0


def gui(project, app, dock, probe: bool) -> tuple[float, list[float]]:
    """Train through the dock; images/s and, with `probe`, the late-by (ms) of every 5 ms timer tick.

    The probe itself runs Python in the GUI thread 200 times a second, so speed is
    measured in runs without it and lag in runs with it.
    """
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

    n_train = len(prepare(project)[1].train)
    dock.set_project(project, None)
    ticks: list[float] = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setTimerType(timer.timerType().PreciseTimer)
    timer.setInterval(5)
    last = [0]

    def tick() -> None:  # a 5 ms timer in the GUI thread: how late does it come?
        now = clock.nsecsElapsed()
        ticks.append((now - last[0]) / 1e6 - 5.0)
        last[0] = now

    timer.timeout.connect(tick)
    loop = QEventLoop()
    dock.running_changed.connect(lambda running: None if running else loop.quit())
    start = time.perf_counter()
    clock.start()
    if probe:
        timer.start()
    assert dock.start(), dock.message.text()
    loop.exec()
    elapsed = time.perf_counter() - start
    timer.stop()
    record = dock.records[-1]
    assert record.status == "completed", (record.status, record.message)
    return n_train * project.training["epochs"] / elapsed, ticks[1:]


def settle(app, seconds: float = 1.0) -> None:
    """Idle a moment before a measured run, the window's events flowing.

    After a run the dock makes the next run's child, which trains a few
    batches while it waits (`studio.train.process`); it must not share the
    machine with the next figure's run, as it would not with a user's.
    """
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.01)


def median_interval(values: list[float], resamples: int = 2000) -> tuple[float, float]:
    """A 95 % bootstrap interval of the median of ``values`` (seeded: the same values, the same interval).

    On a shared machine the same run varies by ±10 % from one repeat to the
    next; the interval says how far the paired median itself may be off.
    """
    rng = random.Random(0)
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(resamples))
    return medians[int(0.025 * resamples)], medians[int(0.975 * resamples) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)  # the preset's own run: per-run costs amortised as a user sees them
    parser.add_argument("--repeats", type=int, default=3)
    # One core is left to the GUI thread (on 2 cores: torch gets 1, for all three loops).
    parser.add_argument("--threads", type=int, default=max(1, min(4, (os.cpu_count() or 2) - 1)))
    parser.add_argument("--preset", default="lenet5")  # resnet18: the GPU figure (3x32x32 digits)
    parser.add_argument("--device", default="cpu")  # cuda where a GPU is lent
    parser.add_argument("--mixed-precision", choices=("on", "off"), default="off")  # bf16 autocast, CUDA only
    parser.add_argument("--histograms", action="store_true", help="measure training.histogram_every's cost instead")
    parser.add_argument("--compile", action="store_true",
                        help="time the Trainer with training.compile=default against eager (no GUI run)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.histograms:
        project = load_project(args.epochs, args.preset, args.device, args.mixed_precision == "on")
        histograms(project, args.repeats)
        return 0
    if args.compile:
        return compile_bench(args)
    os.environ["STUDIO_RUNS_DIR"] = tempfile.mkdtemp(prefix="studio-bench-runs-")

    from PySide6.QtWidgets import QApplication

    from studio.ui.training import TrainingDock

    app = QApplication.instance() or QApplication(sys.argv)
    dock = TrainingDock()
    dock.resize(1400, 600)
    dock.show()
    app.processEvents()
    project = load_project(args.epochs, args.preset, args.device, args.mixed_precision == "on")
    # Warm-up: first-call costs (allocator, kernels, lazy imports such as scikit-learn's metrics) hit no one figure.
    plain(project)
    trainer(project)
    gui(project, app, dock, probe=False)
    dock.clear_runs()
    results: dict[str, list[float]] = {"plain": [], "trainer": [], "gui": []}
    lags: list[float] = []
    runs = {"plain": lambda: plain(project), "trainer": lambda: trainer(project),
            "gui": lambda: gui(project, app, dock, probe=False)[0]}
    order = list(runs)
    for repeat in range(args.repeats):
        # Each repeat starts with another of the three: a shared machine that slows down
        # after a few seconds of work would otherwise always slow the same one.
        for name in order[repeat % 3:] + order[:repeat % 3]:
            settle(app)
            results[name].append(runs[name]())
            dock.clear_runs()
        settle(app)
        lags += gui(project, app, dock, probe=True)[1]
        dock.clear_runs()
    med = {k: statistics.median(v) for k, v in results.items()}
    # Each repeat runs the three back to back: their ratio within a repeat is less
    # exposed to a shared machine's minute-to-minute speed than the ratio of medians.
    ratios = {k: [a / b for a, b in zip(results[k], results["plain"])] for k in results}
    paired = {k: statistics.median(v) for k, v in ratios.items()}
    lags.sort()
    p99 = lags[min(len(lags) - 1, int(0.99 * len(lags)))] if lags else float("nan")
    print(f"preset: {args.preset}")
    print(f"device: {args.device}")
    print(f"mixed_precision: {args.mixed_precision}")
    print(f"threads: {args.threads}")
    print(f"epochs: {args.epochs}")
    print(f"repeats: {args.repeats}")
    for k in ("plain", "trainer", "gui"):
        print(f"{k}_images_per_s: {med[k]:.0f}")
        print(f"{k}_images_per_s_runs: {' '.join(f'{v:.0f}' for v in results[k])}")
    print(f"trainer_ratio: {med['trainer'] / med['plain']:.3f}")
    print(f"gui_ratio: {med['gui'] / med['plain']:.3f}")
    print(f"trainer_ratio_paired: {paired['trainer']:.3f}")
    print(f"gui_ratio_paired: {paired['gui']:.3f}")
    for k in ("trainer", "gui"):
        low, high = median_interval(ratios[k])
        print(f"{k}_ratio_paired_ci95: {low:.3f}..{high:.3f}")
    # The host's wait for the next batch, as a share of the training time (on a GPU: time it may starve).
    print(f"trainer_data_wait_share: {statistics.median(DATA_WAIT[1:]):.4f}")
    print(f"ui_lag_ms_p99: {p99:.1f}")
    print(f"ui_lag_ms_max: {lags[-1] if lags else float('nan'):.1f}")
    dock.close()
    dock.deleteLater()
    app.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
