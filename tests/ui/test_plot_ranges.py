"""Plot ranges on round numbers that move only when the points outgrow them (`studio.ui.training.axes`)."""

from __future__ import annotations

import math
import re

import pyqtgraph as pg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QWheelEvent
from PySide6.QtWidgets import QApplication

from studio.train import BatchEnded, EpochEnded
from studio.ui.training.axes import SteadyAxes, nice_step, steady_range
from studio.ui.training.dashboard import Dashboard

values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(values, values)
def test_the_range_holds_the_points_and_ends_on_round_numbers(a, b):
    lo, hi = min(a, b), max(a, b)
    low, high = steady_range(lo, hi)
    assert low <= lo and hi <= high and high > low
    step = nice_step((hi - lo if hi > lo else abs(hi) or 1.0) / 5)
    for end in (low, high):
        assert abs(end / step - round(end / step)) < 1e-6


@given(values, values, st.floats(0, 0.25), st.floats(0, 0.25))
def test_points_that_still_fill_the_range_keep_it(a, b, s, t):
    current = steady_range(min(a, b), max(a, b))
    width = current[1] - current[0]
    lo, hi = current[0] + s * width, current[1] - t * width  # inside, spanning at least half of it
    assert steady_range(lo, hi, current) == current


@given(values, values, values, values)
def test_a_new_range_holds_the_points(a, b, c, d):
    current = steady_range(min(a, b), max(a, b))
    lo, hi = min(c, d), max(c, d)
    low, high = steady_range(lo, hi, current)
    assert low <= lo and hi <= high
    if (low, high) != current and lo >= 0 and hi > 0:  # (a flat line at 0 gets a step either side)
        assert low >= 0, "a new range for points at or above zero does not reach below it"


def test_a_falling_loss_moves_its_range_a_few_times_not_at_every_point():
    losses = [2.3 * math.exp(-k / 60) + 0.02 for k in range(1000)]
    current, changes = None, 0
    for k in range(1, len(losses) + 1):
        new = steady_range(min(losses[:k]), max(losses[:k]), current)
        changes += new != current
        current = new
    assert changes <= 12
    assert current[0] <= min(losses) and current[1] >= 2.3


def test_nice_steps_are_one_two_or_five_times_a_power_of_ten():
    assert [nice_step(x) for x in (0.013, 0.3, 1, 4, 7.5, 120)] == [0.02, 0.5, 1, 5, 10, 200]


def wheel(view: pg.GraphicsView) -> None:
    """Turn the mouse wheel over the middle of ``view`` (zooms the plot under it)."""
    centre = QPointF(view.viewport().rect().center())
    event = QWheelEvent(centre, QPointF(view.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)


def test_a_plot_keeps_the_users_zoom_until_reset(qtbot):
    view = pg.PlotWidget()
    view.resize(300, 200)
    view.show()
    qtbot.waitExposed(view)
    axes = SteadyAxes(view.getPlotItem())
    axes.fit(x=(0, 10), y=(0, 1))
    assert axes.ranges == {"x": (0, 10), "y": (0, 1)}
    wheel(view)
    zoomed = view.getPlotItem().viewRange()
    assert axes.user_moved
    axes.fit(x=(0, 50), y=(0, 9))  # points beyond the view: the user's zoom stays
    assert view.getPlotItem().viewRange() == zoomed
    axes.reset()
    axes.fit(x=(0, 50), y=(0, 9))
    y0, y1 = view.getPlotItem().viewRange()[1]
    assert y0 <= 0 and y1 >= 9


def _shown_board(qtbot) -> Dashboard:
    """A shown dashboard with run 1 begun, 4 epochs long."""
    board = Dashboard()
    qtbot.addWidget(board)  # closed at the end of the test, even a failed one
    board.resize(700, 450)
    board.show()
    qtbot.waitExposed(board)
    board.begin_run(1)
    board.set_epochs(4)
    return board


def test_the_dashboard_keeps_its_y_axes_while_an_epoch_adds_points_in_range(qtbot):
    board = _shown_board(qtbot)
    for epoch, loss in ((1, 1.0), (2, 0.62)):
        for batch in (1, 2):
            board.add_batch(1, BatchEnded(epoch, batch, 2, loss + 0.1 * batch, 7000.0 + 100 * batch, 1e-3, 1.0))
        board.add_epoch(1, EpochEnded(epoch, {"val_loss": loss, "val_accuracy": 0.5 + 0.1 * epoch}))
        board.flush()
    before = {name: axes.ranges["y"] for name, axes in board._axes.items()}
    board.add_batch(1, BatchEnded(3, 1, 2, 0.7, 7050.0, 1e-3, 1.0))
    board.add_epoch(1, EpochEnded(3, {"val_loss": 0.65, "val_accuracy": 0.68}))
    board.flush()
    assert {name: axes.ranges["y"] for name, axes in board._axes.items()} == before
    for name, curves in (("loss_plot", ("train_loss", "val_loss")), ("speed_plot", ("speed",))):
        y0, y1 = getattr(board, name).viewRange()[1]
        ys = [y for curve in curves for y in board.points(1, curve)[1]]
        assert y0 <= min(ys) and max(ys) <= y1, name
    assert board.speed_plot.viewRange()[1][0] <= 0  # samples/s from 0
    assert board.loss_plot.viewRange()[0] == pytest.approx([-0.08, 4.08])  # x: the whole run


def test_a_falling_training_loss_keeps_the_loss_plot_from_zero_to_its_first_points(qtbot):
    board = _shown_board(qtbot)
    ranges = set()
    for k in range(80):  # 4 epochs of 20 batch events, the loss falling from 2.3 to 0.1
        board.add_batch(1, BatchEnded(1 + k // 20, 1 + k % 20, 20, 2.3 * math.exp(-k / 25) + 0.05,
                                      7000.0, 1e-3, 1.0))
        board.flush()
        ranges.add(board._axes["loss_plot"].ranges["y"])
    assert len(ranges) == 1  # each move of a range redraws its axis
    low, high = ranges.pop()
    assert low == 0 and 2.35 <= high <= 3


def test_the_plots_take_turns_to_draw_new_points(qtbot):
    board = _shown_board(qtbot)
    board.add_batch(1, BatchEnded(1, 1, 10, 2.0, 7000.0, 1e-3, 1.0))

    def count() -> dict[str, int]:
        return {name: len(board.points(1, name)[0]) for name in ("train_loss", "lr", "speed")}

    qtbot.waitUntil(lambda: any(count().values()), timeout=2000)
    drawn = count()
    assert sum(drawn.values()) == 1, drawn  # one plot's repaint at a time
    qtbot.waitUntil(lambda: count() == {"train_loss": 1, "lr": 1, "speed": 1}, timeout=2000)


def test_the_legend_is_redrawn_in_the_new_themes_text_colour(qtbot):
    from studio.ui import theme

    app = QApplication.instance()
    theme.apply(app, "light")
    try:
        board = _shown_board(qtbot)
        board.add_epoch(1, EpochEnded(epoch=1, metrics={"train_loss": 1.0, "val_loss": 1.2}))
        board.flush()
        theme.apply(app, "dark")
        qtbot.waitUntil(lambda: board.palette().color(board.palette().ColorRole.Text).lightness() > 128)
        qtbot.wait(50)
        colours = [re.search(r"color:(#[0-9a-fA-F]{6})", label.item.toHtml()) for _, label in board.legend.items]
        assert colours and all(c and QColor(c.group(1)).lightness() > 128 for c in colours), colours
    finally:
        theme.apply(app, "light")


def test_the_legend_of_many_runs_stays_inside_the_loss_plot(qtbot):
    board = _shown_board(qtbot)
    board.remove_run(1)
    epochs = [{"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.1 / e, "lr": 1e-3} for e in (1, 2, 3)]
    for number in range(1, 8):
        board.show_saved_run(number, epochs)
    board.flush()
    qtbot.wait(50)
    assert [label.text for _, label in board.legend.items] == [f"run {n}" for n in range(1, 8)]
    assert board.legend.rowCount <= 3
    plot = board.loss_plot.vb.sceneBoundingRect()
    legend = board.legend.sceneBoundingRect()
    assert plot.top() <= legend.top() and legend.bottom() <= plot.bottom(), (legend, plot)
