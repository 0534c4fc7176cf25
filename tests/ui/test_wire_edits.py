"""Splicing a layer into a wire (palette drop, quick-add) and replacing a wire by dragging, with undo."""

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from studio.graph import Edge
from tests.ui.helpers import drag, drop_layer, label, port_point


def _wire(window, a: str, b: str):
    net = window.editor.network
    return next(e for e in net.edges if net.nodes[e.src].name == a and net.nodes[e.dst].name == b)


def _label_point(window, a: str, b: str) -> QPoint:
    item = window.editor.scene.edges[_wire(window, a, b)]
    return window.view.mapFromScene(item.label_rect().center())


def test_dropping_batchnorm_on_the_conv1_relu1_wire_splices_it_in_one_undo_step(lenet):
    net, stack = lenet.editor.network, lenet.editor.undo_stack
    old = _wire(lenet, "conv1", "relu1")
    lenet.view.centerOn(lenet.editor.scene.edges[old].label_rect().center())
    before, depth = set(net.nodes), stack.count()
    drop_layer(lenet, "BatchNorm2d", _label_point(lenet, "conv1", "relu1"))
    (nid,) = set(net.nodes) - before
    name = net.nodes[nid].name
    assert old not in net.edges and old not in lenet.editor.scene.edges
    assert label(lenet, "conv1", nid) == "N×6×28×28" and label(lenet, nid, "relu1") == "N×6×28×28"
    assert stack.count() == depth + 1 and lenet.act_undo.text() == "Undo insert BatchNorm2d on conv1 → relu1"
    assert lenet.editor.scene.selected_node_ids() == [nid]
    assert lenet.editor.scene._drop_mark is None  # the highlight went with the drop
    lenet.editor.project.check()
    stack.undo()
    assert nid not in net.nodes and old in net.edges and old in lenet.editor.scene.edges
    assert all(net.nodes[i].name != name for i in net.nodes)
    stack.redo()
    assert _wire(lenet, "conv1", name) and _wire(lenet, name, "relu1")
    lenet.editor.project.check()


def test_dropping_beside_a_wire_adds_a_free_layer(lenet):
    net = lenet.editor.network
    edges = set(net.edges)
    drop_layer(lenet, "Dropout", lenet.view.mapFromScene(400, 400))
    assert set(net.edges) == edges


def test_quick_add_over_a_selected_wire_splices(lenet, qtbot):
    net = lenet.editor.network
    old = _wire(lenet, "fc1", "relu3")
    lenet.editor.scene.edges[old].setSelected(True)
    lenet.commands.open_quick_add()
    qtbot.keyClicks(lenet.commands.quick_add.edit, "Dropout")
    QTest.keyClick(lenet.commands.quick_add.edit, Qt.Key.Key_Return)
    assert old not in net.edges
    new = next(n for n in net.nodes.values() if n.type == "Dropout")
    assert label(lenet, "fc1", new.id) == "N×120" and label(lenet, new.id, "relu3") == "N×120"


def test_dragging_a_wire_onto_a_taken_input_replaces_the_old_wire(lenet):
    net, stack = lenet.editor.network, lenet.editor.undo_stack
    image, relu1 = net.by_name("image").id, net.by_name("relu1").id
    old = _wire(lenet, "conv1", "relu1")
    lenet.view.centerOn(lenet.editor.scene.nodes[relu1])
    drag(lenet, port_point(lenet, image, "out", "out"), port_point(lenet, relu1, "in", "in"))
    assert old not in net.edges and Edge(image, "out", relu1, "in") in net.edges
    assert lenet.act_undo.text() == "Undo replace wire into relu1"
    assert label(lenet, image, relu1) == "N×1×32×32"
    stack.undo()
    assert old in net.edges and Edge(image, "out", relu1, "in") not in net.edges
    lenet.editor.project.check()


def test_the_wire_under_a_dragged_layer_is_highlighted_until_the_drag_leaves(lenet):
    from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDragMoveEvent
    from PySide6.QtWidgets import QApplication

    scene = lenet.editor.scene
    old = _wire(lenet, "conv1", "relu1")
    lenet.view.centerOn(scene.edges[old].label_rect().center())
    at = _label_point(lenet, "conv1", "relu1")
    mime = lenet.palette.tree.mimeData([lenet.palette.item_for("ReLU")])
    args = (at, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    for ev in (QDragEnterEvent(*args), QDragMoveEvent(*args)):
        QApplication.sendEvent(lenet.view.viewport(), ev)
    assert scene._drop_mark is not None
    assert scene._drop_mark.path().boundingRect().contains(scene.edges[old].label_rect().center())
    QApplication.sendEvent(lenet.view.viewport(), QDragLeaveEvent())
    assert scene._drop_mark is None
