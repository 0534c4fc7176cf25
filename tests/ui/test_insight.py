"""Seeing inside the network in the window: the node preview, the summary's Profile, the lr finder, augmentation."""

import pytest


def wait_preview(qtbot, inspector, timeout=60_000):
    qtbot.waitUntil(lambda: inspector.preview.preview is not None and not inspector.preview.job.running,
                    timeout=timeout)
    return inspector.preview.preview


def test_selecting_a_node_previews_its_output_and_edits_refresh_it(lenet, qtbot):
    ed = lenet.editor
    ed.scene.select_nodes(["conv1"])
    p = wait_preview(qtbot, lenet.inspector)
    assert p.shape == [8, 6, 28, 28]
    section = lenet.inspector.preview
    assert len(section.maps.tiles) == 6 and section.histogram.bars is not None
    assert "6 × 28 × 28" in section.stats.text() and section.isVisible()
    ed.edit("set", lambda: ed.network.set_params("conv1", {"out_channels": 4}))
    qtbot.waitUntil(lambda: section.preview is not None and section.preview.shape[1] == 4, timeout=60_000)
    assert len(section.maps.tiles) == 4
    ed.scene.select_nodes(["fc3"])
    p = wait_preview(qtbot, lenet.inspector)
    assert p.shape == [8, 10] and len(p.top) == 5 and not section.maps.isVisible()
