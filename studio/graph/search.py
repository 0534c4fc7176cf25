"""Search marks: which values of a project a sweep may change, and over what.

A mark pairs a *target* with a *range*. In memory a target is a tuple, and a
node is named by its id so renaming a layer keeps its mark:

    ("setting", "training" | "data", key)        a training or data setting
    ("node", network, node_id, param)            a layer parameter, or a Block node's argument;
                                                 ``network`` may name a block definition: a layer
                                                 inside the block, in every place the block is used

In a file, on the command line and in a sweep's tables a target is a text:
``training.lr``, ``data.val_split``, ``main/fc1.out_features`` (network/node.param;
``Bottleneck/conv1.out_channels`` for a layer in block ``Bottleneck``).

A range is a JSON object, one of:

    {"kind": "float",  "low": a, "high": b}       uniform between a and b
    {"kind": "log",    "low": a, "high": b}       log-uniform, 0 < a < b
    {"kind": "int",    "low": a, "high": b, "step": s}   whole numbers a..b (step 1 by default)
    {"kind": "choice", "choices": [v, ...]}        one of two or more plain values

`checked_range` refuses anything else with a `GraphError` that says what to write.
"""

from __future__ import annotations

import math
import re

from studio.errors import GraphError

KINDS = ("float", "log", "int", "choice")
SETTING_SECTIONS = ("training", "data")
_NODE_TEXT = re.compile(r"^(\w+)/(\w+)\.(\w+)$")
_SETTING_TEXT = re.compile(r"^(training|data)\.(\w+)$")


def checked_range(spec) -> dict:
    """A copy of `spec` if it is a valid range (see the module docstring); GraphError otherwise."""
    if not isinstance(spec, dict) or spec.get("kind") not in KINDS:
        raise GraphError(f"a search range needs 'kind', one of {', '.join(KINDS)}; got {spec!r:.80}")
    kind = spec["kind"]
    if kind == "choice":
        choices = spec.get("choices")
        if not isinstance(choices, list) or len(choices) < 2 or not all(_plain(c) for c in choices):
            raise GraphError("a 'choice' search range needs 'choices': "
                             "a list of two or more numbers, texts or true/false")
        return {"kind": kind, "choices": list(choices)}
    low, high = spec.get("low"), spec.get("high")
    number = int if kind == "int" else (int, float)
    if not all(isinstance(v, number) and not isinstance(v, bool) and math.isfinite(v) for v in (low, high)):
        what = "whole numbers" if kind == "int" else "numbers"
        raise GraphError(f"a '{kind}' search range needs 'low' and 'high' as {what}; got {low!r:.20}, {high!r:.20}")
    if not low < high:
        raise GraphError(f"a '{kind}' search range needs low < high; got {low} and {high}")
    if kind == "log" and low <= 0:
        raise GraphError(f"a 'log' search range needs low above 0; got {low}")
    out = {"kind": kind, "low": low, "high": high}
    if kind == "int" and spec.get("step", 1) != 1:
        step = spec["step"]
        if not isinstance(step, int) or isinstance(step, bool) or step < 1:
            raise GraphError(f"an 'int' search range's 'step' must be a whole number above 0; got {step!r:.20}")
        out["step"] = step
    return out


def _plain(value) -> bool:
    return isinstance(value, (bool, int, str)) or (isinstance(value, float) and math.isfinite(value))


def checked_target(target) -> tuple:
    """`target` as a tuple if it has one of the two forms; GraphError otherwise."""
    target = tuple(target) if isinstance(target, (list, tuple)) else ()
    ok = (len(target) == 3 and target[0] == "setting" and target[1] in SETTING_SECTIONS
          and isinstance(target[2], str) and target[2].isidentifier()) or \
         (len(target) == 4 and target[0] == "node" and all(isinstance(t, str) and t for t in target[1:]))
    if not ok:
        raise GraphError(f"{target!r:.80} is not a search target: ('setting', 'training', key) "
                         "or ('node', network, node id, parameter)")
    return target


def target_text(project, target: tuple) -> str:
    """How files and tables name a target: ``training.lr`` or ``main/fc1.out_features``."""
    if target[0] == "setting":
        return f"{target[1]}.{target[2]}"
    _, network, node_id, param = target
    return f"{network}/{project.any_network(network).node(node_id).name}.{param}"


def is_target_text(text) -> bool:
    """True when `text` has the form of a target (whether or not it names something in a project)."""
    return isinstance(text, str) and bool(_SETTING_TEXT.match(text) or _NODE_TEXT.match(text))


def target_from_text(project, text: str) -> tuple:
    """The target a text names; GraphError when it names no setting section or no layer."""
    found = _SETTING_TEXT.match(text or "")
    if found:
        return ("setting", found[1], found[2])
    found = _NODE_TEXT.match(text or "")
    if not found:
        raise GraphError(f"{text!r:.60} names nothing to search: write training.KEY, data.KEY or network/layer.param")
    network, name, param = found.groups()
    if network not in project.networks and network not in project.blocks:
        raise GraphError(f"search mark '{text}': the project has no network or block '{network}'")
    try:
        node = project.any_network(network).by_name(name)
    except GraphError:
        raise GraphError(f"search mark '{text}': '{network}' has no layer '{name}'") from None
    return ("node", network, node.id, param)


def current_value(project, target: tuple):
    """The value the target has now in `project` (None when it is unset, i.e. the default)."""
    if target[0] == "setting":
        return getattr(project, target[1]).get(target[2])
    _, network, node_id, param = target
    return project.any_network(network).node(node_id).params.get(param)


def apply_value(project, target: tuple, value) -> None:
    """Sets the target to `value` in `project` with the model's own primitives (so it is checked as an edit is)."""
    if target[0] == "setting":
        project.set_setting(target[1], target[2], value)
    else:
        _, network, node_id, param = target
        project.any_network(network).set_params(node_id, {param: value})


def describe(spec: dict) -> str:
    """A range in a few words: ``1e-4 … 0.1 (log)``, ``16 … 128 (int)``, ``one of adam, sgd``."""
    if spec["kind"] == "choice":
        return "one of " + ", ".join(str(c) for c in spec["choices"])
    step = f", step {spec['step']}" if spec.get("step", 1) != 1 else ""
    return f"{spec['low']:g} … {spec['high']:g} ({spec['kind']}{step})"
