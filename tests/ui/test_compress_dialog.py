"""Train → Compress…: channel pruning in the background, the figures shown, the pruned project opened in one click."""

import os

import torch
from PySide6.QtCore import Qt

from studio.graph import io as project_io
from studio.ui.compress_dialog import CompressDialog

from tests.core.test_compress import conv_project, conv_weights

WAIT = 120_000  # ms; pruning a tiny network and timing it takes a few seconds


def test_prune_channels_shows_the_figures_and_opens_the_smaller_project(window, tmp_path, qtbot):
    project = conv_project()
    project_io.save(project, tmp_path / "tiny.json")
    torch.save(conv_weights(project), tmp_path / "trained.pt")
    assert window.open_path(tmp_path / "tiny.json")
    window.act_compress.trigger()
    dlg = window.findChild(CompressDialog)
    assert dlg is not None and dlg.isVisible()
    dlg.method.setCurrentIndex(2)  # prune channels
    assert dlg.path.text() == str(tmp_path / "tiny_conv_pruned.json") and dlg.amount.isEnabled()
    qtbot.mouseClick(dlg.run_button, Qt.MouseButton.LeftButton)
    assert not dlg.running and "Choose the trained weights" in dlg.outcome.text()  # none chosen: says so
    dlg.set_weights_file(tmp_path / "trained.pt")
    dlg.epochs.setValue(0)
    qtbot.mouseClick(dlg.run_button, Qt.MouseButton.LeftButton)
    assert dlg.running and not dlg.close_button.isEnabled()
    qtbot.waitUntil(lambda: not dlg.running and (dlg.result is not None or dlg.error is not None), timeout=WAIT)
    assert dlg.error is None, dlg.error
    shown = dlg.outcome.text()
    assert "FLOPs per sample" in shown and "before" in shown and "tiny_conv_pruned.json" in shown
    assert f"{dlg.result.after.flops / dlg.result.before.flops:.2f}×" in shown
    assert f"{100 * (dlg.result.after.accuracy - dlg.result.before.accuracy):+.2f} pt" in shown  # not a ratio
    if os.environ.get("STUDIO_SCREENSHOTS"):
        dlg.grab().save(os.path.join(os.environ["STUDIO_SCREENSHOTS"], "compress_dialog.png"))
    assert dlg.open_button.isVisible() and dlg.close_button.isEnabled()
    qtbot.mouseClick(dlg.open_button, Qt.MouseButton.LeftButton)
    assert window.path == tmp_path / "tiny_conv_pruned.json"
    assert window.editor.project.network().by_name("conv1").params["out_channels"] == 4
    assert not dlg.isVisible()
