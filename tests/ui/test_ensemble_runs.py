"""Runs picked in the Runs tab become an ensemble project, which opens and evaluates beside its members."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from studio.graph import io
from studio.train.evaluate import Member, evaluate
from studio.train.run_copy import save_run_project
from studio.ui import dialogs

from tests.core.test_evaluate import mlp, train

LONG = 60_000


@pytest.fixture
def two_runs(tmp_path, monkeypatch):
    """mlp.json saved beside two finished runs (seeds 0 and 1) with their project copies."""
    monkeypatch.delenv("STUDIO_RUNS_DIR", raising=False)
    project = mlp()
    io.save(project, tmp_path / "mlp.json")
    for seed in (0, 1):
        folder = tmp_path / "runs" / f"mlp-{seed + 1}"
        save_run_project(folder, project, {**project.training, "seed": seed}, project.data)
        train(project, folder, seed)
    return tmp_path / "mlp.json"


def _pick(qtbot, table, rows) -> None:
    for row in rows:
        rect = table.visualRect(table.model().index(row, 0))
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                         rect.center())


def test_runs_picked_in_the_runs_tab_make_an_ensemble_that_opens_and_evaluates_beside_its_members(
        window, qtbot, two_runs, monkeypatch):
    assert window.open_path(two_runs)
    dock = window.training_dock
    dock.raise_()  # the user brings the Training dock forward (it shares its place with the Summary)
    dock.tabs.setCurrentWidget(dock.tabs.runs_table)
    qtbot.waitUntil(lambda: dock.tabs.runs_table.height() > 50)
    table, action = dock.tabs.runs_table, dock.ensembles.action
    assert table.rowCount() == 2 and action in table.actions()
    _pick(qtbot, table, [0])
    assert not action.isEnabled()  # one run is no ensemble
    _pick(qtbot, table, [1])
    assert action.isEnabled()
    target = two_runs.parent / "both.json"
    suggested = []
    monkeypatch.setattr(dialogs, "ask_save_path", lambda parent, name: suggested.append(name) or target)
    assert dock.tabs.currentWidget() is dock.tabs.compare  # two runs picked: compared at once...
    button = next(b for b in dock.tabs.compare.findChildren(QToolButton) if b.defaultAction() is action)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # ...and made an ensemble from there, in a worker thread

    assert suggested == [str(two_runs.parent / "runs" / "ensemble-1-2.json")]
    qtbot.waitUntil(lambda: window.path == target, timeout=LONG)
    assert (two_runs.parent / "both.pt").is_file()
    ensemble = window.editor.project
    assert [n.type for n in ensemble.network().iter_nodes()].count("Block") == 2
    view = dock.tabs.test_view
    qtbot.waitUntil(lambda: view.evaluate_button.height() > 0)
    assert dock.tabs.currentWidget() is view and view.weights == two_runs.parent / "both.pt"
    with qtbot.waitSignal(view.evaluated, timeout=LONG) as blocker:
        qtbot.mouseClick(view.evaluate_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    members = [Member(io.load(two_runs), two_runs.parent / "runs" / f"mlp-{i}" / "final.pt") for i in (1, 2)]
    expected = evaluate(members)  # the mean of the members' probabilities, computed without the graph
    assert result["accuracy"] == pytest.approx(expected["accuracy"])
    assert [m["accuracy"] for m in result["members"]] == pytest.approx([m["accuracy"] for m in expected["members"]])
    text = view.headline.text()
    assert f"Accuracy {result['accuracy']:.4f}" in text
    for i, m in enumerate(expected["members"], 1):
        assert f"mlp-{i} {m['accuracy']:.4f}" in text
    qtbot.waitUntil(lambda: view.evaluate_button.isEnabled(), timeout=LONG)


def test_reopening_an_ensemble_offers_it_again_and_one_without_its_runs_evaluates_alone(window, two_runs):
    from studio.train.ensemble import ensemble_source
    from studio.ui.training.ensemble_runs import write_ensemble
    from studio.ui.training.runs import saved_runs

    records, _ = saved_runs(io.load(two_runs), two_runs)
    path = two_runs.parent / "pair.json"
    write_ensemble(records, path, two_runs.parent)
    assert window.open_path(path)
    view = window.training_dock.tabs.test_view
    assert view.weights == path.with_suffix(".pt") and len(view.members) == 2
    (records[1].out_dir / "project.json").unlink()
    weights, members = ensemble_source(io.load(path), path)
    assert weights == path.with_suffix(".pt") and members == []



def test_an_ensemble_saved_by_studio_evaluate_opens_with_its_test_tab_beside_its_members(window, two_runs):
    from tests.core.test_cli import studio

    path, runs = two_runs.parent / "cli-pair.json", two_runs.parent / "runs"
    out = studio("evaluate", str(two_runs), "--weights", str(runs / "mlp-1" / "final.pt"),
                 "--weights", str(runs / "mlp-2" / "final.pt"), "--save-ensemble", str(path))
    assert out.returncode == 0, out.stderr
    assert window.open_path(path)
    view = window.training_dock.tabs.test_view
    assert view.weights == path.with_suffix(".pt") and len(view.members) == 2
    assert window.training_dock.tabs.currentWidget() is view
    assert not window.training_dock.visibleRegion().isEmpty()  # not behind the Problems tab
