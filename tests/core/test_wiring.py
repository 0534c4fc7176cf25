"""Splicing a layer into a wire and replacing a wire: composed of primitives, one recorded change each."""

import pytest

from studio.errors import GraphError
from studio.graph import Analyzer, Edge
from studio.graph.history import Change
from studio.graph.wiring import detach, insert_on_wire, splice, why_not_wire, wire

from tests.core.helpers import lenet


def _edge(net, a, b):
    return next(e for e in net.edges if e.src == net.by_name(a).id and e.dst == net.by_name(b).id)


def test_batchnorm_spliced_between_conv1_and_relu1_undoes_in_one_change():
    project = lenet()
    net = project.network()
    old = _edge(net, "conv1", "relu1")
    change, nid = Change.record(project, "insert", lambda: insert_on_wire(net, old, "BatchNorm2d"))
    project.check()
    assert old not in net.edges
    assert {(e.src, e.dst) for e in net.edges if nid in (e.src, e.dst)} == {
        (net.by_name("conv1").id, nid), (nid, net.by_name("relu1").id)}
    report = Analyzer(project).analyse()
    assert report.ok and report.nodes[nid].outputs == {"out": (6, 28, 28)}
    assert report.nodes[nid].params == 12  # 6 weights + 6 biases: num_features was inferred
    change.undo()
    project.check()
    assert old in net.edges and nid not in net.nodes


def test_splice_makes_room_along_the_flow_and_picks_the_required_input():
    project = lenet()
    net = project.network()
    conv1, relu1 = net.by_name("conv1"), net.by_name("relu1")
    net.move(relu1.id, (conv1.pos[0] + 150, conv1.pos[1]))
    before = {n.id: n.pos for n in net.nodes.values()}
    nid = insert_on_wire(net, _edge(net, "conv1", "relu1"), "Dropout")
    new = net.node(nid).pos
    assert conv1.pos[0] < new[0] < net.node(relu1.id).pos[0] and new[1] == conv1.pos[1]
    assert net.node(relu1.id).pos[0] - new[0] >= 132  # the cards do not overlap
    assert net.node(net.by_name("image").id).pos == before[net.by_name("image").id]
    # A layer with an optional second input takes the wire on its required one.
    attn = insert_on_wire(net, _edge(net, "fc1", "relu3"), "MultiheadAttention")
    assert set(net.incoming(attn)) == {"query"}


def test_a_node_spliced_from_elsewhere_lands_between_the_ends_and_overlaps_nothing():
    project = lenet()
    net = project.network()
    pool1, conv2 = net.by_name("pool1"), net.by_name("conv2")
    far = net.add_node("LeakyReLU", "leaky", {}, (900.0, 900.0))
    splice(net, _edge(net, "pool1", "conv2"), far)
    at = net.node(far).pos
    axis = 0 if abs(conv2.pos[0] - pool1.pos[0]) >= abs(conv2.pos[1] - pool1.pos[1]) else 1
    assert pool1.pos[axis] < at[axis] < net.node(conv2.id).pos[axis]
    assert net.node(conv2.id).pos[axis] - at[axis] >= (132 if axis == 0 else 60)  # conv2 was pushed on


def test_input_and_output_nodes_cannot_go_on_a_wire():
    project = lenet()
    net = project.network()
    with pytest.raises(GraphError, match="no input"):
        insert_on_wire(net, _edge(net, "conv1", "relu1"), "Input")
    with pytest.raises(GraphError, match="no output"):
        insert_on_wire(net, _edge(net, "conv1", "relu1"), "Output")


def test_wire_replaces_the_wire_into_a_taken_input_but_refuses_a_cycle():
    project = lenet()
    net = project.network()
    image, relu1, pool1 = (net.by_name(n).id for n in ("image", "relu1", "pool1"))
    old = _edge(net, "conv1", "relu1")
    assert "already connected" in net.why_not_connect(Edge(image, "out", relu1, "in"))
    assert why_not_wire(net, Edge(image, "out", relu1, "in")) is None
    change, _ = Change.record(project, "replace", lambda: wire(net, Edge(image, "out", relu1, "in")))
    assert old not in net.edges and Edge(image, "out", relu1, "in") in net.edges
    project.check()
    change.undo()
    assert old in net.edges
    with pytest.raises(GraphError, match="cycle"):
        wire(net, Edge(pool1, "out", relu1, "in"))
    assert old in net.edges


def test_a_node_detached_from_its_chain_joins_the_chain_and_splices_elsewhere_in_one_change():
    project = lenet()
    net = project.network()
    relu3, target = net.by_name("relu3").id, _edge(net, "relu1", "pool1")
    before = set(net.edges)

    def action():
        detach(net, relu3)
        splice(net, target, relu3)
    change, _ = Change.record(project, "insert relu3", action)
    project.check()
    assert _edge(net, "fc1", "fc2") and _edge(net, "relu1", "relu3") and _edge(net, "relu3", "pool1")
    assert Analyzer(project).analyse().ok
    with pytest.raises(GraphError, match="an end of that wire"):
        splice(net, _edge(net, "relu3", "pool1"), relu3)
    change.undo()
    assert set(net.edges) == before
