"""Fuzzing project files: any change to a real project file is refused, reported or works; nothing else.

Hypothesis replaces, deletes or adds values anywhere in the JSON of a small
project with blocks and expressions (and of a preset), from JSON-like values
and values known to be hostile. Every result must end as `studio check` and
`studio code` end (bench/fuzz.py's `check`): a refusal in words, problems, or
a clean project (finite numbers, legal names) that saves and reads back the
same and gives Python source that parses; within 10 s. bench/fuzz.py runs the
same check over every preset mutated 2,000 times and more.
"""

import copy
import json
import math
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings, strategies as st

from studio.graph import io
from studio.presets import resolve

from tests.core.helpers import residual_block_project

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from fuzz import check  # noqa: E402  the bench's verdict: refused, problems or clean, else it raises

BASES = {"blocks": io.to_dict(residual_block_project()),
         "mlp_xor": json.loads(resolve("mlp_xor").read_text(encoding="utf-8"))}
DEEP, BIG = "__DEEP__", "__BIG__"  # spliced into the text: nested 1,000 deep, an integer of 5,000 digits
HOSTILE = [None, True, False, 0, -1, 1001, 2.5, 10 ** 30, "", "x", "$width", "$nope", "$0", "$width * 1000000000",
           "$1000000000", "$-1", "$1001", DEEP, BIG,
           "$" + "+".join(["1"] * 400), "1abc", "a\nb", "a\x00b", 'x"""\nimport os\n"""', "__class__", "Block",
           "Conv9d", "repeat", [], {}, [0], [-1], [1, 2], [[[[[[[[]]]]]]]], {"block": "basic"}, math.nan, math.inf]
values = st.one_of(st.sampled_from(HOSTILE), st.recursive(
    st.none() | st.booleans() | st.integers(-3, 2 ** 40) | st.floats(allow_nan=False, width=32) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6))


def paths(value, prefix=()) -> list[tuple]:
    """The path (keys and indexes) of every value inside `value`, `value` itself first."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, prefix + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += paths(item, prefix + (i,))
    return found


def mutated(data, edits) -> dict:
    data = json.loads(json.dumps(data))
    for where, in_params, action, value, key in edits:
        value = copy.deepcopy(value)  # the hostile values are shared between examples
        every = paths(data)
        inside = [p for p in every if "params" in p[:-1]]  # a layer's or a block's parameter values
        every = inside if in_params and inside else every
        path = every[where % len(every)]
        if not path:
            continue
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        if action == "set":
            parent[path[-1]] = value
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[key] = value
        else:
            parent.append(value)
    return data


def text_of(data: dict) -> str:
    return json.dumps(data).replace(f'"{DEEP}"', "[" * 1000 + "]" * 1000).replace(f'"{BIG}"', "9" * 5000)


edit = st.tuples(st.integers(0, 10 ** 6), st.booleans(), st.sampled_from(["set", "set", "delete", "add"]), values,
                 st.text(max_size=8))


@seed(17)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from(list(BASES)), edits=st.lists(edit, min_size=1, max_size=3))
def test_any_change_to_a_project_file_is_refused_reported_or_works(base, edits):
    assert check(text_of(mutated(BASES[base], edits))) in ("refused", "problems", "clean")


@pytest.mark.parametrize("base", list(BASES))
def test_the_unchanged_bases_are_clean(base):
    assert check(json.dumps(BASES[base])) == "clean"
