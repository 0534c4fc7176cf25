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
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

from studio.compile import compile_network
from studio.graph import Analyzer, Project

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="repeats of the growth figures")
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
