"""Speed of analysis and compilation on a ResNet-152-sized graph (about 600 nodes), and how it grows.

Prints one `name: value` line per figure: full_analysis_ms, incremental_ms
(after changing one parameter in the last stage), compile_ms,
incremental_ratio (incremental over full), and the nodes and parameter count.
Targets: full analysis within 1 s on a 2-core machine, incremental_ratio <= 0.1.

Growth: the same kind of graph with one long stage of narrow bottlenecks, its
nodes added without names (as a script or an importer adds them), 1,000 and
10,000 nodes, built (add_node + connect) and compiled (analysis + fx), sizes
interleaved over ``--repeats``: ``build_N_ms`` and
``compile_N_ms`` (median wall time, with ``_cpu_ms`` beside it) and
``build_exponent`` / ``compile_exponent``, the k of time ~ nodes^k between the
two sizes (median over repeats of the per-repeat exponent, with its
lowest..highest as ``_spread``; ``_exponent_cpu`` from CPU time, which a busy
machine disturbs less). Target: both exponents <= 1.1 (linear).

Profile (`studio summary --profile`, torch.profiler): for LeNet-5 (batch 8)
and ResNet-18 (batch 2), interleaved over ``--repeats``, a plain timed
forward + backward of the same compiled model (``plain_step_NAME_ms``, the
median of 5 steps after a warm-up) beside ``profile_network``:
``profile_NAME_agreement`` is the profiled total (forward + backward summed
over the layers) over the plain step, ``profile_NAME_overhead`` the wall
time of one profiled pass (the whole call over its passes) over the plain
step, each a median with ``_spread`` (CPU-time ratio beside:
``_overhead_cpu``).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

from studio.compile import compile_network
from studio.compile.fx import example_inputs
from studio.graph import Analyzer, Project, io
from studio.presets import resolve

STAGES = ((3, 64), (8, 128), (36, 256), (3, 512))  # ResNet-152's bottleneck counts


def resnet_like(stages=STAGES) -> Project:
    """A flat chain of conv/BN/ReLU with a residual Add after every three convs."""
    project = Project("resnet_like")
    net = project.add_network("main")
    prev = net.add_node("Input", "image", {"shape": [3, 64, 64]})
    prev = _conv_bn_relu(net, prev, 64, stride=2, kernel=7, padding=3)
    for blocks, width in stages:
        prev = _conv_bn_relu(net, prev, width, kernel=1, padding=0)
        for _ in range(blocks):
            skip = prev
            for kernel in (1, 3, 1):
                prev = _conv_bn_relu(net, prev, width, kernel=kernel, padding=kernel // 2)
            add = net.add_node("Add")
            net.connect(skip, "out", add, "a")
            net.connect(prev, "out", add, "b")
            prev = add
    pool = net.add_node("GlobalAvgPool")
    net.connect(prev, "out", pool, "in")
    fc = net.add_node("Linear", params={"out_features": 1000})
    net.connect(pool, "out", fc, "in")
    out = net.add_node("Output")
    net.connect(fc, "out", out, "in")
    return project


def _conv_bn_relu(net, prev, width, stride=1, kernel=3, padding=1):
    for type_, params in (("Conv2d", {"out_channels": width, "kernel_size": kernel, "stride": stride,
                                      "padding": padding, "bias": False}),
                          ("BatchNorm2d", {}), ("ReLU", {})):
        node = net.add_node(type_, params=params)
        net.connect(prev, "out", node, "in")
        prev = node
    return prev


def growth(repeats: int, sizes=(1000, 10000)) -> None:
    """Build and compile times of `sizes` nodes, interleaved; prints times and exponents."""
    wall = {(step, n): [] for step in ("build", "compile") for n in sizes}
    cpu = {key: [] for key in wall}
    chain = {n: ((n - 10) // 10, 8) for n in sizes}  # one stage of narrow bottlenecks: 10 nodes each, 10 around
    for repeat in range(repeats):
        for n in sizes if repeat % 2 == 0 else sizes[::-1]:
            project = _timed(lambda: resnet_like((chain[n],)), wall["build", n], cpu["build", n])
            _timed(lambda: compile_network(project), wall["compile", n], cpu["compile", n])
            assert len(project.network().nodes) == n
    small, large = sizes
    for step in ("build", "compile"):
        for n in sizes:
            print(f"{step}_{n}_ms: {statistics.median(wall[step, n]) * 1000:.1f}")
            print(f"{step}_{n}_cpu_ms: {statistics.median(cpu[step, n]) * 1000:.1f}")
        for suffix, times in (("", wall), ("_cpu", cpu)):
            exponents = [math.log(b / a) / math.log(large / small)
                         for a, b in zip(times[step, small], times[step, large])]
            print(f"{step}_exponent{suffix}: {statistics.median(exponents):.3f}")
            print(f"{step}_exponent{suffix}_spread: {min(exponents):.3f}..{max(exponents):.3f}")


def _timed(fn, wall: list[float], cpu: list[float]):
    """fn(), appending its wall and CPU seconds to the lists."""
    w, c = time.perf_counter(), time.process_time()
    result = fn()
    wall.append(time.perf_counter() - w)
    cpu.append(time.process_time() - c)
    return result


def _ms(fn, repeat=5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def _plain_step(model, inputs) -> None:
    out = model(*inputs)
    out = out[0] if isinstance(out, (tuple, list)) else out
    out.float().mean().backward()
    model.zero_grad(set_to_none=True)


def profile_agreement(repeats: int, cases=(("lenet5", 8), ("resnet18", 2))) -> None:
    """The profiled total and the cost of profiling, each against a plain forward + backward (module docstring)."""
    from studio.train import layer_profile

    for name, batch in cases:
        project = io.load(resolve(name))
        model = compile_network(project).train()
        inputs = example_inputs(project, batch=batch)
        _plain_step(model, inputs)  # warm-up
        passes = layer_profile.REPEATS + 1
        figures: dict[str, list[float]] = {"plain": [], "agreement": [], "overhead": [], "overhead_cpu": []}
        for _ in range(repeats):
            wall, cpu = [], []
            for _ in range(5):
                _timed(lambda: _plain_step(model, inputs), wall, cpu)
            plain, plain_cpu = statistics.median(wall), statistics.median(cpu)
            pw, pc = [], []
            rows = _timed(lambda: layer_profile.profile_network(project, batch=batch, device="cpu"), pw, pc)
            total = sum(r["forward_ms"] + r["backward_ms"] for r in rows.values()) / 1000
            figures["plain"].append(plain)
            figures["agreement"].append(total / plain)
            figures["overhead"].append(pw[0] / passes / plain)
            figures["overhead_cpu"].append(pc[0] / passes / plain_cpu)
        print(f"plain_step_{name}_ms: {statistics.median(figures['plain']) * 1000:.2f}")
        for key in ("agreement", "overhead", "overhead_cpu"):
            values = figures[key]
            print(f"profile_{name}_{key}: {statistics.median(values):.3f}")
            print(f"profile_{name}_{key}_spread: {min(values):.3f}..{max(values):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="repeats of the growth figures")
    parser.add_argument("--profile-only", action="store_true", help="only the profile figures")
    args = parser.parse_args()
    if args.profile_only:
        profile_agreement(args.repeats)
        return
    project = resnet_like()
    net = project.network()
    Analyzer(project).analyse()  # warm up torch's meta kernels once, as an open app would have
    full = _ms(lambda: Analyzer(project).analyse())
    analyzer = Analyzer(project)
    analyzer.analyse()
    last_conv = [n for n in net.nodes.values() if n.type == "Conv2d"][-1]
    bias = iter([True, False] * 10)

    def edit_and_analyse():
        net.set_params(last_conv.id, {"bias": next(bias)})
        analyzer.analyse()

    incremental = _ms(edit_and_analyse)
    compile_ms = _ms(lambda: compile_network(project, analyzer=analyzer), repeat=3)
    report = analyzer.analyse()
    print(f"nodes: {len(net.nodes)}")
    print(f"params: {report.total_params}")
    print(f"full_analysis_ms: {full:.1f}")
    print(f"incremental_ms: {incremental:.1f}")
    print(f"compile_ms: {compile_ms:.1f}")
    print(f"incremental_ratio: {incremental / full:.3f}")
    growth(args.repeats)
    profile_agreement(args.repeats)


if __name__ == "__main__":
    main()
