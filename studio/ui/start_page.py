"""The start page: New, Open, recent files, and the presets as cards.

Each preset card shows a thumbnail of its graph drawn by the editor's own
`NetworkScene` (laid out in rows when the graph is one long line, so it
reads at card size), its title, and its one-line description with the
"about" paragraph as tooltip. Signals: `new_requested()`, `open_requested()`,
`path_chosen(Path)` (a recent file or a preset).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
                               QScrollArea, QVBoxLayout, QWidget)

from studio.graph import Project
from studio.graph import io as project_io
from studio.presets import list_presets
from studio.ui import flow, theme
from studio.graph.layout import flow_of
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
    flow.use(flow_of(project))
    scene = NetworkScene(net)  # no analysis: shape labels are unreadable at card size, and it costs seconds
    pm = QPixmap(size * dpr)
    pm.setDevicePixelRatio(dpr)
    pm.fill(theme.current().canvas)
    painter = QPainter(pm)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    scene.render(painter, QRectF(6, 6, size.width() - 12, size.height() - 12), scene.items_rect())
    painter.end()
    scene.detach()
    flow.use(shown)  # the cards read the direction as they paint: put it back only now
    return pm


_THUMBNAILS: dict[tuple, tuple[QPixmap, str]] = {}


def preset_picture(path: Path, size: QSize, dpr: float) -> tuple[QPixmap, str]:
    """(thumbnail, about text) of a preset file, cached per file version, theme and scale."""
    key = (str(path), path.stat().st_mtime, theme.current().name, size.width(), size.height(), dpr)
    if key not in _THUMBNAILS:
        project = project_io.load(path)
        _THUMBNAILS[key] = (render_thumbnail(project, size, dpr), project.metadata.get("about", ""))
    return _THUMBNAILS[key]


class PresetCard(QFrame):
    """One preset: thumbnail, title, description. Signal: clicked(Path)."""

    clicked = Signal(Path)

    def __init__(self, info, parent=None):
        super().__init__(parent)
        self.info = info
        self.setObjectName("card")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFixedWidth(300)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(6)
        self.picture = QLabel()
        self.picture.setFixedSize(280, 150)
        try:
            picture, about = preset_picture(info.path, QSize(280, 150), self.devicePixelRatioF() or 1.0)
            self.picture.setPixmap(picture)
        except Exception as e:  # a broken preset still gets a card that says so
            self.picture.setText(f"cannot show: {e}")
            about = ""
        layout.addWidget(self.picture)
        title = QLabel(f"<b>{info.title}</b>" + (f"  <span style='color: gray'>{info.task}</span>" if info.task else ""))
        layout.addWidget(title)
        text = QLabel(info.description)
        text.setWordWrap(True)
        layout.addWidget(text)
        layout.addStretch(1)
        self.setToolTip(about or info.description)

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.info.path)
        super().mouseReleaseEvent(event)


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
        title = QLabel("Network Studio")
        f = title.font()
        f.setPointSizeF(f.pointSizeF() * 2)
        f.setBold(True)
        title.setFont(f)
        outer.addWidget(title)
        sub = QLabel("Design a neural network by dragging layers onto a canvas; every shape and mistake shows as you edit.")
        sub.setWordWrap(True)
        outer.addWidget(sub)

        row = QHBoxLayout()
        self.new_button = QPushButton("New project")
        self.open_button = QPushButton("Open…")
        for b in (self.new_button, self.open_button):
            b.setMinimumHeight(b.sizeHint().height() + 6)
            row.addWidget(b)
        row.addStretch(1)
        outer.addLayout(row)
        self.new_button.clicked.connect(self.new_requested)
        self.open_button.clicked.connect(self.open_requested)

        outer.addWidget(self._heading("Recent"))
        self.recent = QListWidget()
        self.recent.setMaximumHeight(130)
        self.recent.itemActivated.connect(lambda item: self.path_chosen.emit(Path(item.data(Qt.ItemDataRole.UserRole))))
        self.recent.itemClicked.connect(lambda item: self.path_chosen.emit(Path(item.data(Qt.ItemDataRole.UserRole))))
        outer.addWidget(self.recent)

        outer.addWidget(self._heading("Presets"))
        grid = QGridLayout()
        grid.setSpacing(14)
        self.cards = []
        for i, info in enumerate(list_presets()):
            card = PresetCard(info)
            card.clicked.connect(self.path_chosen)
            grid.addWidget(card, i // 3, i % 3)
            self.cards.append(card)
        grid.setColumnStretch(3, 1)
        outer.addLayout(grid)
        outer.addStretch(1)
        self.setWidget(body)
        self.refresh_recent()

    def _heading(self, text: str) -> QLabel:
        label = QLabel(text)
        f = label.font()
        f.setPointSizeF(f.pointSizeF() * 1.25)
        f.setBold(True)
        label.setFont(f)
        return label

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
