"""The editor driven through its real widgets: model -> scene and scene -> model, with undo."""


from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from studio.graph import Edge
from studio.ui import dialogs
from studio.ui.param_editors import IntEditor, TextEditor
from tests.ui.helpers import drag, drop_layer as _drop, label, port_point, scene_point


def test_lenet_opens_with_shapes_on_wires(lenet):
    scene, net = lenet.editor.scene, lenet.editor.network
    assert set(scene.nodes) == set(net.nodes) and len(scene.edges) == len(net.edges) == 13
    assert label(lenet, "conv1", "relu1") == "N×6×28×28"
    assert label(lenet, "flatten", "fc1") == "N×400"
    assert "61,706 parameters" in lenet.memory.text()
    assert lenet.windowTitle().startswith("lenet5") and "*" not in lenet.windowTitle()


def test_model_change_shows_on_canvas(lenet):
    net = lenet.editor.network
    lenet.editor.edit("set", lambda: net.set_params("conv1", {"out_channels": 4}))
    assert label(lenet, "conv1", "relu1") == "N×4×28×28"
    nid = lenet.editor.edit("add", lambda: net.add_node("ReLU", pos=(0, 300))).result
    assert nid in lenet.editor.scene.nodes
    lenet.editor.undo_stack.undo()
    assert nid not in lenet.editor.scene.nodes
    lenet.editor.undo_stack.undo()
    assert label(lenet, "conv1", "relu1") == "N×6×28×28"
    lenet.editor.project.check()


def test_palette_drag_adds_a_layer_and_undo_removes_it(lenet):
    net = lenet.editor.network
    before = set(net.nodes)
    at = scene_point(lenet, 400, 300)
    _drop(lenet, "Dropout", at)
    added = set(net.nodes) - before
    assert len(added) == 1
    nid = added.pop()
    assert net.nodes[nid].type == "Dropout"
    assert abs(net.nodes[nid].pos[0] - 400) <= 20 and abs(net.nodes[nid].pos[1] - 300) <= 20
    assert nid in lenet.editor.scene.nodes and lenet.editor.scene.selected_node_ids() == [nid]
    assert lenet.act_undo.text() == "Undo add Dropout"
    lenet.editor.undo_stack.undo()
    assert nid not in net.nodes and nid not in lenet.editor.scene.nodes
    lenet.editor.undo_stack.redo()
    assert net.nodes[nid].type == "Dropout" and nid in lenet.editor.scene.nodes
    lenet.editor.project.check()


def test_palette_search_filters_and_has_tooltips(window):
    window.new()
    window.palette.search.setText("conv")
    shown = window.palette.visible_types()
    assert "Conv2d" in shown and "ConvTranspose2d" in shown and "Linear" not in shown
    window.palette.search.setText("transpose 2d")
    assert window.palette.visible_types() == ["ConvTranspose2d"]
    assert "Convolution" in window.palette.item_for("Conv2d").toolTip(0)


def _new_with_linear(window):
    window.new()
    ed = window.editor
    net = ed.network
    x = net.by_name("x").id
    lin = ed.add_node("Linear", (180, 0))
    window.view.centerOn(QPointF(180, 20))
    return ed, net, x, lin


def test_wire_by_mouse_drag_then_undo_redo(window):
    ed, net, x, lin = _new_with_linear(window)
    drag(window, port_point(window, x, "out", "out"), port_point(window, lin, "in", "in"))
    edge = Edge(x, "out", lin, "in")
    assert edge in net.edges
    assert label(window, x, lin) == "N×1×28×28"
    ed.undo_stack.undo()
    assert edge not in net.edges and edge not in ed.scene.edges
    ed.undo_stack.redo()
    assert edge in ed.scene.edges
    net.check()


def test_invalid_drop_explains_why(window):
    ed, net, x, lin = _new_with_linear(window)
    ed.connect_edge(Edge(x, "out", lin, "in"))
    other = ed.add_node("ReLU", (0, 160))
    ed.connect_edge(Edge(lin, "out", other, "in"))
    window.view.centerOn(QPointF(100, 60))
    drag(window, port_point(window, other, "out", "out"), port_point(window, lin, "in", "in"))
    assert Edge(other, "out", lin, "in") not in net.edges and Edge(x, "out", lin, "in") in net.edges
    assert "would make a cycle" in window.statusBar().currentMessage()


def test_drag_wire_end_off_its_input_disconnects(window):
    ed, net, x, lin = _new_with_linear(window)
    ed.connect_edge(Edge(x, "out", lin, "in"))
    start = port_point(window, lin, "in", "in")
    drag(window, start, start + QPoint(0, 150))
    assert not net.edges
    ed.undo_stack.undo()
    assert Edge(x, "out", lin, "in") in net.edges


def test_select_wire_and_delete(window):
    ed, net, x, lin = _new_with_linear(window)
    ed.connect_edge(Edge(x, "out", lin, "in"))
    ed.scene.clearSelection()
    ed.scene.edges[Edge(x, "out", lin, "in")].setSelected(True)
    QTest.keyClick(window.view, Qt.Key.Key_Delete)
    assert not net.edges and set(net.nodes) >= {x, lin}


def test_inspector_edit_changes_wire_label_and_undoes(lenet, qtbot):
    ed = lenet.editor
    ed.scene.select_nodes(["conv1"])
    editor = lenet.inspector.editors["out_channels"]
    assert isinstance(editor, IntEditor)
    assert lenet.inspector.editors["in_channels"].label.text().startswith("1")  # inferred, read-only
    editor.spin.selectAll()
    QTest.keyClicks(editor.spin, "12")  # two keystrokes: one merged undo step
    assert ed.network.nodes["conv1"].params["out_channels"] == 12
    assert label(lenet, "conv1", "relu1") == "N×12×28×28"
    assert lenet.act_undo.text().startswith("Undo set conv1.out_channels")
    ed.undo_stack.undo()
    assert label(lenet, "conv1", "relu1") == "N×6×28×28"
    assert editor.spin.value() == 6  # model -> widget
    ed.undo_stack.redo()
    assert label(lenet, "conv1", "relu1") == "N×12×28×28"
    ed.project.check()


def test_the_output_nodes_class_count_resizes_the_last_layer(lenet):
    ed = lenet.editor
    ed.scene.select_nodes(["logits"])
    classes = lenet.inspector.editors["classes"]
    assert classes.line.text() == "10"
    classes.line.selectAll()
    QTest.keyClicks(classes.line, "3")
    assert ed.network.nodes["logits"].params["classes"] == 3
    assert label(lenet, "fc3", "logits") == "N×3"  # fc3 says out_features: $classes
    assert "61,111 parameters" in lenet.memory.text()
    ed.undo_stack.undo()
    assert label(lenet, "fc3", "logits") == "N×10" and "61,706 parameters" in lenet.memory.text()


def test_inspector_refuses_bad_text_and_model_bad_values(lenet):
    ed = lenet.editor
    ed.scene.select_nodes(["conv1"])
    ks = lenet.inspector.editors["kernel_size"]
    assert isinstance(ks, TextEditor)
    ks.line.setText("")
    QTest.keyClicks(ks.line, "x")
    assert ks.property("problem")
    ks.line.setText("")
    QTest.keyClicks(ks.line, "3")
    assert not ks.property("problem") and label(lenet, "conv1", "relu1") == "N×6×30×30"


def test_rename_in_place_and_in_inspector(lenet):
    ed = lenet.editor
    ed.scene.select_nodes(["conv1"])
    edit = lenet.view.start_rename()
    edit.setText("first_conv")
    QTest.keyClick(edit, Qt.Key.Key_Return)
    assert ed.network.nodes["conv1"].name == "first_conv"
    assert ed.scene.nodes["conv1"].look.name == "first_conv"
    ed.undo_stack.undo()
    assert ed.network.nodes["conv1"].name == "conv1"


def test_move_by_mouse_is_one_undo_step(lenet):
    ed = lenet.editor
    lenet.view.centerOn(ed.scene.nodes["conv1"])
    item = ed.scene.nodes["conv1"]
    start = lenet.view.mapFromScene(item.mapToScene(QPointF(60, 12)))
    before, origin = ed.undo_stack.count(), ed.network.nodes["conv1"].pos
    drag(lenet, start, start + QPoint(30, 80), steps=10)
    pos = ed.network.nodes["conv1"].pos
    assert pos[1] > origin[1] + 50
    assert ed.undo_stack.count() == before + 1
    ed.undo_stack.undo()
    assert ed.network.nodes["conv1"].pos == origin
    assert (item.pos().x(), item.pos().y()) == origin


def test_copy_paste_and_duplicate_keep_inner_wires(lenet):
    ed, net = lenet.editor, lenet.editor.network
    ed.scene.select_nodes(["conv1", "relu1"])
    lenet.commands.copy()
    n_nodes, n_edges = len(net.nodes), len(net.edges)
    lenet.commands.paste()
    assert len(net.nodes) == n_nodes + 2 and len(net.edges) == n_edges + 1
    new = ed.scene.selected_node_ids()
    assert {net.nodes[i].type for i in new} == {"Conv2d", "ReLU"}
    ed.undo_stack.undo()
    assert len(net.nodes) == n_nodes and len(net.edges) == n_edges
    ed.scene.select_nodes(["conv1", "relu1"])
    QTest.keyClick(lenet.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert len(net.nodes) == n_nodes + 2
    ed.project.check()


def test_cut_and_delete_selection_undo(lenet):
    ed, net = lenet.editor, lenet.editor.network
    ed.scene.select_nodes(["relu1", "pool1"])
    lenet.commands.cut()
    assert "relu1" not in net.nodes and "pool1" not in net.nodes
    assert any(p.node == "conv2" for p in ed.root_report.problems)
    ed.undo_stack.undo()
    assert {"relu1", "pool1"} <= set(net.nodes) and len(net.edges) == 13
    ed.project.check()


def test_select_all_and_autolayout_undo(lenet):
    ed, net = lenet.editor, lenet.editor.network
    QTest.keyClick(lenet.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(ed.scene.selected_node_ids()) == len(net.nodes)
    before = {i: n.pos for i, n in net.nodes.items()}
    ed.auto_layout()
    ed.undo_stack.undo()
    assert {i: n.pos for i, n in net.nodes.items()} == before


def test_quick_add_by_typing(lenet, qtbot):
    lenet.commands.open_quick_add()
    popup = lenet.commands.quick_add
    QTest.keyClicks(popup.edit, "maxpool2")
    assert popup.list.currentItem().text() == "MaxPool2d"
    n = len(lenet.editor.network.nodes)
    QTest.keyClick(popup.edit, Qt.Key.Key_Return)
    assert len(lenet.editor.network.nodes) == n + 1
    assert not popup.isVisible()


def test_collapse_into_block_open_and_back(lenet, monkeypatch):
    ed, net = lenet.editor, lenet.editor.network
    monkeypatch.setattr(dialogs, "ask_text", lambda *a, **k: "stem")
    ed.scene.select_nodes(["conv1", "relu1"])
    QTest.keyClick(lenet.view, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert "stem" in ed.project.blocks and "conv1" not in net.nodes
    (bid,) = [i for i, n in net.nodes.items() if n.type == "Block"]
    assert label(lenet, bid, "pool1") == "N×6×28×28"
    assert ed.scene.nodes[bid].look.type_label == "Block stem"
    # open it: double-click, breadcrumb appears, shapes inside are the real ones
    vp_point = lenet.view.mapFromScene(ed.scene.nodes[bid].mapToScene(QPointF(60, 12)))
    QTest.mouseDClick(lenet.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, vp_point)
    assert ed.in_block() and ed.network is ed.project.blocks["stem"].network
    assert not lenet.breadcrumb.isHidden()
    assert label(lenet, "conv1", "relu1") == "N×6×28×28"
    lenet.breadcrumb.buttons[0].click()
    assert not ed.in_block() and bid in ed.scene.nodes
    # block arguments and repeat in the inspector
    ed.scene.select_nodes([bid])
    assert lenet.inspector.repeat is not None
    ed.undo_stack.undo()
    assert "stem" not in ed.project.blocks and "conv1" in net.nodes and len(net.edges) == 13
    ed.undo_stack.redo()
    assert "stem" in ed.project.blocks
    ed.project.check()


def test_problem_click_selects_and_centres_node(lenet):
    ed = lenet.editor
    ed.edit("break", lambda: ed.network.set_params("conv2", {"kernel_size": 20}))
    assert ed.scene.nodes["conv2"].look.status == "error"
    assert "Kernel size" in ed.scene.nodes["conv2"].toolTip() or "kernel" in ed.scene.nodes["conv2"].toolTip().lower()
    lst = lenet.problems
    assert lst.count() == 1 and "main/conv2" in lst.item(0).text()
    lenet.view.centerOn(QPointF(-3000, 0))
    rect = lst.visualItemRect(lst.item(0))
    QTest.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
    assert ed.scene.selected_node_ids() == ["conv2"]
    centre = lenet.view.mapToScene(lenet.view.viewport().rect().center())
    assert ed.scene.nodes["conv2"].sceneBoundingRect().adjusted(-50, -50, 50, 50).contains(centre)


def test_summary_row_click_selects_node(lenet):
    lenet.summary_dock.raise_()
    lenet.summary_dock.show()
    lenet.editor.refresh()
    table = lenet.summary.table
    row = lenet.summary.row_of("fc1")
    assert table.item(row, 2).text() == "120" and table.item(row, 3).text() == "48,120"
    rect = table.visualItemRect(table.item(row, 0))
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
    assert lenet.editor.scene.selected_node_ids() == ["fc1"]


def test_a_project_with_two_networks_can_show_either(window, qtbot):
    from studio.presets import presets_dir

    assert window.open_path(presets_dir() / "gan_mlp.json")
    chooser = window.breadcrumb.networks
    assert chooser is not None and window.breadcrumb.isVisible()
    assert [chooser.itemText(i) for i in range(chooser.count())] == ["generator", "discriminator"]
    assert set(window.editor.scene.nodes) == set(window.editor.project.network("generator").nodes)
    qtbot.keyClick(window.breadcrumb.networks, Qt.Key.Key_Down)  # the user picks the next network
    assert window.editor.levels[0][1] == "discriminator"
    assert set(window.editor.scene.nodes) == set(window.editor.project.network("discriminator").nodes)
    assert window.breadcrumb.networks.currentText() == "discriminator"


def test_the_summary_dock_shows_what_studio_summary_prints(lenet):
    from studio.graph.summary import summary_data, summary_table

    lenet.summary_dock.raise_()
    lenet.summary_dock.show()
    lenet.editor.refresh()
    data = summary_data(lenet.editor.project, {"main": lenet.editor.root_report})
    printed = {line.split()[0]: line.split() for line in summary_table(data).splitlines()[3:-1]}
    table = lenet.summary.table
    for layer in data["networks"]["main"]["layers"]:
        row = lenet.summary.row_of(layer["name"])
        shown = [table.item(row, c).text() for c in range(5)]
        assert shown[0] == layer["name"] and shown[1] == layer["type"]
        assert shown[3] == printed[layer["name"]][-2] and shown[4] == printed[layer["name"]][-1]


def test_problems_list_shows_what_a_run_would_meet_and_follows_the_training_settings(lenet):
    from PySide6.QtWidgets import QStyle

    ed, lst, project = lenet.editor, lenet.problems, lenet.editor.project

    def icon_is(item, pixmap) -> bool:
        return item.icon().pixmap(16).toImage() == lenet.style().standardIcon(pixmap).pixmap(16).toImage()

    assert lst.count() == 1 and not lst.item(0).flags()  # "No problems"
    project.set_settings("training", {**project.training, "input_shape": [1, 8, 8]})
    assert lst.count() == 1 and lst.item(0).text().startswith("main/conv2: at the training size 1×8×8")
    assert icon_is(lst.item(0), QStyle.StandardPixmap.SP_MessageBoxCritical)
    project.set_settings("training", {**project.training, "input_shape": [1, 32, 32], "loss": "kl_div"})
    assert lst.count() == 1 and lst.item(0).text().startswith("main/logits: warning: loss kl_div reads log-probabilities")
    assert icon_is(lst.item(0), QStyle.StandardPixmap.SP_MessageBoxWarning)
    project.set_settings("training", {**project.training, "loss": "cross_entropy"})
    spare = ed.edit("add spare", lambda: ed.network.add_node("Linear", "spare", {"out_features": 4})).result
    ed.edit("wire spare", lambda: ed.network.connect("relu3", "out", spare, "in"))
    assert lst.count() == 1 and lst.item(0).text().startswith("main/spare: warning: Linear 'spare' is unused")
    assert lenet.problems_dock.windowTitle() == "Problems (1)"
    rect = lst.visualItemRect(lst.item(0))
    QTest.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center())
    assert ed.scene.selected_node_ids() == [spare]
