"""The preset gallery of the start page: search, filter by kind, cards that say what each preset is.

`Gallery` lists every preset as a `PresetCard` (a thumbnail of its network,
its whole title, its parameter count and what it trains on, its one-line
description; the "about" paragraph is the tooltip). Typing in the search box
keeps the cards whose name, title, description or data match every word; the
kind buttons (All, vision, sequence, generative, RL, other:
`studio.presets.CATEGORIES`) keep one kind. The cards reflow to the page's
width, small networks of each kind first, so LeNet-5 is the first card.
Signal: `chosen(Path)`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (QButtonGroup, QFrame, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QVBoxLayout, QWidget)

from studio.presets import CATEGORIES, PresetInfo, list_presets

CARD_W, PICTURE = 300, QSize(280, 150)
LABELS = {"vision": "Vision", "sequence": "Sequence", "generative": "Generative", "RL": "RL", "other": "Other"}


def gallery_order(infos: list[PresetInfo]) -> list[PresetInfo]:
    """Kind by kind (vision first), smallest network first within a kind."""
    return sorted(infos, key=lambda i: (CATEGORIES.index(i.category) if i.category in CATEGORIES else 99,
                                        i.params if i.params is not None else 1 << 62, i.name))


def facts(info: PresetInfo) -> str:
    """The card's line of facts: "61,706 parameters · trains on digits"."""
    parts = [f"{info.params:,} parameters"] if info.params is not None else []
    if info.trains_on:
        parts.append(f"trains on {info.trains_on.replace('_', ' ')}")
    return " · ".join(parts)


def matches(info: PresetInfo, text: str, kind: str) -> bool:
    """True when the card of `info` shows under the search `text` and the kind filter ("" for all)."""
    if kind and info.category != kind:
        return False
    hay = " ".join((info.name, info.title, info.description, info.task, info.trains_on, info.category)).lower()
    return all(word in hay for word in text.lower().split())


class PresetCard(QFrame):
    """One preset: thumbnail, title, facts, description. Signal: clicked(Path)."""

    clicked = Signal(Path)

    def __init__(self, info: PresetInfo, parent=None):
        super().__init__(parent)
        from studio.ui.start_page import preset_picture  # the thumbnail cache lives with the start page

        self.info = info
        self.setObjectName("card")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFixedWidth(CARD_W)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(4)
        self.picture = QLabel()
        self.picture.setFixedSize(PICTURE)
        try:
            picture, about = preset_picture(info.path, PICTURE, self.devicePixelRatioF() or 1.0)
            self.picture.setPixmap(picture)
        except Exception as e:  # a broken preset still gets a card that says so
            self.picture.setText(f"cannot show: {e}")
            about = ""
        layout.addWidget(self.picture)
        self.title = QLabel(f"<b>{info.title}</b>")
        self.title.setWordWrap(True)  # the whole title, on two lines if need be
        layout.addWidget(self.title)
        self.facts = QLabel(facts(info))
        self.facts.setWordWrap(True)
        self.facts.setEnabled(False)  # drawn in the muted text colour
        layout.addWidget(self.facts)
        text = QLabel(info.description)
        text.setWordWrap(True)
        layout.addWidget(text)
        layout.addStretch(1)
        self.setToolTip(about or info.description)

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.info.path)
        super().mouseReleaseEvent(event)


class Gallery(QWidget):
    """Search box, kind buttons and the cards (see the module docstring)."""

    chosen = Signal(Path)

    def __init__(self, parent=None):
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(10)
        row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search presets (name, task, data…)")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(self.search.fontMetrics().horizontalAdvance(self.search.placeholderText()) + 40)
        self.search.textChanged.connect(self._refilter)
        row.addWidget(self.search)
        self.kinds = QButtonGroup(self)
        self.kind_buttons: dict[str, QPushButton] = {}
        for kind, label in [("", "All"), *LABELS.items()]:
            b = QPushButton(label)
            b.setCheckable(True)
            b.setChecked(kind == "")
            self.kinds.addButton(b)
            self.kind_buttons[kind] = b
            b.toggled.connect(lambda on, k=kind: on and self.set_kind(k))
            row.addWidget(b)
        row.addStretch(1)
        outer.addLayout(row)
        self.kind = ""
        self.empty = QLabel("No preset matches.")
        self.empty.hide()
        outer.addWidget(self.empty)
        self.grid = QGridLayout()
        self.grid.setSpacing(14)
        self.grid.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        outer.addLayout(self.grid)
        self.cards = []
        for info in gallery_order(list_presets()):
            card = PresetCard(info)
            card.clicked.connect(self.chosen)
            self.cards.append(card)
        self._columns = 0
        self._place()

    def set_kind(self, kind: str) -> None:
        """Shows only presets of `kind` ("" for all)."""
        self.kind = kind
        self.kind_buttons[kind].setChecked(True)
        self._refilter()

    def shown(self) -> list[PresetCard]:
        """The cards that pass the search and the filter, in order."""
        return [c for c in self.cards if matches(c.info, self.search.text(), self.kind)]

    def _refilter(self, *_) -> None:
        self._place(force=True)

    def _place(self, force: bool = False) -> None:
        columns = max(1, (self.width() + 14) // (CARD_W + 14))
        if columns == self._columns and not force:
            return
        self._columns = columns
        for card in self.cards:
            self.grid.removeWidget(card)
            card.hide()
        shown = self.shown()
        for i, card in enumerate(shown):
            self.grid.addWidget(card, i // columns, i % columns)
            card.show()
        self.empty.setVisible(not shown)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place()
