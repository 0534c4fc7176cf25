"""The breadcrumb bar above the canvas: "main › stage1 › inner", each part a button back up.

`set_path(names, networks)` shows the levels; clicking level i sends
`level_chosen(i)`. The last part (where you are) is shown bold and is not
clickable. A project with several networks (a GAN's generator and
discriminator) gets a network chooser in front, which sends
`network_chosen(name)`.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QToolButton, QWidget


class Breadcrumb(QWidget):
    """The way down into blocks. Signals: level_chosen(int), network_chosen(str)."""

    level_chosen = Signal(int)
    network_chosen = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(8, 3, 8, 3)
        self._layout.setSpacing(2)
        self.buttons: list[QToolButton] = []

    def set_path(self, names: list[str], networks: list[str] = ()) -> None:
        """Shows `names` (top network first); with several `networks`, a chooser for them."""
        while self._layout.count():
            w = self._layout.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self.buttons = []
        self.networks = None
        if len(networks) > 1:
            self.networks = QComboBox()
            self.networks.addItems(list(networks))
            self.networks.setCurrentText(names[0])
            self.networks.setToolTip("The project's networks: choose the one to edit")
            self.networks.textActivated.connect(self.network_chosen)
            self._layout.addWidget(QLabel("network"))
            self._layout.addWidget(self.networks)
        for i, name in enumerate(names):
            if i:
                self._layout.addWidget(QLabel("›"))
            b = QToolButton()
            b.setText(name if i == 0 else f"block {name}")
            b.setAutoRaise(True)
            last = i == len(names) - 1
            b.setEnabled(not last)
            if last:
                f = b.font()
                f.setBold(True)
                b.setFont(f)
            b.clicked.connect(lambda _=False, i=i: self.level_chosen.emit(i))
            self._layout.addWidget(b)
            self.buttons.append(b)
        self._layout.addStretch(1)
        self.setVisible(len(names) > 1 or len(networks) > 1)
