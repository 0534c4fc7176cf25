"""Blocks in the window: expand in place and collapse back, ungroup, the flat view, and finding a layer (Ctrl+F)."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from studio.catalog import BLOCK_TYPE
from studio.presets import presets_dir
from studio.ui import block_edits

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def resnet(window):
    """The window with ResNet-18 open (its stages are blocks)."""
    assert window.open_path(presets_dir() / "resnet18.json")
    return window


def _select(window, name: str) -> str:
    nid = window.editor.network.by_name(name).id
    window.editor.scene.select_nodes([nid])
    window.view.setFocus()
    return nid


def test_expand_a_block_in_place_then_collapse_it_back_with_the_keys(resnet):
    ed, net = resnet.editor, resnet.editor.network
    params = ed.root_report.total_params
    layer1 = _select(resnet, "layer1")
    QTest.keyClick(resnet.view, Qt.Key.Key_E, CTRL_SHIFT)
    assert layer1 not in net.nodes and resnet.act_undo.text() == "Undo expand block layer1"
    names = [net.nodes[i].name for i in ed.scene.selected_node_ids()]
    assert len(names) == 8 and "conv1" in names  # basic (4 layers) twice
    assert len(ed.scene.frames) == 1 and "layer1" in ed.scene.frames[0].childItems()[0].text()
    frame = ed.scene.frames[0].sceneBoundingRect()
    assert all(frame.contains(ed.scene.nodes[i].sceneBoundingRect()) for i in ed.scene.selected_node_ids())
    assert ed.root_report.ok and ed.root_report.total_params == params
    # The context menu of a layer inside offers to collapse back, and that of a nested block also to expand it.
    for name, wanted in (("add", ["Collapse Back into &Block"]),
                         ("conv1", ["E&xpand Block in Place", "&Ungroup Block", "Collapse Back into &Block"])):
        item = ed.scene.nodes[net.by_name(name).id]
        menu = resnet.files.node_menu(resnet.view.mapFromScene(item.mapToScene(item.card().center())))
        assert [a.text() for a in menu.actions()][-len(wanted):] == wanted
        menu.deleteLater()
    _select(resnet, "add")
    QTest.keyClick(resnet.view, Qt.Key.Key_E, CTRL_SHIFT)
    assert net.nodes[layer1].type == BLOCK_TYPE and not ed.scene.frames
    assert resnet.act_undo.text() == "Undo collapse block layer1 back"
    ed.undo_stack.undo()
    assert layer1 not in net.nodes and len(ed.scene.frames) == 1  # undo brings the expanded layers back
    ed.undo_stack.undo()
    assert net.nodes[layer1].type == BLOCK_TYPE and not ed.scene.frames
    ed.project.check()


def test_a_block_expanded_in_place_is_still_expanded_when_the_project_reopens(resnet, tmp_path):
    ed = resnet.editor
    layer1 = _select(resnet, "layer1")
    block_edits.expand_block(ed, layer1)
    ed.undo_stack.undo()  # undo forgets the expansion along with it
    assert not ed.scene.frames and "expanded" not in ed.project.metadata
    ed.undo_stack.redo()
    assert len(ed.scene.frames) == 1
    assert resnet.document.save_to(tmp_path / "expanded.json")
    assert resnet.open_path(tmp_path / "expanded.json")
    ed, net = resnet.editor, resnet.editor.network
    assert layer1 not in net.nodes and len(ed.scene.frames) == 1 and "layer1" in ed.scene.frames[0].childItems()[0].text()
    assert block_edits.collapse_block_back(ed, net.by_name("add").id) == layer1  # and it collapses back after the reopening
    assert net.nodes[layer1].type == BLOCK_TYPE and not ed.scene.frames
    assert ed.undo_stack.count() == 1 and resnet.act_undo.text() == "Undo collapse block layer1 back"
    ed.project.check()


def test_ungroup_a_block_then_undo(resnet):
    ed, net = resnet.editor, resnet.editor.network
    stem = _select(resnet, "stem")
    QTest.keyClick(resnet.view, Qt.Key.Key_G, CTRL_SHIFT)
    assert stem not in net.nodes and [net.nodes[i].name for i in ed.scene.selected_node_ids()] == ["conv", "bn", "relu"]
    # the block's "$out", "$kh"... are now the stem's arguments
    assert net.by_name("conv").params == {"out_channels": 64, "kernel_size": [7, 7], "stride": 2, "padding": [3, 3],
                                          "bias": False}
    assert ed.root_report.ok and not ed.scene.frames  # ungrouped for good: no frame
    ed.undo_stack.undo()
    assert net.nodes[stem].type == BLOCK_TYPE
    ed.project.check()


def test_flat_view_shows_every_layer_read_only(resnet):
    before = len(resnet.editor.network.nodes)
    resnet.act_flat.trigger()
    flat = resnet.blocks.flat_view
    try:
        assert flat.isVisible() and len(flat.scene.nodes) == 71
        assert not any(flat.network.nodes[i].type == BLOCK_TYPE for i in flat.scene.nodes)
        assert not flat.view.isInteractive() and len(resnet.editor.network.nodes) == before
        assert all(item.label for item in flat.scene.edges.values())  # every wire shows its shape
    finally:
        flat.close()


def test_find_a_layer_inside_a_block_and_jump_to_it(resnet, qtbot):
    ed = resnet.editor
    resnet.view.setFocus()
    QTest.keyClick(resnet.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    finder = resnet.blocks.finder
    assert finder.isVisible()
    qtbot.keyClicks(finder.edit, "downsample")
    texts = [finder.list.item(i).text() for i in range(finder.list.count())]
    # one entry per place (layer2, layer3, layer4 use the same blocks), named by the Block nodes on the way
    assert [t.split("·")[1].strip() for t in texts] == [f"main › {stage} › first" for stage in ("layer2", "layer3", "layer4")]
    QTest.keyClick(finder.edit, Qt.Key.Key_Return)
    assert not finder.isVisible()
    assert [name for _, name, _ in ed.levels] == ["main", "stage", "basic_down"]
    found = ed.network.by_name("downsample").id
    assert ed.scene.selected_node_ids() == [found]
    assert resnet.breadcrumb.buttons[-1].text() == "block basic_down"
    centre = resnet.view.mapToScene(resnet.view.viewport().rect().center())
    assert ed.scene.nodes[found].sceneBoundingRect().adjusted(-60, -60, 60, 60).contains(centre)
