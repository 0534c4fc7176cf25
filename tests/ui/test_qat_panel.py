"""The training panel's quantization-aware training setting (`training.qat`)."""

from studio.presets import resolve


def test_the_training_panel_sets_quantization_aware_training_as_an_undoable_edit(window):
    assert window.open_path(resolve("lenet5"))
    panel = window.training_dock.panel
    assert panel.qat.currentData() == "off"
    panel.qat.setCurrentIndex(panel.qat.findData("int8"))
    assert window.editor.project.training["qat"] == "int8"
    window.editor.undo_stack.undo()
    assert window.editor.project.training.get("qat", "off") == "off" and panel.qat.currentData() == "off"
