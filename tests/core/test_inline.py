"""Ungrouping blocks, the flat view and finding nodes: same computation, one recorded change, every level searched."""

import pytest
import torch

from studio.catalog import BLOCK_TYPE
from studio.compile import compile_network
from studio.errors import GraphError
from studio.graph import Analyzer, io
from studio.graph.history import Change
from studio.graph.inline import find_nodes, flat_copy, substitute, ungroup
from studio.presets import presets_dir

from tests.core.helpers import residual_block_project


def _outputs_match(before, after, x):
    """Loads `before`'s weights into `after` (by order: ungrouping renames modules) and compares outputs."""
    a, b = compile_network(before), compile_network(after)
    ta, tb = a.state_dict(), b.state_dict()
    assert [v.shape for v in ta.values()] == [v.shape for v in tb.values()]
    b.load_state_dict(dict(zip(tb, ta.values())))
    a.eval(), b.eval()
    torch.testing.assert_close(a(x), b(x))


def test_ungroup_a_repeated_block_keeps_the_computation_and_undoes_in_one_change():
    project = residual_block_project(repeat=2)
    net = project.network()
    before = io.loads(io.dumps(project))
    stage = net.by_name("stage").id
    change, added = Change.record(project, "ungroup", lambda: ungroup(project, net, stage))
    project.check()
    assert stage not in net.nodes and len(added) == 2 * 7
    assert [net.node(i).name for i in added[:7]] == ["conv1", "bn1", "relu1", "conv2", "bn2", "add", "relu2"]
    assert net.node(added[7]).name == "stage_conv1"  # the second repetition's names are taken
    assert net.node(added[0]).params["out_channels"] == 8  # "$width" evaluated with the node's argument
    report = Analyzer(project).analyse()
    assert report.ok and report.total_params == Analyzer(before).analyse().total_params
    _outputs_match(before, project, torch.randn(2, 3, 8, 8))
    change.undo()
    project.check()
    assert net.node(stage).type == BLOCK_TYPE and len(net.nodes) == len(before.network().nodes)


def test_ungroup_refuses_a_layer():
    project = residual_block_project()
    with pytest.raises(GraphError, match="not a block"):
        ungroup(project, project.network(), project.network().by_name("stem").id)


def test_expressions_follow_the_arguments_or_the_outer_block():
    assert substitute("$width * 4", {"width": 8}) == 32
    assert substitute(["$k", 1], {"k": 3}) == [3, 1]
    assert substitute("$width * 4", {"width": "$w * 2"}) == "$(w * 2) * 4"
    assert substitute("$classes", {"width": 8}) == "$classes"
    assert substitute("$act", {"act": "relu"}) == "relu"


def test_flat_copy_of_inception_has_no_blocks_and_the_same_parameters():
    project = io.load(presets_dir() / "inception_v3.json")
    flat = flat_copy(project)
    net = flat.network()
    assert not any(n.type == BLOCK_TYPE for n in net.nodes.values())
    assert len(net.nodes) > 200
    assert Analyzer(flat).analyse().total_params == Analyzer(project).analyse().total_params
    assert any(n.type == BLOCK_TYPE for n in project.network().nodes.values())  # the original is untouched


def test_find_a_node_inside_blocks_with_the_way_down():
    project = residual_block_project()
    found = find_nodes(project, "BN2")
    assert [(f.where, f.name) for f in found] == [("main › stage", "bn2")]
    assert found[0].levels == (("net", "main", None), ("block", "basic", project.network().by_name("stage").id))
    names = [f.name for f in find_nodes(project, "conv")]
    assert names == ["conv1", "conv2"]  # the network's own nodes would come first; "stem" does not match
    assert [f.name for f in find_nodes(project, "stage")] == ["stage"]
    assert find_nodes(project, "  ") == [] and find_nodes(project, "nothing") == []


def test_expand_in_place_then_collapse_back_restores_the_block_and_its_wires():
    from studio.graph.inline import collapse_back, expand

    project = residual_block_project(repeat=2)
    net = project.network()
    stage = net.by_name("stage").id
    wires = {(e.src, e.src_port, e.dst, e.dst_port) for e in net.edges}
    group = expand(project, net, stage)
    assert stage not in net.nodes and Analyzer(project).analyse().ok
    # Moving a layer is fine; the block comes back with its id, arguments and wires.
    net.move(group.node_ids[0], (999, 999))
    change, back = Change.record(project, "collapse back", lambda: collapse_back(net, group))
    assert back == stage and net.node(stage).params == {"block": "basic", "repeat": 2, "width": 8}
    assert {(e.src, e.src_port, e.dst, e.dst_port) for e in net.edges} == wires
    project.check()
    change.undo()
    # Once a layer's parameters change, the layers are no longer that block.
    net.set_params(group.node_ids[0], {"out_channels": 4})
    with pytest.raises(GraphError, match="changed since it was expanded"):
        collapse_back(net, group)


def test_an_expanded_block_record_survives_the_file_and_a_damaged_one_is_ignored():
    from studio.graph import io
    from studio.graph.expanded_state import EXPANDED_KEY, remember, remembered
    from studio.graph.inline import collapse_back, expand
    from studio.presets import presets_dir

    project = io.load(presets_dir() / "resnet18.json")
    net = project.network()
    group = expand(project, net, net.by_name("layer1").id)
    remember(project, "net:main", net, group)
    again = io.loads(io.dumps(project))
    (back,) = remembered(again, "net:main")
    assert back == group
    collapse_back(again.network(), back)  # the fingerprint still matches after the round trip
    again.check()
    project.metadata[EXPANDED_KEY] = {"net:main": [{"node": "?"}, 3]}
    assert remembered(project, "net:main") == [] and remembered(project, "block:basic") == []
