"""The export dialog shows a result only for the format it was made with."""

from tests.ui.test_export_dialog import close, run_export


def test_changing_the_format_clears_the_last_result(lenet, tmp_path, qtbot):
    lenet.act_export.trigger()
    dlg = lenet.files.export_dialog
    run_export(qtbot, dlg, "state_dict", tmp_path / "weights.pt")
    assert dlg.error is None and dlg.outcome_box.isVisible() and "max difference" in dlg.outcome.text()
    dlg.format.setCurrentIndex(dlg.format.findData("torchscript"))
    assert not dlg.outcome_box.isVisible() and dlg.outcome.text() == ""
    close(qtbot, lenet, dlg)
