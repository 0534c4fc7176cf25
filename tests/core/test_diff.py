"""Comparing runs: the architecture diff of two projects, the settings side by side, `studio diff`."""

import json

import pytest

from studio.errors import TrainingError
from studio.graph import io
from studio.graph.diff import describe, diff_networks, diff_projects
from studio.presets import resolve
from studio.train.run_copy import PROJECT_FILE, load_run_project, save_run_project
from studio.train.run_diff import compare_runs, diff_text

from tests.core.helpers import lenet, residual_block_project
from tests.core.test_cli import studio


def test_one_changed_layer_is_the_only_difference():
    old, new = lenet(), lenet()
    net = new.network()
    net.set_params(net.by_name("fc1").id, {"out_features": 64})
    [graph] = diff_projects(old, new)
    assert (graph.kind, graph.name) == ("network", "main")
    assert not (graph.added or graph.removed or graph.wires_added or graph.wires_removed)
    [change] = graph.changed
    assert (change.name, change.type, change.params) == ("fc1", "Linear", {"out_features": [120, 64]})
    assert describe(graph) == ["~ changed fc1 (Linear): out_features 120 → 64"]
    assert diff_projects(old, lenet()) == []  # the same architecture: nothing


def test_added_removed_and_rewired_nodes_with_their_wires():
    old, new = lenet(), lenet()
    net = new.network()
    relu = net.by_name("relu3")
    fc1, fc2 = net.by_name("fc1"), net.by_name("fc2")
    net.remove_node(relu.id)
    drop = net.add_node("Dropout", "drop", {"p": 0.3})
    net.connect(fc1.id, "out", drop, "in")
    net.connect(drop, "out", fc2.id, "in")
    graph = diff_networks(old.network(), net)
    assert [(n.name, n.type, n.params) for n in graph.added] == [("drop", "Dropout", {"p": 0.3})]
    assert [(n.name, n.type) for n in graph.removed] == [("relu3", "ReLU")]
    assert graph.changed == []
    assert graph.wires_added == ["drop.out -> fc2.in", "fc1.out -> drop.in"]
    assert graph.wires_removed == ["fc1.out -> relu3.in", "relu3.out -> fc2.in"]
    assert json.loads(json.dumps(graph.to_dict()))["added"][0]["name"] == "drop"


def test_a_node_replaced_under_its_name_reads_as_changed():
    old, new = lenet(), lenet()
    net = new.network()
    relu = net.by_name("relu3")
    net.remove_node(relu.id)
    gelu = net.add_node("GELU", "relu3", {})
    net.connect(net.by_name("fc1").id, "out", gelu, "in")
    net.connect(gelu, "out", net.by_name("fc2").id, "in")
    [graph] = diff_projects(old, new)
    assert not (graph.added or graph.removed or graph.wires_added or graph.wires_removed)
    [change] = graph.changed
    assert (change.old_type, change.type) == ("ReLU", "GELU")


def test_block_definitions_and_whole_networks_are_compared():
    old, new = residual_block_project(), residual_block_project()
    inner = new.blocks["basic"].network
    inner.set_params(inner.by_name("conv1").id, {"kernel_size": 5, "padding": 2})
    new.add_network("extra").add_node("Input", "x", {"shape": [4]})
    diffs = {(d.kind, d.name): d for d in diff_projects(old, new)}
    assert set(diffs) == {("block", "basic"), ("network", "extra")}
    assert diffs["block", "basic"].changed[0].params == {"kernel_size": [3, 5], "padding": [1, 2]}
    assert [n.name for n in diffs["network", "extra"].added] == ["x"]


def test_a_run_folder_keeps_its_project_and_refuses_without_one(tmp_path):
    project = lenet()
    save_run_project(tmp_path / "run", project, {"lr": 0.1}, {"source": "digits"})
    project.network().set_params(project.network().by_name("fc1").id, {"out_features": 7})  # edited afterwards
    kept = load_run_project(tmp_path / "run")
    assert kept.network().by_name("fc1").params["out_features"] == 120
    assert (kept.training, kept.data) == ({"lr": 0.1}, {"source": "digits"})
    (tmp_path / "old").mkdir()
    with pytest.raises(TrainingError, match=f"holds no {PROJECT_FILE}"):
        load_run_project(tmp_path / "old")


def test_settings_side_by_side_with_defaults_and_differences(tmp_path):
    for name, training, data in (("a", {"lr": 0.1}, {"source": "digits", "augment": {"flip": True}}),
                                 ("b", {"lr": 0.1, "optimizer": "sgd"}, {"source": "digits"})):
        save_run_project(tmp_path / name, lenet(), training, data)
    diff = compare_runs(tmp_path / "a", tmp_path / "b")
    rows = {r.key: (r.a, r.b, r.differs) for r in diff.settings}
    assert rows["lr"] == (0.1, 0.1, False)
    assert rows["optimizer"] == ("adam", "sgd", True)  # A left it out: its default
    assert rows["data.augment.flip"] == (True, None, True)
    assert diff.architecture == [] and "architecture: the same" in diff_text(diff)
    assert "* optimizer" in diff_text(diff)


def test_studio_diff_of_two_lenet5_runs_names_exactly_the_changed_layer(tmp_path):
    project = io.load(resolve("lenet5"))
    io.save(project, tmp_path / "a.json")
    net = project.network()
    net.set_params(net.by_name("fc2").id, {"out_features": 50})
    io.save(project, tmp_path / "b.json")
    for name in ("a", "b"):
        run = studio("train", str(tmp_path / f"{name}.json"), "--epochs", "1", "--set", "data.max_samples=200",
                     "--out", str(tmp_path / f"run_{name}"))
        assert run.returncode == 0, run.stderr
    out = studio("diff", str(tmp_path / "run_a"), str(tmp_path / "run_b"))
    assert out.returncode == 0, out.stderr
    arch = [line.strip() for line in out.stdout.split("architecture:")[1].split("\n\n")[0].strip().splitlines()]
    assert arch == ["network main", "~ changed fc2 (Linear): out_features 84 → 50"]
    data = json.loads(studio("diff", str(tmp_path / "run_a"), str(tmp_path / "run_b"), "--json").stdout)
    [graph] = data["architecture"]
    assert graph["changed"] == [{"id": net.by_name("fc2").id, "name": "fc2", "type": "Linear", "old_name": "fc2",
                                 "old_type": "Linear", "params": {"out_features": [84, 50]}}]
    assert not any(r["differs"] for r in data["settings"])
    missing = studio("diff", str(tmp_path / "run_a"), str(tmp_path / "nowhere"))
    assert missing.returncode == 1 and "no such run folder" in missing.stderr and "Traceback" not in missing.stderr
