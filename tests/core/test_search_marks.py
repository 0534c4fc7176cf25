"""Search marks: set on the project, saved in the file, undone like any edit."""

import json

import pytest

from studio.errors import GraphError, ProjectFileError
from studio.graph import io
from studio.graph.history import Change
from studio.train.search_space import trial_project
from tests.core.helpers import lenet, residual_block_project

LR = ("setting", "training", "lr")
LOG_LR = {"kind": "log", "low": 1e-4, "high": 0.1}


def _fc1(project):
    return ("node", "main", project.network().by_name("fc1").id, "out_features")


def test_marks_round_trip_through_the_file_by_layer_name(tmp_path):
    project = lenet()
    project.set_search(LR, LOG_LR)
    project.set_search(_fc1(project), {"kind": "int", "low": 16, "high": 128, "step": 16})
    project.set_search(("setting", "training", "optimizer"), {"kind": "choice", "choices": ["adam", "sgd"]})
    io.save(project, tmp_path / "p.json")
    assert json.loads((tmp_path / "p.json").read_text())["search"] == {
        "training.lr": LOG_LR, "main/fc1.out_features": {"kind": "int", "low": 16, "high": 128, "step": 16},
        "training.optimizer": {"kind": "choice", "choices": ["adam", "sgd"]}}
    again = io.load(tmp_path / "p.json")
    assert again.search_marks() == project.search_marks()
    assert io.dumps(again) == io.dumps(project)


def test_a_project_without_marks_writes_no_search_section():
    assert "search" not in io.to_dict(lenet())


def test_a_renamed_layer_keeps_its_mark_and_a_deleted_one_loses_it():
    project = lenet()
    target = _fc1(project)
    project.set_search(target, {"kind": "int", "low": 8, "high": 64})
    project.network().rename(target[2], "hidden")
    assert list(io.to_dict(project)["search"]) == ["main/hidden.out_features"]
    project.network().remove_node(target[2])
    assert project.search_marks() == {}
    assert "search" not in io.to_dict(project)


def test_marking_and_unmarking_undo_and_redo():
    project = lenet()
    change, _ = Change.record(project, "search lr", lambda: project.set_search(LR, LOG_LR))
    assert [e[1] for e in change.events] == ["search_changed"]
    unmark, _ = Change.record(project, "unmark lr", lambda: project.set_search(LR, None))
    assert project.search_marks() == {}
    unmark.undo()
    assert project.search_marks() == {LR: LOG_LR}
    change.undo()
    assert project.search_marks() == {}
    change.redo()
    assert project.search_marks() == {LR: LOG_LR}


@pytest.mark.parametrize("spec, words", [
    ({"kind": "log", "low": 0, "high": 1}, "above 0"),
    ({"kind": "float", "low": 2, "high": 1}, "low < high"),
    ({"kind": "int", "low": 1.5, "high": 4}, "whole numbers"),
    ({"kind": "choice", "choices": ["adam"]}, "two or more"),
    ({"kind": "grid"}, "needs 'kind'"),
])
def test_bad_ranges_are_refused_in_plain_words(spec, words):
    with pytest.raises(GraphError, match=words):
        lenet().set_search(LR, spec)


def test_a_file_with_a_bad_mark_names_the_place():
    data = io.to_dict(lenet())
    data["search"] = {"training.lr": {"kind": "log", "low": -1, "high": 1}}
    with pytest.raises(ProjectFileError, match=r"search\.training\.lr.*above 0"):
        io.from_dict(data, "p.json")
    data["search"] = {"lr": LOG_LR}
    with pytest.raises(ProjectFileError, match="network/layer.param"):
        io.from_dict(data, "p.json")
    data["search"] = {"main/gone.out_features": LOG_LR}  # a layer deleted by an older version: dropped
    assert io.from_dict(data, "p.json").search_marks() == {}


def test_a_block_argument_is_marked_on_its_block_node_and_set_in_a_trial():
    project = residual_block_project()
    stage = project.network().by_name("stage").id
    project.set_search(("node", "main", stage, "width"), {"kind": "choice", "choices": [4, 8, 16]})
    again = io.from_dict(io.to_dict(project))
    assert io.to_dict(again)["search"] == {"main/stage.width": {"kind": "choice", "choices": [4, 8, 16]}}
    trial = trial_project(again, {"main/stage.width": 16})
    assert trial.network().node(stage).params["width"] == 16
    assert project.network().node(stage).params["width"] == 8  # the project itself is left as it was


def test_a_layer_inside_a_block_is_marked_by_block_name_and_changes_every_use_in_a_trial():
    from studio.compile import compile_network

    project = residual_block_project(repeat=2)
    conv1 = project.block("basic").network.by_name("conv1").id
    project.set_search(("node", "basic", conv1, "bias"), {"kind": "choice", "choices": [True, False]})
    data = io.to_dict(project)
    assert data["search"] == {"basic/conv1.bias": {"kind": "choice", "choices": [True, False]}}
    again = io.from_dict(data)
    assert list(again.search_marks()) == [("node", "basic", conv1, "bias")]

    def count(p):
        return sum(t.numel() for t in compile_network(p).parameters())

    without = trial_project(again, {"basic/conv1.bias": False})
    assert count(again) - count(without) == 2 * 8  # conv1's 8 biases, in both repeats of the block
    assert again.block("basic").network.node(conv1).params.get("bias", True) is True  # the project is left alone
    again.block("basic").network.remove_node(conv1)
    assert again.search_marks() == {}  # the mark goes with its layer
