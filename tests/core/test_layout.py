"""Auto-layout: one direction of flow, no wires against it, no cards on top of each other."""

import pytest

from studio import presets
from studio.graph import io
from studio.graph.layout import layered, lay_out_project
from studio.graph.layout_metrics import back_edges, crossings, overlaps

from tests.core.helpers import lenet, residual_block_project


def _apply(net, direction="down"):
    for nid, pos in layered(net, direction).items():
        net.move(nid, pos)


@pytest.mark.parametrize("direction", ["down", "right"])
def test_every_node_is_past_its_inputs(direction):
    net = residual_block_project().network()
    _apply(net, direction)
    assert back_edges(net, direction) == 0
    assert overlaps(net, direction) == 0


def test_a_long_chain_is_one_straight_column_without_wrapping():
    net = lenet().network()
    _apply(net)
    assert len({x for x, _ in (n.pos for n in net.nodes.values())}) == 1  # the old layout wrapped it into bands
    assert back_edges(net) == 0


def test_separate_pieces_sit_side_by_side():
    net = lenet().network()
    lone = net.add_node("ReLU", "lone")
    _apply(net)
    assert overlaps(net) == 0 and back_edges(net) == 0
    assert net.nodes[lone].pos[0] > max(n.pos[0] for n in net.nodes.values() if n.id != lone)


def test_unknown_direction_is_refused_plainly():
    with pytest.raises(ValueError, match="use one of down, right"):
        layered(lenet().network(), "up")


def test_every_preset_flows_down_without_back_edges_or_overlaps():
    for info in presets.list_presets():
        project = io.load(info.path)
        for net in project.all_networks():
            assert back_edges(net) == 0, (info.name, net.name)
            assert overlaps(net) == 0, (info.name, net.name)


def test_presets_files_hold_the_layout_they_would_get_now():
    project = io.load(presets.resolve("inception_v3"))
    before = {net.name: {n.id: n.pos for n in net.nodes.values()} for net in project.all_networks()}
    lay_out_project(project)
    assert before == {net.name: {n.id: n.pos for n in net.nodes.values()} for net in project.all_networks()}
    assert crossings(project.network()) == 0
