"""Auto-layout: data flows left to right, and long chains wrap."""

from studio.graph.layout import layered

from tests.core.helpers import lenet, residual_block_project


def test_every_node_is_right_of_its_inputs():
    project = residual_block_project()
    net = project.network()
    pos = layered(net)
    assert set(pos) == set(net.nodes)
    for e in net.edges:
        assert pos[e.dst][0] > pos[e.src][0]


def test_long_chains_wrap_into_bands():
    net = lenet().network()
    flat, wrapped = layered(net), layered(net, wrap=5)
    assert len({y for _, y in flat.values()}) == 1
    assert len({y for _, y in wrapped.values()}) > 1
    assert max(x for x, _ in wrapped.values()) < max(x for x, _ in flat.values())
