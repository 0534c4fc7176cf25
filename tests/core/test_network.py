"""Network mutations: each primitive changes the state, then sends one event; bad edits are refused."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studio.errors import GraphError
from studio.graph import Edge, Project

from tests.core.helpers import LENET, chain, lenet


def events_of(net):
    seen = []
    for name in ("node_added", "node_removed", "edge_added", "edge_removed", "params_changed", "node_renamed", "node_moved"):
        getattr(net, name).connect(lambda *args, name=name: seen.append((name, *args)))
    return seen


def test_primitives_send_past_tense_events_with_plain_values():
    net = Project().add_network()
    seen = events_of(net)
    a = net.add_node("Input", "x", {"shape": [4]})
    b = net.add_node("Linear", "fc", {"out_features": 3})
    e = net.connect(a, "out", b, "in")
    net.set_params(b, {"out_features": 5})
    net.rename(b, "head")
    net.move(b, (10, 20))
    net.disconnect(e)
    removed = net.remove_node(b)
    assert [s[0] for s in seen] == ["node_added", "node_added", "edge_added", "params_changed", "node_renamed",
                                    "node_moved", "edge_removed", "node_removed"]
    assert seen[3] == ("params_changed", b, {"out_features": 3}, {"out_features": 5})
    assert seen[4] == ("node_renamed", b, "fc", "head")
    assert seen[5] == ("node_moved", b, (0.0, 0.0), (10.0, 20.0))
    assert removed.name == "head" and seen[-1][1].name == "head"
    net.check()


def test_removing_a_node_disconnects_its_edges_first():
    project = lenet()
    net = project.network()
    seen = events_of(net)
    net.remove_node(net.by_name("relu1").id)
    assert [s[0] for s in seen] == ["edge_removed", "edge_removed", "node_removed"]
    net.check()


def test_cycles_taken_inputs_and_unknown_ports_are_refused_with_a_message():
    net = Project().add_network()
    last = chain(net, [("Input", "x", {"shape": [4]}), ("Linear", "a", {}), ("ReLU", "b", {})])
    first = net.by_name("a").id
    add = net.add_node("Add", "add")
    net.connect(last, "out", add, "a")
    with pytest.raises(GraphError, match="cycle"):
        net.connect(add, "out", add, "b")
    with pytest.raises(GraphError, match="cycle"):
        relu = net.add_node("ReLU", "r")
        net.connect(add, "out", relu, "in")
        net.connect(relu, "out", add, "b")
    with pytest.raises(GraphError, match="already connected"):
        net.connect(net.by_name("x").id, "out", first, "in")
    with pytest.raises(GraphError, match="no input port 'query'"):
        net.connect(first, "out", last, "query")
    with pytest.raises(GraphError, match="no output port"):
        net.connect(last, "nope", first, "in")
    net.check()
    assert len(net.edges) == 4


def test_bad_parameter_values_and_duplicate_names_are_refused():
    net = Project().add_network()
    c = net.add_node("Conv2d", "conv")
    with pytest.raises(GraphError, match="at least 1"):
        net.set_params(c, {"out_channels": 0})
    with pytest.raises(GraphError, match="one of"):
        net.set_params(c, {"padding_mode": "mirror"})
    with pytest.raises(GraphError, match="no parameter 'width'"):
        net.set_params(c, {"width": 3})
    with pytest.raises(GraphError, match="already has a node named"):
        net.add_node("ReLU", "conv")
    with pytest.raises(GraphError, match="not a valid name"):
        net.rename(c, "2 convs")
    assert net.node(c).params == {}


def test_fewer_ports_disconnect_the_wires_to_ports_that_vanish():
    net = Project().add_network()
    cat = net.add_node("Concat", "cat", {"inputs": 3})
    for i in range(3):
        net.connect(net.add_node("Input", f"x{i}", {"shape": [2]}), "out", cat, f"in{i}")
    seen = events_of(net)
    net.set_params(cat, {"inputs": 2})
    assert [s[0] for s in seen] == ["edge_removed", "params_changed"]
    assert sorted(e.dst_port for e in net.edges) == ["in0", "in1"]
    net.check()


def test_changing_the_network_from_inside_a_callback_is_refused():
    net = Project().add_network()
    errors = []

    def meddle(node_id):
        try:
            net.remove_node(node_id)
        except GraphError as e:
            errors.append(str(e))

    net.node_added.connect(meddle)
    nid = net.add_node("ReLU")
    assert nid in net.nodes and errors and "callbacks" in errors[0]


def test_topological_order_puts_inputs_first_and_unique_names_count_up():
    project = lenet()
    net = project.network()
    order = [net.nodes[i].name for i in net.topological_order()]
    assert order == [name for _, name, _ in LENET]
    assert net.unique_name("conv1") == "conv3"  # conv1 and conv2 are taken
    assert net.unique_name("relu") == "relu"
    assert net.unique_name("conv2d") == "conv2d"
    net.add_node("Conv2d", "conv2d")
    assert net.unique_name("conv2d") == "conv2d_2"


def lowest_free_name(base: str, used) -> str:
    """unique_name's rule, the slow way: the lowest number from 2 up that no node has."""
    if base not in used:
        return base
    prefix = base + "_" if any(ch.isdigit() for ch in base) else base
    return next(f"{prefix}{i}" for i in range(2, len(used) + 3) if f"{prefix}{i}" not in used)


edits = st.lists(st.tuples(st.sampled_from(["add", "add", "remove", "rename"]),
                           st.sampled_from(["ReLU", "Tanh", "Conv2d"]), st.integers(0, 50)), max_size=60)


@settings(max_examples=60, deadline=None)
@given(edits)
def test_unique_name_gives_the_lowest_free_number_after_any_edits(steps):
    net = Project().add_network()
    for action, type_, k in steps:
        ids = list(net.nodes)
        if action == "add" or not ids:
            expected = lowest_free_name(type_.lower(), {n.name for n in net.nodes.values()})
            assert net.nodes[net.add_node(type_)].name == expected
        elif action == "remove":
            net.remove_node(ids[k % len(ids)])
        elif f"x{k}" not in {n.name for n in net.nodes.values()}:
            net.rename(ids[k % len(ids)], f"x{k}")
    net.check()


class CountingNames(dict):
    """The network's name index, counting how often a name is looked up."""

    lookups = 0

    def __contains__(self, name):
        self.lookups += 1
        return super().__contains__(name)


def test_adding_unnamed_nodes_looks_at_each_number_once():
    net = Project().add_network()
    for _ in range(300):
        net.add_node("ReLU")
    net._names = CountingNames(net._names)
    assert net.nodes[net.add_node("ReLU")].name == "relu301"
    assert net._names.lookups <= 3  # not relu2, relu3, ... relu300 first


def test_edges_are_values():
    assert Edge("a", "out", "b", "in") == Edge("a", "out", "b", "in")
