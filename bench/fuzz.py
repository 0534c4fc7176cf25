"""Fuzzing project files: every preset mutated many ways, each mutant checked as `studio check` and `studio code` would.

Each mutant is read (`io.loads`), analysed, and, when it has no problem, turned
into Python source that must parse. Prints one figure a line:

    files               mutants checked (per preset x presets)
    tracebacks          mutants that raised anything but a StudioError   (target 0)
    hangs               mutants that took longer than --timeout seconds  (target 0)
    accepted_nonsense   mutants that must not pass but were reported clean (target 0)
    refused, problems, clean   how the others ended
    median_ms, p99_ms, max_ms  wall time per mutant; wall_s, cpu_s  of the whole run

A mutation is *nonsense* when the file it makes must not pass whatever the
preset (a node name that is not a name, a wire to nothing, a size below its
minimum, a repeat out of 1..1000, NaN, a format from the future...); *neutral*
ones (moving, renaming to a fresh name, reordering, a valid value) carry no
expectation. With --show N the first N failures of each kind are printed.

    python bench/fuzz.py [--per-preset 64] [--seed 0] [--timeout 10] [--show 3]
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import math
import random
import re
import signal
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio import catalog  # noqa: E402
from studio.compile import project_source  # noqa: E402
from studio.errors import StudioError  # noqa: E402
from studio.graph import Analyzer, io  # noqa: E402
from studio.presets import list_presets  # noqa: E402

BAD_NAMES = ["", "1abc", "a b", "a\nb", "a\x00b", "é-x", "a.b", "$x", "x" * 0]
BAD_SIZES = [0, -1, -7, 10 ** 30, 2.5, "abc", True, [], {}, [1, "x"]]
BAD_REPEATS = [0, -1, 1001, 2.5, "16", True, "$0", "$-1", "$1001", "$1000000000", "$2.5"]
BAD_EXPRESSIONS = ["$nope", "$1 // 0", "$" + "+".join(["1"] * 3000), "$" + "-" * 5000 + "1",
                   "$__import__('os')", "$a.b", "$2 ** 64", "$(", "$" + "(" * 300 + "1" + ")" * 300]
BIG_INT = "9" * 5000  # past Python's 4,300-digit limit for reading integers


def nodes_of(data: dict) -> list[tuple[dict, dict]]:
    """(network, node) for every node of every network and block."""
    nets = list(data.get("networks", {}).values()) + [b["network"] for b in data.get("blocks", {}).values()]
    return [(net, node) for net in nets for node in net.get("nodes", [])]


def size_params(node: dict) -> list[str]:
    """The node's integer parameters whose least allowed value is 1."""
    spec = catalog.REGISTRY.get(node.get("type"))
    if spec is None:
        return []
    return [p.name for p in spec.params if not p.inferred and p.kind in ("int", "ints", "shape")
            and p.min is not None and p.min >= 1]


def mutate(data: dict, rng: random.Random) -> tuple[str, bool, str | None]:
    """Changes `data` in place by one random mutation: (description, nonsense?, text override or None)."""
    pairs = nodes_of(data)
    net, node = rng.choice(pairs)
    kind = rng.choice(list(MUTATIONS))
    return MUTATIONS[kind](data, rng, net, node, pairs)


def _bad_name(data, rng, net, node, pairs):
    node["name"] = rng.choice(BAD_NAMES)
    return f"node name {node['name']!r}", True, None


def _duplicate(data, rng, net, node, pairs):
    others = [n for n in net["nodes"] if n is not node]
    key = rng.choice(["name", "id"])
    if not others or key not in node:
        return "nothing", False, None
    node[key] = rng.choice(others).get(key)
    return f"duplicate node {key} {node[key]!r}", True, None


def _unknown_type(data, rng, net, node, pairs):
    node["type"] = rng.choice(["Conv9d", "", "os.system", "__class__", 7])
    return f"layer type {node['type']!r}", True, None


def _missing_key(data, rng, net, node, pairs):
    key = rng.choice(["id", "type", "name"])
    node.pop(key, None)
    return f"node without '{key}'", True, None


def _bad_edge(data, rng, net, node, pairs):
    if not net.get("edges"):
        return "nothing", False, None
    edge = rng.choice(net["edges"])
    i = rng.choice([0, 1, 2, 3])
    edge[i] = rng.choice(["nope", "", 3, None])
    return f"edge part {i} {edge[i]!r}", True, None


def _self_edge(data, rng, net, node, pairs):
    net.setdefault("edges", []).append([node.get("id"), "out", node.get("id"), "in"])
    return "a node wired to itself", True, None


def _bad_size(data, rng, net, node, pairs):
    names = size_params(node)
    if not names:
        return "nothing", False, None
    key, value = rng.choice(names), rng.choice(BAD_SIZES)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and rng.random() < 0.5 and key != "shape":
        value = [value]
    node.setdefault("params", {})[key] = [value] if key == "shape" and not isinstance(value, list) else value
    return f"{node.get('type')} {key} = {node['params'][key]!r:.40}", True, None


def _bad_repeat(data, rng, net, node, pairs):
    blocks = [n for _, n in pairs if n.get("type") == "Block"]
    if not blocks:
        return "nothing", False, None
    target = rng.choice(blocks)
    target.setdefault("params", {})["repeat"] = rng.choice(BAD_REPEATS)
    return f"repeat {target['params']['repeat']!r}", True, None


def _bad_expression(data, rng, net, node, pairs):
    found = [(n, k) for _, n in pairs for k, v in n.get("params", {}).items() if isinstance(v, str) and v.startswith("$")]
    if not found:
        return "nothing", False, None
    target, key = rng.choice(found)
    target["params"][key] = rng.choice(BAD_EXPRESSIONS)
    return f"expression {target['params'][key][:30]!r}", True, None


def _not_a_number(data, rng, net, node, pairs):
    where = rng.choice(["param", "training", "block"])
    value = rng.choice([float("nan"), float("inf"), -float("inf")])
    if where == "param" and size_params(node):
        node.setdefault("params", {})[rng.choice(size_params(node))] = value
    elif where == "block" and data.get("blocks"):
        next(iter(data["blocks"].values()))["params"]["x"] = value
    else:
        data.setdefault("training", {})["lr"] = value
    return f"{value} in {where}", True, None


def _deep(data, rng, net, node, pairs):
    depth = rng.choice([100, 1000, 5000])
    text = json.dumps(data).replace('"metadata": {', '"metadata": {"deep": ' + "[" * depth + "]" * depth + ", ", 1)
    return f"metadata nested {depth} deep", True, text


def _big_int(data, rng, net, node, pairs):
    names = size_params(node)
    if not names:
        return "nothing", False, None
    node.setdefault("params", {})[rng.choice(names)] = "BIG_INT_MARK"
    return "an integer of 5,000 digits", True, json.dumps(data).replace('"BIG_INT_MARK"', BIG_INT)


def _format(data, rng, net, node, pairs):
    data["format"] = rng.choice([2, 999, "1", None, 0, 1.5])
    return f"format {data['format']!r}", True, None


def _sections(data, rng, net, node, pairs):
    key = rng.choice(["blocks", "networks", "data", "training", "metadata"])
    data[key] = rng.choice([2.5, "16", [], None, 7])
    return f"'{key}' is {data[key]!r}", True, None


def _drop_input(data, rng, net, node, pairs):
    top = next(iter(data["networks"].values()))
    inputs = [n for n in top["nodes"] if n.get("type") == "Input"]
    if not inputs:
        return "nothing", False, None
    gone = inputs[0]
    top["nodes"].remove(gone)
    top["edges"] = [e for e in top["edges"] if gone["id"] not in (e[0], e[2])]
    return "the Input node removed", True, None


def _truncate(data, rng, net, node, pairs):
    text = json.dumps(data)
    cut = rng.randrange(1, len(text) - 1)
    return f"cut at {cut} of {len(text)}", True, text[:cut]


def _bad_block_param(data, rng, net, node, pairs):
    if not data.get("blocks"):
        return "nothing", False, None
    block = rng.choice(list(data["blocks"].values()))
    key = rng.choice(["repeat", "block", "__class__", "a b", "class", "1x", ""])
    block.setdefault("params", {})[key] = 1
    return f"block parameter {key!r}", True, None


def _move(data, rng, net, node, pairs):
    node["pos"] = [rng.uniform(-1e6, 1e6), rng.uniform(-1e6, 1e6)]
    return "moved", False, None


def _rename(data, rng, net, node, pairs):
    node["name"] = f"renamed_{rng.randrange(10 ** 6)}_" + rng.choice(["x", "é", "_", "ß"])
    return "renamed", False, None


def _shuffle(data, rng, net, node, pairs):
    rng.shuffle(net["nodes"])
    rng.shuffle(net.get("edges", []))
    return "nodes and edges reordered", False, None


def _drop_edge(data, rng, net, node, pairs):
    if net.get("edges"):
        net["edges"].remove(rng.choice(net["edges"]))
    return "an edge removed", False, None


def _metadata(data, rng, net, node, pairs):
    data.setdefault("metadata", {})["description"] = rng.choice(['x"""\nimport os\n"""', "\u2028", "é" * 1000, ""])
    data["name"] = rng.choice(['x"""\nimport os; os.system("true")\n"""', "None", "1x", "", "\\"])
    return "metadata and name text", False, None


MUTATIONS = {f.__name__[1:]: f for f in (
    _bad_name, _duplicate, _unknown_type, _missing_key, _bad_edge, _self_edge, _bad_size,
    _bad_repeat, _bad_expression, _not_a_number, _deep, _big_int, _format, _sections, _drop_input, _truncate,
    _bad_block_param, _move, _rename, _shuffle, _drop_edge, _metadata)}


class Hang(Exception):
    """A mutant that took longer than the timeout."""


class Nonsense(Exception):
    """A mutant reported clean that holds what no project may (NaN, a node name that is not a name)."""


def _alarm(signum, frame):
    raise Hang()


def check(text: str, timeout: float = 10.0) -> str:
    """How `studio check` and `studio code` end on this text: refused, problems or clean.

    A clean project must also hold only finite numbers and legal node names
    (else Nonsense), save and read back the same, and give Python source that
    parses. Raises Hang after `timeout` seconds, and whatever else went wrong
    (a traceback).
    """
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        try:
            project = io.loads(text, "<fuzz>")
        except StudioError:
            return "refused"
        analyzer = Analyzer(project)
        if any(analyzer.analyse(name).problems for name in project.networks):
            return "problems"
        data = io.to_dict(project)
        sane(data)
        assert io.to_dict(io.loads(io.dumps(project), "<saved>")) == data, "saved and read back differently"
        try:
            ast.parse(project_source(project, analyzer))
        except StudioError:
            return "refused"  # refused at compile time (memory), in words
        return "clean"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def sane(data: dict) -> None:
    """Nonsense unless every number is finite and every node name is a name."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
            if "type" in value and "name" in value and not re.fullmatch(r"[A-Za-z_]\w*", value["name"]):
                raise Nonsense(f"node name {value['name']!r}")
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, float) and not math.isfinite(value):
            raise Nonsense(f"{value} in a clean project")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-preset", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--show", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    counts = dict.fromkeys(("files", "tracebacks", "hangs", "accepted_nonsense", "refused", "problems", "clean"), 0)
    shown: dict[str, int] = {}
    times = []
    cpu, wall = time.process_time(), time.perf_counter()
    for preset in list_presets():
        base = json.loads(Path(preset.path).read_text(encoding="utf-8"))
        for _ in range(args.per_preset):
            data = copy.deepcopy(base)
            what, nonsense, text = mutate(data, rng)
            text = text if text is not None else json.dumps(data)
            counts["files"] += 1
            start = time.perf_counter()
            try:
                outcome = check(text, args.timeout)
            except Hang:
                outcome = "hangs"
            except Nonsense as e:
                outcome, what = "accepted_nonsense", f"{what}: {e}"
            except Exception as e:  # noqa: BLE001  the figure this bench exists for
                outcome, what = "tracebacks", f"{what}: {type(e).__name__}: {str(e)[:200]}"
            times.append((time.perf_counter() - start) * 1000)
            if outcome == "clean" and nonsense:
                outcome = "accepted_nonsense"
            counts[outcome] += 1
            if outcome in ("tracebacks", "hangs", "accepted_nonsense") and shown.get(outcome, 0) < args.show:
                shown[outcome] = shown.get(outcome, 0) + 1
                print(f"# {outcome}: {preset.name}: {what}", file=sys.stderr)
    for key, value in counts.items():
        print(f"{key}: {value}")
    times.sort()
    print(f"median_ms: {statistics.median(times):.1f}")
    print(f"p99_ms: {times[int(len(times) * 0.99)]:.1f}")
    print(f"max_ms: {times[-1]:.1f}")
    print(f"wall_s: {time.perf_counter() - wall:.1f}")
    print(f"cpu_s: {time.process_time() - cpu:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
