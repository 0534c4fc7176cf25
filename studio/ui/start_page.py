"""The start page: New, Open, recent files, and the preset gallery (`studio.ui.gallery`).

A preset's thumbnail is its first network drawn by the editor's own
`NetworkScene`, laid out top to bottom and cut into columns (`folded`) so a
long chain fills the wide card.
Signals: `new_requested()`, `open_requested()`, `path_chosen(Path)` (a recent
file or a preset).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
                               QScrollArea, QVBoxLayout, QWidget)

from studio.graph import Project
from studio.graph import io as project_io
from studio.ui import flow, theme
from studio.graph.layout import NODE_H, NODE_W, layered
from studio.ui.gallery import Gallery, PresetCard  # noqa: F401  (PresetCard: the cards' class)
from studio.ui.scene import NetworkScene

MAX_RECENT = 8


def settings() -> QSettings:
    """The app's settings store (recent files, theme)."""
    return QSettings("NetworkStudio", "Network Studio")


def recent_files() -> list[Path]:
    """Recently opened project files that still exist, newest first."""
    value = settings().value("recent", []) or []
    if isinstance(value, str):
        value = [value]
    return [Path(p) for p in value if Path(p).exists()]


def add_recent(path: Path) -> None:
    """Puts `path` first in the recent files."""
    paths = [str(path.resolve())] + [str(p) for p in recent_files() if p.resolve() != path.resolve()]
    settings().setValue("recent", paths[:MAX_RECENT])


def render_thumbnail(project: Project, size: QSize, dpr: float = 1.0) -> QPixmap:
    """A picture of the project's first network, drawn by the editor's scene."""
    net = project.network()
    shown = flow.current()
    flow.use("down")
    for nid, pos in folded(layered(net, "down"), size.width() / size.height()).items():
        net.move(nid, pos)  # a throwaway copy, loaded just for the card
    scene = NetworkScene(net)  # no analysis: shape labels are unreadable at card size, and it costs seconds
    pm = QPixmap(size * dpr)
    pm.setDevicePixelRatio(dpr)
    pm.fill(theme.current().canvas)
    painter = QPainter(pm)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    target = QRectF(6, 6, size.width() - 12, size.height() - 12)
    scene.render(painter, target, thumbnail_source(scene.items_rect(), target))
    painter.end()
    scene.detach()
    flow.use(shown)  # the cards read the direction as they paint: put it back only now
    return pm


def folded(positions: dict[str, tuple[float, float]], aspect: float, gap: float = 120.0) -> dict:
    """A top-to-bottom drawing cut into side-by-side columns, so a long chain fills a wide card."""
    if not positions:
        return positions
    width = max(x for x, _ in positions.values()) + NODE_W + gap
    height = max(y for _, y in positions.values()) + NODE_H
    columns = max(1, round((aspect * height / width) ** 0.5))
    band = height / columns
    return {nid: (x + min(int(y // band), columns - 1) * width, y - min(int(y // band), columns - 1) * band)
            for nid, (x, y) in positions.items()}


THUMB_MIN_SCALE = 0.22  # below this the cards are specks: show the network's start instead of all of it


def thumbnail_source(rect: QRectF, target: QRectF) -> QRectF:
    """The part of the scene a thumbnail shows: all of it, or its left end (the inputs) at a visible scale."""
    if min(target.width() / rect.width(), target.height() / rect.height()) >= THUMB_MIN_SCALE:
        return rect
    w, h = target.width() / THUMB_MIN_SCALE, target.height() / THUMB_MIN_SCALE
    return QRectF(rect.left(), rect.center().y() - h / 2, w, h)


_THUMBNAILS: dict[tuple, tuple[QPixmap, str]] = {}


def preset_picture(path: Path, size: QSize, dpr: float) -> tuple[QPixmap, str]:
    """(thumbnail, about text) of a preset file, cached per file version, theme and scale."""
    key = (str(path), path.stat().st_mtime, theme.current().name, size.width(), size.height(), dpr)
    if key not in _THUMBNAILS:
        project = project_io.load(path)
        _THUMBNAILS[key] = (render_thumbnail(project, size, dpr), project.metadata.get("about", ""))
    return _THUMBNAILS[key]


def _bold(text: str, scale: float) -> QLabel:
    """A bold label ``scale`` times the size of the UI font (the page's title, its headings)."""
    label = QLabel(text)
    f = label.font()
    f.setPointSizeF(f.pointSizeF() * scale)
    f.setBold(True)
    label.setFont(f)
    return label


class StartPage(QScrollArea):
    """The first page (see the module docstring)."""

    new_requested = Signal()
    open_requested = Signal()
    path_chosen = Signal(Path)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        outer = QVBoxLayout(body)
        outer.setContentsMargins(36, 28, 36, 28)
        outer.setSpacing(14)
        outer.addWidget(_bold("Network Studio", 2))
        sub = QLabel("Design a neural network by dragging layers onto a canvas; every shape and mistake shows as you edit.")
        sub.setWordWrap(True)
        outer.addWidget(sub)
        outer.addLayout(self._buttons())
        outer.addWidget(_bold("Recent", 1.25))
        outer.addWidget(self._recent_list())
        outer.addWidget(_bold("Presets", 1.25))
        self.gallery = Gallery()
        self.gallery.chosen.connect(self.path_chosen)
        self.cards = self.gallery.cards
        outer.addWidget(self.gallery)
        outer.addStretch(1)
        self.setWidget(body)
        self.refresh_recent()

    def _buttons(self) -> QHBoxLayout:
        """New project and Open…, a little taller than plain buttons."""
        row = QHBoxLayout()
        self.new_button = QPushButton("New project")
        self.open_button = QPushButton("Open…")
        for b in (self.new_button, self.open_button):
            b.setMinimumHeight(b.sizeHint().height() + 6)
            row.addWidget(b)
        row.addStretch(1)
        self.new_button.clicked.connect(self.new_requested)
        self.open_button.clicked.connect(self.open_requested)
        return row

    def _recent_list(self) -> QListWidget:
        """The recent files (`refresh_recent` fills it); a click or Enter opens one."""
        self.recent = QListWidget()
        self.recent.setMaximumHeight(130)
        self.recent.itemActivated.connect(lambda item: self.path_chosen.emit(Path(item.data(Qt.ItemDataRole.UserRole))))
        self.recent.itemClicked.connect(lambda item: self.path_chosen.emit(Path(item.data(Qt.ItemDataRole.UserRole))))
        return self.recent

    def refresh_recent(self) -> None:
        """Lists the recent files again."""
        self.recent.clear()
        for p in recent_files():
            item = QListWidgetItem(f"{p.name}    —    {p.parent}")
            item.setData(Qt.ItemDataRole.UserRole, str(p))
            item.setToolTip(str(p))
            self.recent.addItem(item)
        if not self.recent.count():
            item = QListWidgetItem("No recent projects yet.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.recent.addItem(item)
