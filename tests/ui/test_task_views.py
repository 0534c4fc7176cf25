"""The task tabs of the training dock: each kind of metrics gets its view, empty tabs stay hidden.

Epochs are fed through the controller's own `epoch_ended` signal (synthetic
metrics, no training), except one end-to-end run of the `rbm` preset.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QFontMetrics

from studio.graph import io
from studio.presets import resolve
from studio.train import EpochEnded, RunFinished
from studio.ui.training import TrainingDock
from studio.ui.training.runs import RunRecord

LONG = 60_000


@pytest.fixture
def dock(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    d = TrainingDock()
    d.resize(1400, 600)
    d.show()
    qtbot.waitExposed(d)
    yield d
    leaked = d.running
    d.shutdown()
    d.close()
    d.deleteLater()
    assert not leaked, "the test left a training run going"


def feed(dock, metrics_of_epoch, epochs: int = 3, run: int | None = None) -> None:
    """Start a (pretend) run in ``dock`` and send ``epochs`` epochs as the controller would."""
    number = run or (max((r.number for r in dock.records), default=0) + 1)
    record = RunRecord(number=number, out_dir=Path("unused"))
    dock.records.append(record)
    dock.current = record
    dock.dashboard.begin_run(number)
    for epoch in range(1, epochs + 1):
        dock.controller.epoch_ended.emit(EpochEnded(epoch=epoch, metrics=metrics_of_epoch(epoch)))
    dock.refresh_all()


def visible_tabs(dock) -> list[str]:
    return [dock.tabs.tabText(i) for i in range(dock.tabs.count()) if dock.tabs.isTabVisible(i)]


def images(n: int, c: int = 1, side: int = 8, low: float = 0.0) -> list:
    return (np.linspace(low, 1.0, n * c * side * side).reshape(n, c, side, side)).tolist()


def test_before_any_epoch_only_the_runs_tab_shows(dock):
    assert visible_tabs(dock) == ["Runs", "Sweep"]
    assert dock.tabs.task_views.views == {}


def test_language_model_gets_perplexity_and_text_newest_first(dock):
    feed(dock, lambda e: {"epoch": e, "train_loss": 3.0 / e, "val_loss": 3.0 / e, "val_perplexity": 20.0 / e,
                          "val_accuracy": 0.1 * e, "samples_text": [f"text of epoch {e}", "second"]})
    tabs = visible_tabs(dock)
    assert tabs[:2] == ["Text samples", "Perplexity"] and "Confusion" not in tabs and "Samples" not in tabs
    assert dock.tabs.task_views.view("Perplexity").points(1, "perplexity") == ([1.0, 2.0, 3.0], [20.0, 10.0, 20.0 / 3])
    text = dock.tabs.task_views.view("Text samples")
    metrics = QFontMetrics(text.font())  # every glyph as wide (some monospace fonts do not set the fixed-pitch flag)
    assert text.isReadOnly() and metrics.horizontalAdvance("iiii") == metrics.horizontalAdvance("WWWW")
    content = text.toPlainText()
    assert content.index("text of epoch 3") < content.index("text of epoch 2") < content.index("text of epoch 1")
    assert dock.dashboard.metric_shown  # it reports an accuracy


def test_gan_gets_both_losses_images_and_no_confusion(dock):
    feed(dock, lambda e: {"epoch": e, "train_d_loss": 1.0 + e, "train_g_loss": 2.0 * e, "d_loss": 1.0 + e,
                          "g_loss": 2.0 * e, "val_d_loss": 0.5, "val_g_loss": 0.25,
                          "samples_images": images(16, 3, low=-1.0), "lr": 2e-4, "time_s": 1.5})
    tabs = visible_tabs(dock)
    assert tabs == ["Images", "GAN losses", "Other metrics", "Runs", "Sweep"]
    assert dock.tabs.currentWidget() is dock.tabs.task_views.view("Images")  # shown rather than the runs list
    losses = dock.tabs.task_views.view("GAN losses")
    assert losses.points(1, "train", plot=0)[1] == [2.0, 3.0, 4.0]
    assert losses.points(1, "train", plot=1)[1] == [2.0, 4.0, 6.0]
    assert losses.points(1, "val", plot=1)[1] == [0.25] * 3
    grid = dock.tabs.task_views.view("Images")
    assert grid.counts == {"Generated": 16}
    assert grid.title.endswith("epoch 3")
    assert not dock.dashboard.metric_shown, "no empty accuracy plot for a GAN"
    other = dock.tabs.task_views.view("Other metrics")
    assert other.keys == ["time_s"] and other.points(1)[1] == [1.5] * 3


def test_gan_2d_points_and_modes(dock):
    points = np.random.default_rng(0).normal(size=(300, 2)).tolist()
    feed(dock, lambda e: {"epoch": e, "train_d_loss": 1.0, "train_g_loss": 1.0, "samples_xy": points[:100 * e],
                          "mode_share": 0.2 * e, "modes_covered": e + 4})
    assert visible_tabs(dock) == ["2-D samples", "GAN losses", "Modes", "Runs", "Sweep"]
    scatter = dock.tabs.task_views.view("2-D samples")
    assert scatter.xy.shape == (300, 2) and len(scatter.scatter.data) == 300
    modes = dock.tabs.task_views.view("Modes")
    assert modes.points(1, "share")[1] == pytest.approx([0.2, 0.4, 0.6])
    assert modes.points(1, "modes", plot=1)[1] == [5.0, 6.0, 7.0]


def test_rbm_reconstructions_beside_originals_and_filters(dock):
    feed(dock, lambda e: {"epoch": e, "train_loss": 0.1, "val_loss": 0.1, "recon_error": 0.1 / e,
                          "val_recon_error": 0.1 / e, "filters": images(16), "samples_inputs": images(8),
                          "samples_images": images(8)}, epochs=2)
    assert visible_tabs(dock) == ["Images", "Filters", "Reconstruction", "Runs", "Sweep"]  # nothing "other"
    assert dock.tabs.task_views.view("Images").counts == {"Originals": 8, "Reconstructions": 8}
    assert dock.tabs.task_views.view("Filters").counts == {"Learned filters": 16}
    assert dock.tabs.task_views.view("Reconstruction").points(1, "error")[1] == pytest.approx([0.1, 0.05])


def test_word2vec_neighbours_table_and_word_map(dock):
    words = ["king", "queen", "man", "woman", "paris"]
    feed(dock, lambda e: {"epoch": e, "train_loss": 1.0, "val_loss": 1.0,
                          "neighbours": {"king": ["queen", "man"], "paris": ["france"]},
                          "embedding_2d": {"words": words, "xy": [[i, i * e] for i in range(5)]}})
    assert visible_tabs(dock) == ["Word map", "Neighbours", "Runs", "Sweep"]
    table = dock.tabs.task_views.view("Neighbours")
    assert table.rowCount() == 2
    assert (table.item(0, 0).text(), table.item(0, 1).text()) == ("king", "queen, man")
    word_map = dock.tabs.task_views.view("Word map")
    assert word_map.words == words and word_map.xy.tolist()[4] == [4.0, 12.0]
    assert [label.textItem.toPlainText() for label in word_map.labels] == words


def test_attention_heat_map_heads_and_match_curves(dock):
    weights = np.full((3, 4), 0.25).tolist()
    feed(dock, lambda e: {"epoch": e, "train_loss": 1.0, "val_exact_match": 0.1 * e, "val_masked_accuracy": 0.5,
                          "attention": {"source": ["a", "b", "c", "d"], "target": ["x", "y", "z"],
                                        "weights": weights},
                          "attention_maps": {"tokens": [7, 8, 9, 10], "layer": "enc",
                                             "heads": np.ones((4, 3, 4)).tolist()}})
    assert visible_tabs(dock) == ["Attention", "Heads", "Match", "Runs", "Sweep"]
    heat = dock.tabs.task_views.view("Attention")
    assert heat.weights.shape == (3, 4)
    assert [t for _, t in heat.plot.getAxis("bottom")._tickLevels[0]] == ["a", "b", "c", "d"]
    assert dock.tabs.task_views.view("Heads").maps.shape == (4, 3, 4) and len(dock.tabs.task_views.view("Heads").images) == 4
    assert dock.tabs.task_views.view("Match").points(1, "exact match")[1] == pytest.approx([0.1, 0.2, 0.3])


def test_rl_returns_epsilon_and_unknown_figures_reach_the_other_plot(dock):
    feed(dock, lambda e: {"epoch": e, "episode_return": 10.0 * e, "val_return": 5.0, "epsilon": 1.0 / e,
                          "q_spread": e * e, "flag": True, "note": "text is not a curve"})
    assert visible_tabs(dock) == ["Return", "Exploration", "Other metrics", "Runs", "Sweep"]
    assert dock.tabs.task_views.view("Return").points(1, "training")[1] == [10.0, 20.0, 30.0]
    assert dock.tabs.task_views.view("Exploration").points(1, "ε")[1] == pytest.approx([1.0, 0.5, 1 / 3])
    other = dock.tabs.task_views.view("Other metrics")
    assert other.keys == ["q_spread"]
    assert other.points(1) == ([1.0, 2.0, 3.0], [1.0, 4.0, 9.0])


def test_runs_overlay_and_clear_removes_the_task_tabs(dock, qtbot):
    feed(dock, lambda e: {"epoch": e, "val_perplexity": 10.0 / e}, run=1)
    feed(dock, lambda e: {"epoch": e, "val_perplexity": 20.0 / e}, run=2)
    view = dock.tabs.task_views.view("Perplexity")
    assert view.points(1, "perplexity")[1][0] == 10.0 and view.points(2, "perplexity")[1][0] == 20.0
    dock.clear_runs()
    assert visible_tabs(dock) == ["Runs", "Sweep"] and dock.tabs.task_views.views == {}
    assert dock.dashboard.metric_shown


def test_classification_still_gets_its_tabs_only_when_the_data_arrives(dock):
    confusion = [[5, 1], [0, 4]]
    feed(dock, lambda e: {"epoch": e, "train_loss": 1.0, "val_loss": 1.0, "val_accuracy": 0.9,
                          "val_confusion": confusion, "val_precision": [1, 0.8], "val_recall": [0.8, 1],
                          "val_f1": [0.9, 0.9]}, epochs=1)
    assert visible_tabs(dock) == ["Confusion", "Per class", "Runs", "Sweep"]  # no samples were sent
    assert dock.tabs.confusion.matrix.sum() == 10 and dock.tabs.class_table.rowCount() == 2
    assert dock.dashboard.metric_shown


def test_only_the_visible_tab_is_drawn(dock):
    text = {"epoch": 1, "samples_text": ["first"], "val_perplexity": 5.0}
    feed(dock, lambda e: text, epochs=1)
    dock.tabs.setCurrentWidget(dock.tabs.runs_table)
    dock.controller.epoch_ended.emit(EpochEnded(epoch=2, metrics={**text, "samples_text": ["second"]}))
    dock.tabs.refresh_views()
    view = dock.tabs.task_views.view("Text samples")
    assert "second" not in view.toPlainText(), "a hidden tab was drawn"
    dock.tabs.setCurrentWidget(view)  # drawn when shown
    assert "second" in view.toPlainText()


def test_rbm_preset_trains_one_epoch_and_shows_its_tabs(qtbot, dock):
    dock.set_project(io.load(resolve("rbm")), None)
    dock.panel.epochs.setValue(1)
    dock.panel.max_samples.setValue(200)
    ended = []
    dock.run_ended.connect(ended.append)
    assert dock.start()
    qtbot.waitUntil(lambda: not dock.running, timeout=LONG)
    assert isinstance(ended[-1], RunFinished), ended[-1]
    tabs = visible_tabs(dock)
    assert {"Images", "Filters", "Reconstruction"} <= set(tabs) and "Confusion" not in tabs
    for title in ("Filters", "Reconstruction"):  # hidden tabs are drawn when shown
        dock.tabs.setCurrentWidget(dock.tabs.task_views.view(title))
    assert dock.tabs.task_views.view("Filters").counts["Learned filters"] > 0
    assert len(dock.tabs.task_views.view("Reconstruction").points(1, "error")[0]) == 1


def test_the_confusion_matrix_writes_each_count_in_its_cell(dock, qtbot):
    feed(dock, lambda e: {"epoch": e, "val_loss": 1.0, "val_accuracy": 0.9,
                          "val_confusion": [[7, 0], [2, 9]]}, epochs=1)
    dock.tabs.setCurrentWidget(dock.tabs.confusion)
    qtbot.wait(50)  # laid out and painted
    view, plot = dock.tabs.confusion.view, dock.tabs.confusion.plot
    image = view.grab().toImage()

    def distinct_colours(row: int, col: int) -> int:
        """Colours in a small box at the centre of cell (row, col): 1 for a bare cell, more with text."""
        centre = view.mapFromScene(plot.vb.mapViewToScene(QPointF(col + 0.5, row + 0.5)))
        return len({image.pixel(centre.x() + dx, centre.y() + dy) for dx in range(-6, 7) for dy in range(-4, 5)})

    assert distinct_colours(0, 0) > 2 and distinct_colours(1, 0) > 2 and distinct_colours(1, 1) > 2
    assert distinct_colours(0, 1) == 1, "a zero off the diagonal is left blank"
