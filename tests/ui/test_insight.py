"""Seeing inside the network in the window: the node preview, the summary's Profile, the lr finder, augmentation."""

import pytest


def wait_preview(qtbot, inspector, timeout=60_000):
    qtbot.waitUntil(lambda: inspector.preview.preview is not None and not inspector.preview.runner.running,
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


def test_profile_button_adds_measured_columns_until_the_next_edit(lenet, qtbot):
    lenet.summary_dock.show()
    lenet.summary_dock.raise_()
    summary = lenet.summary
    qtbot.waitUntil(summary.isVisible)
    summary.profile.click()
    qtbot.waitUntil(lambda: summary.profile.rows is not None, timeout=60_000)
    t = summary.table
    assert [t.horizontalHeaderItem(c).text() for c in range(5, 9)] == ["fwd ms", "bwd ms", "act. memory", "share"]
    row = summary.row_of("conv1")
    assert float(t.item(row, 5).text()) > 0 and t.item(row, 7).text() == "150.5 kB"  # 8×6×28×28 float32
    share = summary.profile.rows[lenet.editor.network.by_name("conv1").id]["share"]
    assert 0.05 < share < 0.75
    t.scrollToItem(t.item(row, 8))
    cell, image = t.visualItemRect(t.item(row, 8)), t.viewport().grab().toImage()
    inside, past = share / 2, (share + 0.8) / 2  # within the bar; beyond it, short of the right-aligned text
    bar, rest = (image.pixelColor(int(cell.left() + f * cell.width()), cell.center().y()) for f in (inside, past))
    assert bar != rest  # the share is drawn as a bar from the left, as long as the share
    ed = lenet.editor
    ed.edit("set", lambda: ed.network.set_params("conv1", {"out_channels": 4}))
    qtbot.waitUntil(lambda: t.columnCount() == 5, timeout=10_000)


def test_lr_finder_plots_and_sets_the_rate_as_one_undo_step(lenet, qtbot):
    ed = lenet.editor
    ed.edit("small", lambda: ed.project.set_setting("data", "max_samples", 200))
    panel = lenet.training_dock.panel
    before = ed.project.training.get("lr")
    steps = ed.undo_stack.count()
    finder = panel.open_lr_finder()
    finder.steps.setValue(20)
    qtbot.waitUntil(lambda: not finder.job.running, timeout=60_000)
    finder.start()  # again, with 20 steps
    qtbot.waitUntil(lambda: finder.result is not None and len(finder.result.lrs) <= 20 and not finder.job.running,
                    timeout=60_000)
    assert finder.plot.getPlotItem().listDataItems() and finder.use_button.isEnabled()
    chosen = float(f"{finder.result.suggested_lr:.3g}")
    finder.use_button.click()
    assert ed.project.training["lr"] == chosen and panel.lr.value() == pytest.approx(chosen)
    assert ed.undo_stack.count() == steps + 1 and not finder.isVisible()
    ed.undo_stack.undo()
    assert ed.project.training.get("lr") == before


def test_augmentation_preview_follows_the_settings(lenet, qtbot):
    dock = lenet.training_dock
    dock.show()
    dock.raise_()
    panel = dock.panel
    preview = panel.augment_preview
    panel.ensureWidgetVisible(preview)
    qtbot.waitUntil(preview.isVisible)
    assert preview.shown is None and "Tick an augmentation" in preview.caption.text()
    panel.augment["rotation"].setChecked(True)
    qtbot.waitUntil(lambda: preview.shown is not None and not preview.runner.running, timeout=60_000)
    originals, augmented = preview.shown
    assert len(preview.grid.tiles) == len(originals) * 4 and "rotation" in preview.caption.text()
    assert any(not (draw == original).all() for original, draws in zip(originals, augmented) for draw in draws)
    first = preview.shown
    panel.augment["noise"].setChecked(True)
    qtbot.waitUntil(lambda: preview.shown is not first and not preview.runner.running, timeout=60_000)
    assert "noise" in preview.caption.text()
    panel.augment["rotation"].setChecked(False)
    panel.augment["noise"].setChecked(False)
    assert preview.shown is None and not preview.grid.isVisible()


def colour_pictures(folder):
    """An image folder as a user has one: PNG photos of red and of blue squares, one subfolder per class."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for name, channel in (("red", 0), ("blue", 2)):
        (folder / name).mkdir(parents=True)
        for i in range(12):
            pixels = rng.integers(0, 60, (16, 16, 3), dtype=np.uint8)
            pixels[3:13, 3:13, channel] = 230
            Image.fromarray(pixels, "RGB").save(folder / name / f"{i}.png")


def tile_colourfulness(tile) -> int:
    """The largest difference between a pixel's red and blue, over a tile (0 for grey)."""
    image = tile.pixmap().toImage()
    return max(abs(image.pixelColor(x, y).red() - image.pixelColor(x, y).blue())
               for x in range(0, image.width(), 4) for y in range(0, image.height(), 4))


def test_an_rgb_input_shows_in_colour_in_the_preview_and_the_augmentation_grid(window, qtbot, tmp_path):
    from studio.graph import Project, io
    from tests.core.helpers import chain

    colour_pictures(tmp_path / "pictures")
    project = Project("colours")
    chain(project.add_network("main"), [
        ("Input", "image", {"shape": [3, 16, 16]}), ("Conv2d", "conv", {"out_channels": 4, "kernel_size": 3}),
        ("ReLU", "relu", {}), ("Flatten", "flatten", {}), ("Linear", "fc", {"out_features": 2}),
        ("Output", "logits", {})])
    project.data = {"source": "image_folder", "path": "pictures"}
    io.save(project, tmp_path / "colours.json")
    assert window.open_path(tmp_path / "colours.json")
    net = window.editor.network
    window.editor.scene.select_nodes([net.by_name("image").id])
    p = wait_preview(qtbot, window.inspector)
    section = window.inspector.preview
    assert p.shape[1:] == [3, 16, 16] and len(section.maps.tiles) == 4  # the picture, then its 3 channels
    assert section.maps.tiles[0].toolTip() == "first sample (RGB)" and tile_colourfulness(section.maps.tiles[0]) > 100
    assert tile_colourfulness(section.maps.tiles[1]) == 0  # a channel alone stays grey
    shots_of(qtbot, section, "preview_rgb")
    window.editor.scene.select_nodes([net.by_name("conv").id])
    wait_preview(qtbot, window.inspector)
    assert section.maps_title.text().startswith("feature maps") and len(section.maps.tiles) == 4
    dock = window.training_dock
    dock.show()
    preview = dock.panel.augment_preview
    dock.panel.ensureWidgetVisible(preview)
    qtbot.waitUntil(preview.isVisible)
    dock.panel.augment["rotation"].setChecked(True)
    qtbot.waitUntil(lambda: preview.shown is not None and not preview.runner.running, timeout=60_000)
    assert all(tile_colourfulness(tile) > 100 for tile in preview.grid.tiles[:4])
    shots_of(qtbot, preview, "augment_rgb")


def shots_of(qtbot, widget, name: str) -> None:
    from tests.ui.test_inside_training import shots

    shots(qtbot, widget, name)
