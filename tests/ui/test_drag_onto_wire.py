"""Dragging a node already on the canvas onto a wire splices it in (real mouse drags, undo)."""

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from studio.graph import Edge


def _wire(window, a: str, b: str) -> Edge:
    net = window.editor.network
    return next(e for e in net.edges if net.nodes[e.src].name == a and net.nodes[e.dst].name == b)


def _drag_card(window, node_id: str, to: QPoint, modifier=Qt.KeyboardModifier.NoModifier, check=None) -> None:
    """Presses on the card's title, moves in steps to `to` and releases; `check()` runs before the release."""
    view, item = window.view, window.editor.scene.nodes[node_id]
    start = view.mapFromScene(item.mapToScene(item.card().center()))
    vp = view.viewport()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, modifier, start)
    for i in range(1, 9):
        QTest.mouseMove(vp, start + (to - start) * (i / 8))
    if check is not None:
        check()
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, modifier, to)


def _over_wire(window, edge: Edge) -> QPoint:
    item = window.editor.scene.edges[edge]
    window.view.centerOn(item.label_rect().center())
    return window.view.mapFromScene(item.label_rect().center())


def test_dragging_a_free_layer_onto_a_wire_splices_it_in_one_undo_step(lenet):
    editor, net, scene = lenet.editor, lenet.editor.network, lenet.editor.scene
    old = _wire(lenet, "conv1", "relu1")
    target = scene.edges[old].label_rect().center()
    nid = editor.add_node("BatchNorm2d", (target.x() + 300, target.y()))
    name, stack, start = net.nodes[nid].name, editor.undo_stack, net.nodes[nid].pos
    depth = stack.count()
    marked = []
    _drag_card(lenet, nid, _over_wire(lenet, old),
               check=lambda: marked.append(scene._drop_mark is not None and scene._drop_mark.data(0) == old))
    assert marked == [True]  # the wire lit up while the card hovered over it
    assert scene._drop_mark is None
    assert old not in net.edges
    assert _wire(lenet, "conv1", name) and _wire(lenet, name, "relu1")
    assert stack.count() == depth + 1 and lenet.act_undo.text() == f"Undo insert {name} on conv1 → relu1"
    net.check()
    stack.undo()
    assert old in net.edges and not net.incoming(nid) and not net.outgoing(nid)
    assert (scene.nodes[nid].pos().x(), scene.nodes[nid].pos().y()) == net.nodes[nid].pos == start  # the move too
    stack.redo()
    assert _wire(lenet, "conv1", name)


def test_a_wired_layer_only_moves_unless_shift_detaches_it_first(lenet):
    editor, net, scene = lenet.editor, lenet.editor.network, lenet.editor.scene
    relu3 = net.by_name("relu3").id
    old = _wire(lenet, "conv1", "relu1")
    wires = set(net.edges)
    _drag_card(lenet, relu3, _over_wire(lenet, old))
    assert set(net.edges) == wires and lenet.act_undo.text() == "Undo move relu3"
    old = _wire(lenet, "relu1", "pool1")
    _drag_card(lenet, relu3, _over_wire(lenet, old), Qt.KeyboardModifier.ShiftModifier)
    assert _wire(lenet, "relu1", "relu3") and _wire(lenet, "relu3", "pool1")
    assert _wire(lenet, "fc1", "fc2")  # the chain relu3 left is joined again
    net.check()
    assert lenet.act_undo.text() == "Undo insert relu3 on relu1 → pool1"
    editor.undo_stack.undo()
    assert set(net.edges) == wires
