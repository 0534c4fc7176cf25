"""Legible at a glance: cards write every title and port name whole (measured with the UI font), wires keep off cards."""

import pytest
from PySide6.QtGui import QFontMetricsF

from studio.graph import io
from studio.graph.layout import MAX_NODE_W, flow_of, node_size
from studio.graph.summary import type_label
from studio.presets import presets_dir
from studio.ui import flow
from studio.ui.node_item import _fonts
from studio.ui.scene import NetworkScene

PRESETS = sorted(presets_dir().glob("*.json"))


@pytest.fixture
def restore_flow():
    yield
    flow.use("down")


@pytest.mark.parametrize("direction", ["down", "right"])
def test_no_title_type_or_port_name_of_a_preset_is_cut(qapp, restore_flow, direction):
    title, small = (QFontMetricsF(f) for f in _fonts())
    cut, unsized = [], []
    for path in PRESETS:
        project = io.load(path)
        flow.use(direction)
        for net in project.networks.values():
            scene = NetworkScene(net)
            for nid, item in scene.nodes.items():
                look, width = item.look, item.card().width()
                where = f"{path.stem}/{look.name}"
                assert width <= MAX_NODE_W
                if item.title_text() != look.name or title.horizontalAdvance(look.name) > width - 34:
                    cut.append((where, item.title_text()))
                if item.type_text() != type_label(net.nodes[nid]):
                    cut.append((where, item.type_text()))
                for side, ports in (("in", look.inputs), ("out", look.outputs)):
                    shown = [item.port_text(side, p) for p in ports]
                    if len(ports) > 1 and shown != list(ports):
                        cut.append((where, side, shown))
                for p in look.inputs if len(look.inputs) > 1 and direction == "down" else ():
                    if small.horizontalAdvance(p) > width / len(look.inputs) - 12:
                        cut.append((where, p))
                if node_size(net, nid, direction)[0] < width:  # the layout left the card less room than it takes
                    unsized.append(where)
            scene.detach()
    assert not cut
    assert not unsized


def test_a_name_past_the_maximum_width_is_elided_and_the_tooltip_has_it_whole(lenet):
    editor = lenet.editor
    nid = editor.network.by_name("conv1").id
    long = "a_convolution_whose_name_goes_on_and_on_far_past_any_card"
    editor.rename(nid, long)
    item = editor.scene.nodes[nid]
    assert item.card().width() == MAX_NODE_W
    assert item.title_text().endswith("…") and long.startswith(item.title_text()[:-1])
    assert item.toolTip().startswith(long)
    editor.rename(nid, "conv1_padding_mask")  # a name a little too long for the default card widens it
    assert 176 < item.card().width() < MAX_NODE_W and item.title_text() == "conv1_padding_mask"


def test_a_frozen_card_with_exploding_gradients_paints_its_halo(lenet):
    from PySide6.QtGui import QImage, QPainter

    item = lenet.editor.scene.nodes[lenet.editor.network.by_name("conv1").id]
    item.set_frozen(True)
    item.set_gradient("exploding")
    image = QImage(400, 200, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    try:
        item.paint(painter, None)  # called directly, so an error in it fails the test
    finally:
        painter.end()
    assert item.type_text() == "Conv2d · frozen" and item.title_text() == "conv1"


@pytest.mark.parametrize("direction", ["down", "right"])
def test_no_wire_of_a_preset_runs_through_a_card(qapp, restore_flow, direction):
    from PySide6.QtGui import QPainterPathStroker

    from studio.graph.layout import layered

    stroker = QPainterPathStroker()
    stroker.setWidth(2)
    through = []
    for path in PRESETS:
        project = io.load(path)
        flow.use(direction)
        for net in project.networks.values():
            if direction != flow_of(project):
                for nid, pos in layered(net, direction).items():
                    net.move(nid, pos)
            scene = NetworkScene(net)
            for edge, item in scene.edges.items():
                line = stroker.createStroke(item._path)
                through += [(path.stem, edge, nid) for nid, card in scene.nodes.items()
                            if nid not in (edge.src, edge.dst) and line.intersects(card.sceneBoundingRect().adjusted(6, 6, -6, -6))]
            scene.detach()
    assert not through  # the transformer's source padding ran behind encoder2 and encoder_norm to decoder1
