"""The Problems list offers one-click fixes; clicking one edits the network in one undo step."""

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.graph import Edge


def _click(window, item):
    lst = window.problems
    lst.scrollToItem(item)
    QTest.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     lst.visualItemRect(item).center())


def _texts(window):
    return [i.text().strip() for i in window.problems.fix_items()]


def test_a_linear_after_the_convolutions_is_fixed_by_clicking_insert_flatten(lenet):
    ed, net = lenet.editor, lenet.editor.network
    ed.delete([net.by_name("flatten").id])
    ed.connect_edge(Edge(net.by_name("pool2").id, "out", net.by_name("fc1").id, "in"))
    assert _texts(lenet) == ["Fix: insert Flatten before 'fc1' (it gets 16×5×5)",
                             "Fix: insert GlobalAvgPool before 'fc1' (averages each channel)"]
    depth = ed.undo_stack.count()
    _click(lenet, lenet.problems.fix_items()[0])
    assert ed.undo_stack.count() == depth + 1
    assert lenet.act_undo.text() == "Undo fix: insert Flatten before 'fc1' (it gets 16×5×5)"
    assert not ed.root_report.problems and not ed.run_problems and lenet.problems.fix_items() == []
    assert "61,706 parameters" in lenet.memory.text()
    ed.undo_stack.undo()
    assert len(lenet.problems.fix_items()) == 2
    ed.project.check()


def test_an_output_of_the_wrong_width_is_fixed_by_setting_the_count(lenet):
    ed, net = lenet.editor, lenet.editor.network
    ed.set_params(net.by_name("fc3").id, {"out_features": 12})
    assert _texts(lenet) == ["Fix: set 'fc3' to $classes outputs", "Fix: set 'logits' to 12 classes"]
    _click(lenet, lenet.problems.fix_items()[0])
    assert net.by_name("fc3").params["out_features"] == "$classes" and not ed.root_report.problems
    ed.undo_stack.undo()
    _click(lenet, lenet.problems.fix_items()[1])
    assert net.by_name("logits").params["classes"] == 12 and not ed.root_report.problems
    ed.undo_stack.undo()
    assert net.by_name("logits").params["classes"] == 10 and ed.root_report.problems


def _fresh(window, specs):
    """A new project whose main network is the chain `specs` of (type, name, params), built through the editor."""
    window.new()
    ed = window.editor
    net = ed.network
    ed.delete(list(net.nodes))
    ids = [ed.edit("add", lambda t=t, n=n, p=p: net.add_node(t, n, p)).result for t, n, p in specs]
    for a, b in zip(ids, ids[1:]):
        ed.connect_edge(Edge(a, net.ports(net.nodes[a])[1][0], b, net.ports(net.nodes[b])[0][0]))
    return ed, net, ids


def test_a_sequence_layer_fed_an_image_is_fixed_by_a_reshape(window):
    ed, net, (x, lstm, y) = _fresh(window, [("Input", "x", {"shape": [1, 28, 28]}), ("LSTM", "lstm", {}),
                                            ("Output", "y", {})])
    assert _texts(window) == ["Fix: insert Reshape to 28×28 (steps × features) before 'lstm'"]
    _click(window, window.problems.fix_items()[0])
    assert not ed.root_report.problems and len(net.nodes) == 4
    ed.undo_stack.undo()
    assert len(net.nodes) == 3 and _texts(window)


def test_branches_with_different_channels_are_fixed_by_setting_one_conv(window):
    ed, net, (x, c1, add, y) = _fresh(window, [
        ("Input", "x", {"shape": [3, 8, 8]}), ("Conv2d", "c1", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
        ("Add", "add", {}), ("Output", "y", {})])
    c2 = ed.edit("add", lambda: net.add_node("Conv2d", "c2", {"out_channels": 16, "kernel_size": 3,
                                                              "padding": 1})).result
    ed.connect_edge(Edge(x, "out", c2, "in"))
    ed.connect_edge(Edge(c2, "out", add, "b"))
    assert _texts(window) == ["Fix: set 'c2' to 8 output channels"]
    _click(window, window.problems.fix_items()[0])
    assert net.nodes[c2].params["out_channels"] == 8 and not ed.root_report.problems
    ed.undo_stack.undo()
    assert net.nodes[c2].params["out_channels"] == 16
