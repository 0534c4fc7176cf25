"""The inspector's Preview: what the selected node outputs on a few samples of the project's data.

`NodePreviewSection` follows one node: `request()` (after every edit the
inspector sees) waits `DEBOUNCE_MS` for the edits to settle, then runs
`studio.train.inspect.inspect_node` on a copy of the project in a worker
thread (`LatestJob`); an edit made meanwhile asks again once it is done.
It shows the shape and mean / std / min / max / zeros, a histogram
(pyqtgraph), the feature maps of a convolution (first sample, one grey
image per channel; an Input fed colour images shows the first one in
colour, then its red, green and blue channels, its normalisation undone),
the attention weights of an attention layer (one image
per head) and the most likely tokens or classes of logits.

The weights are those of the window's last finished run (`files.last_run_weights`)
when it has one, else the project's own initial weights or fresh ones; the
data is resolved against the project file's folder. Both are read from the
window the section lives in, so the inspector needs no extra wiring.

`tensor_pixmap` (a 2-D tensor as a grey image, a 3×H×W one in colour) is
shared with the augmentation preview.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QImage, QPalette, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from studio.graph import io
from studio.ui.latest_job import LatestJob

DEBOUNCE_MS = 400
TILE = 56      # pixels per feature map
COLUMNS = 4    # images per row


def tensor_pixmap(t: torch.Tensor, size: int = TILE, span: tuple[float, float] | None = None) -> QPixmap:
    """A tensor as an image `size` pixels wide: `span` (else its own min, max) from black to white.

    H×W is grey; C×H×W is in colour when C is 3 (red, green, blue, scaled together
    so their balance stays), else the mean of its channels in grey.
    """
    t = t.detach().float()
    t = torch.nan_to_num(t)
    if t.dim() == 3 and t.shape[0] != 3:
        t = t.mean(dim=0)
    lo, hi = span or (float(t.min()), float(t.max()))
    t = t.clamp(lo, hi)
    scaled = (t - lo) / (hi - lo) if hi > lo else torch.zeros_like(t)
    pixels = (scaled * 255).round().to(torch.uint8)
    if t.dim() == 3:
        pixels = np.ascontiguousarray(pixels.permute(1, 2, 0).numpy())
        h, w, _ = pixels.shape
        image = QImage(pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()  # copy: numpy owns the buffer
    else:
        pixels = np.ascontiguousarray(pixels.numpy())
        h, w = pixels.shape
        image = QImage(pixels.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(image).scaled(size, max(1, round(size * h / w)), Qt.AspectRatioMode.IgnoreAspectRatio,
                                           Qt.TransformationMode.FastTransformation)


def node_address(editor, node_id: str) -> tuple[str, str]:
    """(network, address) of a node on show: its name, or ``instance/…/name`` inside an opened block."""
    levels = editor.levels
    names = []
    for i, (_, _, via) in enumerate(levels[1:]):
        kind, name, _ = levels[i]
        parent = editor.project.networks[name] if kind == "net" else editor.project.blocks[name].network
        names.append(parent.nodes[via].name)
    names.append(editor.network.nodes[node_id].name)
    return levels[0][1], "/".join(names)


class ImageGrid(QWidget):
    """Images in rows of `COLUMNS`, each with a small caption."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(4)
        self.tiles: list[QLabel] = []

    def show_images(self, images: list[torch.Tensor], captions: list[str], size: int = TILE,
                    span: tuple[float, float] | None = None) -> None:
        """Shows one tile per tensor, as `tensor_pixmap` draws it (none: the grid hides)."""
        for tile in self.tiles:
            self.grid.removeWidget(tile)
            tile.deleteLater()
        self.tiles = []
        for i, (image, caption) in enumerate(zip(images, captions)):
            tile = QLabel()
            tile.setPixmap(tensor_pixmap(image, size, span))
            tile.setToolTip(caption)
            tile.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.grid.addWidget(tile, i // COLUMNS, i % COLUMNS)
            self.tiles.append(tile)
        self.setVisible(bool(images))


class HistogramPlot(pg.PlotWidget):
    """Counts over bin edges as bars, in the palette's colours."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumSize(120, 110)
        self.setMaximumHeight(140)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.getPlotItem().setMenuEnabled(False)
        self.getAxis("left").setWidth(44)  # room for counts in the thousands
        self.bars: pg.BarGraphItem | None = None
        self._ready = True  # palette events arrive while pyqtgraph is still building the plot
        self.apply_palette()

    def show_histogram(self, counts: list[int], edges: list[float]) -> None:
        """Draws the bars (the old ones go)."""
        if self.bars is not None:
            self.removeItem(self.bars)
            self.bars = None
        if counts:
            left, right = np.array(edges[:-1]), np.array(edges[1:])
            colour = self.palette().color(QPalette.ColorRole.Highlight)
            self.bars = pg.BarGraphItem(x0=left, x1=right, y0=0, y1=np.array(counts, dtype=float),
                                        brush=colour, pen=pg.mkPen(colour.darker(120)))
            self.addItem(self.bars)
            self.setXRange(edges[0], edges[-1], padding=0.02)
            self.setYRange(0, max(counts) or 1, padding=0.05)

    def changeEvent(self, event: QEvent) -> None:
        if self.__dict__.get("_ready") and event.type() in (QEvent.Type.PaletteChange,
                                                            QEvent.Type.ApplicationPaletteChange):
            self.apply_palette()
        super().changeEvent(event)

    def apply_palette(self) -> None:
        pal = self.palette()
        self.setBackground(pal.color(QPalette.ColorRole.Base))
        for name in ("left", "bottom"):
            axis = self.getAxis(name)
            axis.setPen(pg.mkPen(pal.color(QPalette.ColorRole.Mid)))
            axis.setTextPen(pg.mkPen(pal.color(QPalette.ColorRole.Text)))
        if self.bars is not None:
            colour = pal.color(QPalette.ColorRole.Highlight)
            self.bars.setOpts(brush=colour, pen=pg.mkPen(colour.darker(120)))


class NodePreviewSection(QWidget):
    """The Preview of one node (see the module docstring); `preview` holds the last result shown."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.editor, self.node_id = None, None
        self.preview = None
        self._asked: tuple | None = None   # (editor, node id) the running job was started for
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(QLabel("<b>Preview</b>"))
        self.status = QLabel("waiting for edits to settle…")
        self.status.setWordWrap(True)
        self.status.setEnabled(False)
        layout.addWidget(self.status)
        self.stats = QLabel()
        self.stats.setWordWrap(True)
        self.stats.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.stats)
        self.histogram = HistogramPlot()
        layout.addWidget(self.histogram)
        self.maps_title = QLabel()
        self.maps_title.setWordWrap(True)  # a long title must not widen the inspector
        layout.addWidget(self.maps_title)
        self.maps = ImageGrid()
        layout.addWidget(self.maps)
        self._hide_figures()
        self.runner = LatestJob(self, DEBOUNCE_MS, self._work, self._done, self._failed)

    def _hide_figures(self) -> None:
        for w in (self.stats, self.histogram, self.maps_title, self.maps):
            w.hide()

    def follow(self, editor, node_id: str) -> None:
        """Shows the preview of `node_id` on `editor`'s network from now on (emptied until it arrives)."""
        if (editor, node_id) != (self.editor, self.node_id):
            self.editor, self.node_id, self.preview = editor, node_id, None
            self.status.setText("waiting for edits to settle…")
            self._hide_figures()

    def request(self) -> None:
        """Computes the preview again once edits have settled for `DEBOUNCE_MS`."""
        self.runner.request()

    def _work(self):
        if self.editor is None or self.node_id not in self.editor.network.nodes:
            return None
        from studio.train.inspect import inspect_node  # torch-heavy: only once a preview is wanted

        self._asked = (self.editor, self.node_id)
        network, address = node_address(self.editor, self.node_id)
        state = io.to_dict(self.editor.project)  # a snapshot: the worker never sees the live project
        root, weights = self._context()
        self.status.setText(f"running {address} on the data…")
        return lambda: inspect_node(io.from_dict(state, "<preview copy>"), address, weights=weights,
                                    network=network, root=root, strict=False)

    def _context(self) -> tuple[Path | None, Path | None]:
        """The project file's folder and the last run's weights, from the window (None when it has none)."""
        window = self.window()
        path = getattr(getattr(window, "document", None), "path", None)
        weights = getattr(getattr(window, "files", None), "last_run_weights", None)
        if weights is not None and not Path(weights).is_file():
            weights = None
        return (Path(path).parent if path else None), weights

    def _done(self, preview) -> None:
        if self._asked != (self.editor, self.node_id):  # another node was chosen meanwhile
            self.runner.request()
            return
        self.preview = preview
        self._show(preview)

    def _failed(self, message: str) -> None:
        if self._asked != (self.editor, self.node_id):
            self.runner.request()
            return
        self.preview = None
        self.status.setText(f"no preview: {message}")
        self._hide_figures()

    def _show(self, p) -> None:
        s = p.stats
        fmt = lambda v: "n/a" if v is None else f"{v:.4g}"  # noqa: E731
        self.status.setText(p.inputs)
        lines = [f"shape <b>{' × '.join(str(d) for d in p.shape)}</b>",
                 f"mean {fmt(s['mean'])} · std {fmt(s['std'])}",
                 f"min {fmt(s['min'])} · max {fmt(s['max'])} · zeros {s['zero_fraction']:.1%}"]
        if p.top:
            lines.append("top: " + ", ".join(f"{t['token']!r} {t['p']:.0%}" for t in p.top))
        self.stats.setText("<br>".join(lines))
        self.stats.show()
        self.histogram.show_histogram(p.histogram["counts"], p.histogram["edges"])
        self.histogram.show()
        if p.attention is not None:
            self.maps_title.setText(f"attention, first sample ({p.attention.shape[0]} heads: queries ↓ keys →)")
            self.maps.show_images(list(p.attention), [f"head {i}" for i in range(len(p.attention))])
        elif p.maps is not None:
            self.maps_title.setText(f"feature maps, first sample ({len(p.maps)} of {len(p.channels)} channels)")
            if self._rgb_input(p):  # the image as it is, not stretched: normalisation undone, 0 to 1
                self.maps_title.setText("first sample in colour, then its red, green and blue channels")
                self.maps.show_images([p.picture, *p.picture], ["first sample (RGB)", "red", "green", "blue"],
                                      span=(0.0, 1.0))
            else:
                self.maps.show_images(list(p.maps), [f"channel {i}" for i in range(len(p.maps))])
        else:
            self.maps.show_images([], [])
        self.maps_title.setVisible(p.attention is not None or p.maps is not None)

    def _rgb_input(self, p) -> bool:
        """Whether the preview is of an Input the data feeds colour images."""
        node = self.editor.network.nodes.get(self.node_id) if self.editor is not None else None
        return node is not None and node.role == "input" and p.picture is not None

    def wait(self) -> None:
        """Blocks until a running preview has finished (the inspector calls it before going)."""
        self.runner.wait()
