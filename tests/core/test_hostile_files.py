"""Broken and hostile project files: each is refused or reported in plain words, never with a traceback."""

import copy
import json
import math
import time

import pytest

from studio import cli
from studio.errors import GraphError
from studio.graph import Project
from studio.presets import resolve


def preset(name: str) -> dict:
    return json.loads(resolve(name).read_text(encoding="utf-8"))


def node(data: dict, where: str, name: str) -> dict:
    """The node called `name` in a network ("main") or a block ("blocks.NAME")."""
    net = data["blocks"][where[7:]]["network"] if where.startswith("blocks.") else data["networks"][where]
    return next(n for n in net["nodes"] if n["name"] == name)


def edited(name: str, change) -> str:
    data = copy.deepcopy(preset(name))
    change(data)
    return json.dumps(data)


def set_param(where: str, name: str, key: str, value):
    return lambda d: node(d, where, name)["params"].__setitem__(key, value)


def contains_itself(d: dict) -> None:
    net = d["blocks"]["conv_bn"]["network"]
    net["nodes"].append({"id": "me", "type": "Block", "name": "me", "params": {"block": "conv_bn"}})
    net["edges"] = [e for e in net["edges"] if e[2] != "y"] + [["relu", "out", "me", "x"], ["me", "y", "y", "in"]]


def mlp_shape(shape):
    return edited("mlp_xor", set_param("main", "x", "shape", shape))


def check(tmp_path, text: str, capsys) -> tuple[int, str]:
    path = tmp_path / "p.json"
    path.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    code = cli.main(["check", str(path)])
    assert time.perf_counter() - start < 20
    out = capsys.readouterr()
    return code, out.out + out.err


# item 3: each of these ended in a Python traceback
FILES = {
    "nested 1,000 deep": ('{"format": 1, "name": ' + "[" * 1000 + "]" * 1000 + "}", "nested too deeply"),
    "integer of 5,000 digits": ('{"format": 1, "name": "a", "networks": {"main": {"nodes": [{"id": "x", "type": "Input", '
                                '"name": "x", "params": {"shape": [' + "9" * 5000 + "]}}]}}}", "4300 digits"),
    "block contains itself": (edited("resnet18", contains_itself), "block 'conv_bn' contains itself"),
    "3,000 terms": (edited("resnet18", set_param("blocks.stage", "rest", "repeat", "$" + "+".join(["1"] * 3000))),
                    "at most 200"),
    "5,000 minus signs": (edited("resnet18", set_param("blocks.stage", "rest", "repeat", "$" + "-" * 5000 + "1")),
                          "at most 200"),
    "blocks 2.5": (edited("resnet18", set_param("main", "layer2", "blocks", 2.5)),
                   "'repeat' must be a whole number from 1 to 1000, got 1.5"),
    "blocks text": (edited("resnet18", set_param("main", "layer2", "blocks", "16")), "arithmetic needs numbers"),
    "storage overflows": (mlp_shape([10 ** 6] * 4), "values per sample"),
    # item 4: limits hold for computed values
    "repeat $1000000000": (edited("resnet18", set_param("main", "layer1", "repeat", "$1000000000")),
                           "from 1 to 1000, got 1000000000"),
    "repeat $0": (edited("resnet18", set_param("main", "layer1", "repeat", "$0")), "from 1 to 1000, got 0"),
    "repeat $-1": (edited("resnet18", set_param("main", "layer1", "repeat", "$-1")), "from 1 to 1000, got -1"),
    "repeat $1001": (edited("resnet18", set_param("main", "layer1", "repeat", "$1001")), "from 1 to 1000, got 1001"),
    "text times a billion": (edited("resnet18", lambda d: (d["blocks"]["conv_bn"]["params"].__setitem__("s", "ab"),
                             set_param("blocks.conv_bn", "conv", "out_channels", "$s * 1000000000 * 8")(d))),
                             "arithmetic needs numbers, got 'ab'"),
    "a value past 2**63": (edited("resnet18", set_param("main", "layer1", "repeat", "$4611686018427387904 * 4")),
                           "out of range"),
    # item 5: what the editor refuses, the loader refuses
    "empty node name": (edited("mlp_xor", lambda d: node(d, "main", "hidden").__setitem__("name", "")),
                        "not a valid name"),
    "name starting with a digit": (edited("mlp_xor", lambda d: node(d, "main", "hidden").__setitem__("name", "1abc")),
                                   "not a valid name"),
    "name with a newline": (edited("mlp_xor", lambda d: node(d, "main", "hidden").__setitem__("name", "a\nb")),
                            "not a valid name"),
    "name with NUL": (edited("mlp_xor", lambda d: node(d, "main", "hidden").__setitem__("name", "a\x00b")),
                      "not a valid name"),
    "block parameter repeat": (edited("resnet18", lambda d: d["blocks"]["basic"]["params"].__setitem__("repeat", 1)),
                               "cannot be a parameter name"),
    "block parameter __class__": (edited("resnet18", lambda d: d["blocks"]["basic"]["params"].__setitem__("__class__", 1)),
                                  "cannot be a parameter name"),
    "block parameter 'a b'": (edited("resnet18", lambda d: d["blocks"]["basic"]["params"].__setitem__("a b", 1)),
                              "cannot be a parameter name"),
    "NaN block parameter": (edited("resnet18", lambda d: d["blocks"]["basic"]["params"].__setitem__("out", math.nan)),
                            "NaN is not a number"),
    "Infinity learning rate": (edited("mlp_xor", lambda d: d["training"].__setitem__("lr", math.inf)),
                               "Infinity is not a number"),
}


@pytest.mark.parametrize("case", list(FILES))
def test_a_hostile_file_is_refused_in_plain_words(case, tmp_path, capsys):
    text, expected = FILES[case]
    code, output = check(tmp_path, text, capsys)
    assert code in (1, 2) and expected in output
    assert "Traceback" not in output and len(output.splitlines()) <= 3


@pytest.mark.parametrize("shape", [[10 ** 5, 10 ** 5], [10 ** 6, 10 ** 6, 100], [10 ** 6] * 3])
def test_inputs_too_big_for_any_run_are_problems(shape, tmp_path, capsys):  # item 6: 10**10 to 10**18 values
    code, output = check(tmp_path, mlp_shape(shape), capsys)
    assert code == 1 and f"holds {math.prod(shape):,} values per sample" in output


def test_a_layer_output_too_big_is_a_problem(tmp_path, capsys):
    def upsample(d):
        set_param("main", "x", "shape", [1, 1000, 1000])(d)
        node(d, "main", "hidden").update(type="Upsample", params={"scale_factor": 64.0})
    code, output = check(tmp_path, edited("mlp_xor", upsample), capsys)
    assert code == 1 and "Upsample 'hidden' gives 4,096,000,000 values per sample (1×64000×64000)" in output


def test_the_editor_refuses_what_the_loader_refuses():
    project = Project()
    net = project.add_network()
    for bad in ("", "1abc", "a\nb", "a\x00b", "a b"):
        with pytest.raises(GraphError, match="not a valid name"):
            net.add_node("ReLU", bad)
    relu = net.add_node("ReLU", "relu")
    with pytest.raises(GraphError, match="not a valid name"):
        net.rename(relu, "a\nb")
    with pytest.raises(GraphError, match="finite number"):
        net.add_node("Dropout", "drop", {"p": math.nan})
    for key in ("repeat", "block", "__class__", "a b", "class"):
        with pytest.raises(GraphError, match="cannot be a parameter name"):
            project.add_block(f"b{abs(hash(key))}", {key: 1})
    block = project.add_block("ok", {"width": 4})
    for value in (math.nan, math.inf, True, [1]):
        with pytest.raises(GraphError, match="must be a number or a text"):
            project.set_block_params("ok", {"width": value})
    assert block.params == {"width": 4}
    for repeat in (0, -1, 1001, 2.5, "16"):
        with pytest.raises(GraphError, match="'repeat' must be a whole number"):
            net.add_node("Block", None, {"block": "ok", "repeat": repeat})


def test_a_huge_batch_size_is_a_plain_error(tmp_path, capsys):
    path = tmp_path / "p.json"
    path.write_text(edited("mlp_xor", lambda d: d["training"].__setitem__("batch_size", 10 ** 3999)))
    assert cli.main(["train", str(path), "--epochs", "1", "--out", str(tmp_path / "run")]) != 0
    err = capsys.readouterr().err
    assert "training.batch_size: must be an integer >= 1, got a number of 4000 digits" in err
    assert "Traceback" not in err
