"""The dashboard's task tabs: which metric keys get which view, as a data table.

A recipe reports what its task needs in ``EpochEnded.metrics``; `VIEWS` maps
those keys to views (a key → view table, not a class per recipe): a tab
appears the first time one of its keys arrives and never before, so a GAN
gets generated images and its two losses, a language model its perplexity
and text samples, word2vec its neighbours and word map, and nothing shows
empty. Numeric figures that no view (nor the main curves) shows go to the
"Other metrics" tab, so nothing a recipe reports is invisible.

`TaskViews` owns those tabs inside the dock's `QTabWidget`: ``add_epoch``
hands each epoch to every view (cheap: the views keep values only),
``refresh(widget)`` draws one view (the dock calls it for the visible tab, at
most twice a second), ``clear(keep)`` forgets runs.

Views here (Qt widgets, no pyqtgraph): `TextSamplesView` (generated text,
newest epoch first), `ImageGridView` (image grids in titled rows, such as
originals above their reconstructions), `NeighboursTable`. The plots are in
`task_plots`, `point_plots` and `attention_plots`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontDatabase, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QHeaderView,
    QPlainTextEdit,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QWidget,
)

from studio.train.metric_registry import SHOWN_BY_DOCK
from studio.ui.training.samples import to_pixmap
from studio.ui.training.attention_plots import HeadMapsView, HeatMapView
from studio.ui.training.point_plots import ScatterView, WordMapView
from studio.ui.training.task_plots import Curve, CurvesView, OtherMetricsView, Plot

MAX_TEXT_EPOCHS = 50  # text samples kept (newest first)


class TextSamplesView(QPlainTextEdit):
    """Generated text samples (``samples_text``), read-only and monospace, newest epoch first."""

    def __init__(self, key: str = "samples_text", parent: QWidget | None = None):
        super().__init__(parent)
        self.key = key
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.setFont(font)
        self.epochs: list[tuple[int, int, list[str]]] = []  # (run, epoch, texts), newest first
        self.dirty = False

    def add(self, run: int, epoch: int, metrics: dict[str, Any]) -> None:
        texts = metrics.get(self.key)
        if isinstance(texts, (list, tuple)):
            self.epochs.insert(0, (run, epoch, [str(t) for t in texts]))
            del self.epochs[MAX_TEXT_EPOCHS:]
            self.dirty = True

    def refresh(self) -> None:
        if not self.dirty:
            return
        self.dirty = False
        blocks = []
        for run, epoch, texts in self.epochs:
            lines = [f"── run {run}, epoch {epoch} ──"]
            lines += [f"{i + 1}. {t}" for i, t in enumerate(texts)]
            blocks.append("\n".join(lines))
        self.setPlainText("\n\n".join(blocks))

    def remove_runs(self, keep: int | None) -> None:
        self.epochs = [e for e in self.epochs if e[0] == keep]
        self.dirty = True
        self.refresh()


def image_pixmap(image: Any) -> QPixmap:
    """A pixmap from a C×H×W (or H×W) image with values in [-1, 1] or [0, 1]."""
    a = np.asarray(image, dtype=np.float32)
    if a.ndim == 2:
        a = a[None]
    if a.size and float(np.nanmin(a)) < -1e-6:
        a = (a + 1.0) / 2.0
    return to_pixmap(np.nan_to_num(a))


class ImageGridView(QWidget):
    """Rows of image grids, one per metric key present (``(key, title)`` pairs), the latest epoch.

    Tiles are as large as fit (up to `LARGEST`); small images are scaled by
    whole pixels so they stay sharp.
    """

    LARGEST = 96
    PAD = 6

    def __init__(self, sections: tuple[tuple[str, str], ...], parent: QWidget | None = None):
        super().__init__(parent)
        self.sections = sections
        self.shown: list[tuple[str, list[QPixmap]]] = []  # (title, pixmaps) drawn now
        self.title = ""
        self._latest: tuple[int, int, dict[str, Any]] | None = None
        self.dirty = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    @property
    def counts(self) -> dict[str, int]:
        """How many images each section shows now, by title."""
        return {title: len(p) for title, p in self.shown}

    def add(self, run: int, epoch: int, metrics: dict[str, Any]) -> None:
        found = {k: metrics[k] for k, _ in self.sections if isinstance(metrics.get(k), (list, tuple))}
        if found:
            self._latest = (run, epoch, found)
            self.dirty = True

    def refresh(self) -> None:
        if not self.dirty or self._latest is None:
            return
        self.dirty = False
        run, epoch, found = self._latest
        paired = "samples_inputs" in found  # the model's outputs are then reconstructions of them
        self.shown = [("Reconstructions" if paired and key == "samples_images" else title,
                       [image_pixmap(i) for i in found[key]]) for key, title in self.sections if key in found]
        self.title = f"Run {run}, epoch {epoch}"
        self.update()

    def remove_runs(self, keep: int | None) -> None:
        if self._latest is not None and self._latest[0] != keep:
            self._latest, self.shown = None, []
            self.update()

    def sizeHint(self) -> QSize:
        return QSize(420, 300)

    def minimumSizeHint(self) -> QSize:
        return QSize(160, 120)

    def _side(self, line: int) -> int:
        """The largest tile side at which every section fits the widget."""
        width, height = self.width() - 2 * self.PAD, self.height() - self.PAD
        for side in range(self.LARGEST, 11, -2):
            cols = max(1, (width + self.PAD) // (side + self.PAD))
            used = line + 8
            for _, pixmaps in self.shown:
                rows = math.ceil(len(pixmaps) / cols)
                used += line + 6 + rows * (side + self.PAD)
            if used <= height:
                return side
        return 12

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        pal = self.palette()
        p.fillRect(self.rect(), pal.color(QPalette.ColorRole.Base))
        text, sub = pal.color(QPalette.ColorRole.Text), pal.color(QPalette.ColorRole.PlaceholderText)
        line = self.fontMetrics().height()
        if not self.shown:
            p.setPen(sub)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Images appear here after each epoch.")
            p.end()
            return
        side = self._side(line)
        cols = max(1, (self.width() - 2 * self.PAD + self.PAD) // (side + self.PAD))
        p.setPen(text)
        p.drawText(QRect(self.PAD, 4, self.width() - 2 * self.PAD, line), Qt.AlignmentFlag.AlignVCenter,
                   self.title)
        y = line + 8
        for title, pixmaps in self.shown:
            p.setPen(sub)
            p.drawText(QRect(self.PAD, y, self.width() - 2 * self.PAD, line), Qt.AlignmentFlag.AlignVCenter,
                       f"{title} ({len(pixmaps)})")
            y += line + 6
            for i, pixmap in enumerate(pixmaps):
                x = self.PAD + (i % cols) * (side + self.PAD)
                top = y + (i // cols) * (side + self.PAD)
                sharp = pixmap.width() <= side  # enlarged: keep the pixels square and crisp
                p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, not sharp)
                p.drawPixmap(QRect(x, top, side, side), pixmap)
                p.setPen(sub)
                p.drawRect(QRect(x - 1, top - 1, side + 1, side + 1))
            y += math.ceil(len(pixmaps) / cols) * (side + self.PAD)
        p.end()


class NeighboursTable(QTableWidget):
    """Each probe word and its nearest words (``neighbours``: ``{word: [words]}``), the latest epoch."""

    def __init__(self, key: str = "neighbours", parent: QWidget | None = None):
        super().__init__(0, 2, parent)
        self.key = key
        self.setHorizontalHeaderLabels(("Word", "Nearest words"))
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self._latest: dict[str, Any] | None = None
        self.dirty = False

    def add(self, run: int, epoch: int, metrics: dict[str, Any]) -> None:
        if isinstance(metrics.get(self.key), dict):
            self._latest = metrics[self.key]
            self.dirty = True

    def refresh(self) -> None:
        if not self.dirty or self._latest is None:
            return
        self.dirty = False
        rows = list(self._latest.items())
        self.setRowCount(len(rows))
        for i, (word, near) in enumerate(rows):
            near_text = ", ".join(map(str, near)) if isinstance(near, (list, tuple)) else str(near)
            for col, value in enumerate((str(word), near_text)):
                item = self.item(i, col)
                if item is None:
                    item = QTableWidgetItem()
                    self.setItem(i, col, item)
                item.setText(value)

    def remove_runs(self, keep: int | None) -> None:
        if keep is None:
            self._latest = None
            self.setRowCount(0)


@dataclass(frozen=True)
class ViewSpec:
    """One task tab: its title, the metric keys that make it appear and how to build its view."""

    title: str
    keys: tuple[str, ...]
    make: Callable[[], QWidget]
    tip: str = ""
    also: tuple[str, ...] = field(default=())  # keys it accounts for without showing (not "other")


def _curves(*plots: Plot) -> Callable[[], QWidget]:
    return lambda: CurvesView(plots)


# The table: metric key(s) -> view. Order is tab order.
VIEWS: tuple[ViewSpec, ...] = (
    # what the model makes first (the figures a person looks at), then the curves
    ViewSpec("Text samples", ("samples_text",), TextSamplesView, "Text generated after each epoch, newest first"),
    ViewSpec("Images", ("samples_images", "samples_inputs"),
             lambda: ImageGridView((("samples_inputs", "Originals"), ("samples_images", "Generated"))),
             "Images the model made from fixed inputs, refreshed each epoch"),
    ViewSpec("2-D samples", ("samples_xy",), ScatterView, "Generated points, refreshed each epoch"),
    ViewSpec("Filters", ("filters",), lambda: ImageGridView((("filters", "Learned filters"),)),
             "The weights of the first hidden units, as images"),
    ViewSpec("Word map", ("embedding_2d",), WordMapView, "Word vectors projected to 2-D"),
    ViewSpec("Neighbours", ("neighbours",), NeighboursTable, "Nearest words by cosine similarity"),
    ViewSpec("Attention", ("attention",), HeatMapView, "Attention weights of one example"),
    ViewSpec("Heads", ("attention_maps",), HeadMapsView, "Attention weights of each head"),
    ViewSpec("Perplexity", ("val_perplexity",),
             _curves(Plot("Validation perplexity (lower is better)", (Curve("perplexity", ("val_perplexity",)),))),
             "How many tokens the model hesitates between, on average"),
    ViewSpec("GAN losses", ("d_loss", "g_loss", "train_d_loss", "train_g_loss", "val_d_loss", "val_g_loss"),
             _curves(Plot("Discriminator loss", (Curve("train", ("train_d_loss", "d_loss")),
                                                 Curve("val", ("val_d_loss",)))),
                     Plot("Generator loss", (Curve("train", ("train_g_loss", "g_loss")),
                                             Curve("val", ("val_g_loss",))))),
             "The two players' losses: solid training, dashed validation"),
    ViewSpec("Modes", ("mode_share", "modes_covered"),
             _curves(Plot("Share of samples near a mode", (Curve("share", ("mode_share",)),)),
                     Plot("Modes covered", (Curve("modes", ("modes_covered",)),)))),
    ViewSpec("Reconstruction", ("recon_error",),
             _curves(Plot("Reconstruction error (validation)", (Curve("error", ("recon_error",)),))),
             also=("val_recon_error",)),
    ViewSpec("Match", ("val_exact_match", "val_masked_accuracy"),
             _curves(Plot("Exact match (validation)", (Curve("exact match", ("val_exact_match",)),)),
                     Plot("Masked-token accuracy (validation)",
                          (Curve("masked accuracy", ("val_masked_accuracy",)),)))),
    ViewSpec("Return", ("episode_return", "val_return"),
             _curves(Plot("Return per episode", (Curve("training", ("episode_return",)),
                                                 Curve("evaluation", ("val_return",)))))),
    ViewSpec("Exploration", ("epsilon",), _curves(Plot("Exploration rate ε", (Curve("ε", ("epsilon",)),)))),
)

SHOWN = SHOWN_BY_DOCK | {k for spec in VIEWS for k in spec.keys + spec.also}
OTHER = "Other metrics"


class TaskViews:
    """The task tabs of one dock's `QTabWidget`, made when their data first arrives.

    Args:
        tabs: the dock's tab widget; task tabs go before ``before`` (and its
            followers), in `VIEWS` order, with "Other metrics" after them.
        before: the first tab task tabs go in front of.
    """

    def __init__(self, tabs: QTabWidget, before: QWidget):
        self.tabs = tabs
        self.before = before
        self.views: dict[str, QWidget] = {}  # title -> view, only those shown
        self.epochs = 0  # epoch axes span 0..epochs
        # Every run reports a figure for "Other metrics" (its epochs' time at least): the view is
        # made ahead, not in the GUI thread at a run's first epoch, where it took ~40 ms.
        self._spare: OtherMetricsView | None = OtherMetricsView(SHOWN)

    def _spare_other(self) -> OtherMetricsView:
        view, self._spare = self._spare or OtherMetricsView(SHOWN), None
        return view

    def set_epochs(self, total: int) -> None:
        """The runs shown go up to epoch ``total``: epoch axes span the whole run from its start."""
        self.epochs = total
        for view in self.views.values():
            _set_epochs(view, total)

    def view(self, title: str) -> QWidget | None:
        return self.views.get(title)

    def add_epoch(self, run: int, epoch: int, metrics: dict[str, Any]) -> list[str]:
        """Hand an epoch to the views (making those whose data arrives first); the titles made."""
        made = []
        for spec in VIEWS:
            if spec.title not in self.views and any(k in metrics for k in spec.keys):
                self._insert(spec.title, spec.make(), spec.tip)
                made.append(spec.title)
        if OTHER not in self.views and OtherMetricsView.keys_of(metrics, SHOWN):
            self._insert(OTHER, self._spare_other(), "Every other number the recipe reports")
            made.append(OTHER)
        for view in self.views.values():
            view.add(run, epoch, metrics)
        return made

    def _insert(self, title: str, view: QWidget, tip: str) -> None:
        order = [s.title for s in VIEWS] + [OTHER]
        position = sum(1 for t in order[:order.index(title)] if t in self.views)
        first = self.tabs.indexOf(self.before)
        # views made in order sit at the front; the built-in tabs follow
        index = self.tabs.insertTab(position if first >= 0 else self.tabs.count(), view, title)
        self.tabs.setTabToolTip(index, tip)
        self.views[title] = view
        if self.epochs:
            _set_epochs(view, self.epochs)

    def is_view(self, widget: QWidget | None) -> bool:
        return widget is not None and any(widget is v for v in self.views.values())

    def refresh(self, widget: QWidget | None = None) -> None:
        """Draw ``widget`` (one of the views) or, without it, every view."""
        for view in self.views.values():
            if widget is None or view is widget:
                view.refresh()

    def clear(self, keep: int | None = None) -> None:
        """Forget every run but ``keep``; without one, remove every task tab."""
        if keep is None:
            for view in self.views.values():
                self.tabs.removeTab(self.tabs.indexOf(view))
                view.deleteLater()
            self.views = {}
            self._spare = self._spare or OtherMetricsView(SHOWN)
            return
        for view in self.views.values():
            view.remove_runs(keep)


def _set_epochs(view: QWidget, total: int) -> None:
    if hasattr(view, "set_epochs"):  # the plots (`task_plots`); text, image and table views have no epoch axis
        view.set_epochs(total)
