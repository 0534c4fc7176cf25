"""Blocks: collapsing a selection keeps the computation; instances take arguments."""

import pytest
import torch

from studio.compile import compile_network
from studio.errors import GraphError
from studio.graph import Analyzer, io
from studio.graph.blocks import collapse, instantiate

from tests.core.helpers import lenet, residual_block_project


def test_collapse_keeps_shapes_parameters_and_outputs():
    project = lenet()
    net = project.network()
    before = compile_network(project)
    ids = [net.by_name(n).id for n in ("conv2", "relu2", "pool2")]
    block_id = collapse(project, net, ids, "features")
    project.check()
    assert set(project.block("features").ports()[0]) == {"x"}
    report = Analyzer(project).analyse()
    assert report.ok and report.total_params == 61706
    assert report.nodes[block_id].outputs == {"y": (16, 5, 5)}
    after = compile_network(project)
    state = {k.replace("features.", ""): v for k, v in after.state_dict().items()}
    assert set(state) == set(before.state_dict())
    before.load_state_dict(state)
    x = torch.randn(2, 1, 32, 32)
    torch.testing.assert_close(after(x), before(x))
    again = io.loads(io.dumps(project))
    assert Analyzer(again).analyse().total_params == 61706


def test_collapse_refuses_inputs_outputs_and_an_empty_selection():
    project = lenet()
    net = project.network()
    with pytest.raises(GraphError, match="Input or Output"):
        collapse(project, net, [net.by_name("image").id, net.by_name("conv1").id], "b")
    with pytest.raises(GraphError, match="select the nodes"):
        collapse(project, net, [], "b")


def test_instances_take_arguments_and_report_their_inside_problems():
    project = residual_block_project(repeat=1)
    net = project.network()
    stage = net.by_name("stage").id
    net.set_params(stage, {"width": 16})
    (problem,) = Analyzer(project).analyse().problems
    assert "stage" in str(problem) and "cannot combine" in str(problem)  # 8-channel skip + 16-channel path
    net.set_params(stage, {"width": 8, "repeat": 4})
    assert Analyzer(project).analyse().ok
    second = instantiate(project, net, "basic", width=8)
    assert net.nodes[second].params == {"block": "basic", "repeat": 1, "width": 8}
    assert net.ports(net.nodes[second]) == (("x",), ("y",))


def test_block_defaults_can_change_and_analysis_follows():
    project = residual_block_project(repeat=1)
    net = project.network()
    net.set_params(net.by_name("stage").id, {"width": None})  # no argument: the block's default applies
    assert "width" not in net.by_name("stage").params
    analyzer = Analyzer(project)
    assert analyzer.analyse().ok
    seen = []
    project.block_params_changed.connect(lambda *a: seen.append(a))
    project.set_block_params("basic", {"width": 16})
    assert seen == [("basic", {"width": 8}, {"width": 16})]
    assert not analyzer.analyse().ok  # 8-channel skip + 16-channel path
    with pytest.raises(GraphError, match="cannot be a parameter name"):
        project.set_block_params("basic", {"repeat": 2})
