"""What a project looks like when it opens and after Ctrl+L: flow, zoom, focus, the bottom docks."""

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from studio.graph.layout_metrics import back_edges, overlaps
from studio.ui.node_item import READABLE_ZOOM, WIDTH


def _positions(net):
    return {i: n.pos for i, n in net.nodes.items()}


def test_ctrl_l_lays_out_readably_and_undo_brings_back_positions_and_zoom(lenet, qtbot):
    ed, view, net = lenet.editor, lenet.view, lenet.editor.network
    ed.edit("scatter", lambda: [net.move(nid, (k * 300.0, (k % 3) * 200.0)) for k, nid in enumerate(net.nodes)])
    view.zoom_by(0.3)
    before, zoom = _positions(net), view.zoom()
    QTest.keyClick(view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert back_edges(net) == 0 and overlaps(net) == 0
    assert view.zoom() >= READABLE_ZOOM - 1e-6  # not zoomed out to illegibility
    after_zoom = view.zoom()
    ed.undo_stack.undo()
    assert _positions(net) == before
    assert abs(view.zoom() - zoom) < 1e-9
    ed.undo_stack.redo()
    assert abs(view.zoom() - after_zoom) < 1e-9 and back_edges(net) == 0


def test_flowing_left_to_right_moves_ports_to_the_sides_and_undoes(lenet):
    ed, net = lenet.editor, lenet.editor.network
    lenet.act_flow_right.trigger()
    assert ed.project.metadata["flow"] == "right" and lenet.act_flow_right.isChecked()
    assert back_edges(net, "right") == 0
    conv = ed.scene.nodes["conv1"]
    assert conv.port_pos("in", "in").x() == 0 and conv.port_pos("out", "out").x() == WIDTH
    ed.undo_stack.undo()
    assert "flow" not in ed.project.metadata and not lenet.act_flow_right.isChecked()
    conv = ed.scene.nodes["conv1"]
    assert conv.port_pos("in", "in").y() == 0 and conv.port_pos("out", "out").y() == conv.card().height()


def test_a_preset_opens_at_a_zoom_where_titles_are_legible(lenet, qtbot):
    lenet.commands.first_view()
    assert lenet.view.zoom() >= READABLE_ZOOM - 1e-6


def test_the_canvas_has_the_focus_once_a_project_opens(window, qtbot):
    from studio.presets import presets_dir

    window.open_path(presets_dir() / "lenet5.json")
    window.palette.search.setFocus()  # as a closing file dialog hands the focus back to what had it
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.view, timeout=2000)


def test_problems_take_the_room_of_their_lines(lenet, qtbot):
    dock = lenet.problems_dock
    qtbot.waitUntil(lambda: dock.height() < 0.12 * lenet.height(), timeout=2000)  # one line, not 40 %
    one_line = dock.height()
    ed, net = lenet.editor, lenet.editor.network
    ed.edit("break", lambda: [net.add_node("Linear", f"loose{k}", {"out_features": 3}) for k in range(3)])
    qtbot.waitUntil(lambda: lenet.problems.count() >= 3 and dock.height() > one_line + 30, timeout=2000)
    assert dock.height() < 0.3 * lenet.height()


def test_the_start_page_shows_no_editing_or_training_docks(window):
    docks = (window.palette_dock, window.inspector_dock, window.problems_dock, window.summary_dock,
             window.training_dock)
    assert not any(d.isVisible() for d in docks)


def test_wires_name_the_batch_and_a_free_sequence_length(window, qtbot):
    from studio.presets import presets_dir
    from tests.ui.helpers import label

    window.open_path(presets_dir() / "lstm_classifier.json")
    qtbot.waitUntil(lambda: label(window, "tokens", "embed") == "N×T", timeout=5000)
    assert label(window, "embed", "lstm") == "N×T×16" and label(window, "fc", "logits") == "N×2"


def test_no_shape_label_covers_a_card(window, qtbot):
    from studio.presets import presets_dir

    for name in ("transformer", "inception_v3"):
        window.open_path(presets_dir() / f"{name}.json")
        scene = window.editor.scene
        if name == "inception_v3":
            window.editor.open_block("Mixed_5b")
            scene = window.editor.scene
        cards = [item.sceneBoundingRect() for item in scene.nodes.values()]
        labels = [item.label_rect() for item in scene.edges.values() if item.label]
        assert labels and not [(r, c) for r in labels for c in cards if r.intersects(c)], name
        window.editor.undo_stack.setClean()
