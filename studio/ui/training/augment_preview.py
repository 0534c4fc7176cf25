"""The data panel's augmentation preview: a few training images and augmented draws of each.

`AugmentPreview` shows one row per sample: the image as stored, then
`DRAWS` versions as training reads them with the project's ``augment``
settings (`studio.train.inspect.augmented_samples`, on a snapshot of the
project in a worker thread, `LatestJob`); with no augmentation on it draws
nothing. `request()` (the panel calls it whenever the data settings change,
undo included) waits `DEBOUNCE_MS` for edits to settle; while the panel is
hidden the refresh waits until it is shown.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.graph import io
from studio.ui.latest_job import LatestJob
from studio.ui.node_preview import COLUMNS, ImageGrid

DEBOUNCE_MS = 300
SAMPLES = 3
DRAWS = COLUMNS - 1
TILE = 48


class AugmentPreview(QWidget):
    """Stored and augmented training images of the panel's project (see the module docstring)."""

    def __init__(self, panel, parent=None):
        super().__init__(parent)
        self.panel = panel
        self.shown: tuple | None = None   # (originals, augmented) on show
        self._stale = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setEnabled(False)
        layout.addWidget(self.caption)
        self.grid = ImageGrid()
        layout.addWidget(self.grid)
        self.runner = LatestJob(self, DEBOUNCE_MS, self._work, self._done, self._failed)

    @Slot()
    @Slot(str)
    def request(self, section: str = "data") -> None:
        """Draws new samples once the settings have settled (or once shown, while hidden)."""
        if self.panel.project is None or section != "data":
            return
        if not self._options():
            self.runner.cancel()
            self.caption.setText("Tick an augmentation to see training images as the network gets them.")
            self.grid.show_images([], [])
            self.shown = None
            return
        if not self.isVisible():
            self._stale = True
            return
        self.runner.request()

    def _options(self) -> list[str]:
        augment = (self.panel.project.data or {}).get("augment") or {}
        return [k for k, v in augment.items() if v] if isinstance(augment, dict) else []

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.runner.request()

    def _work(self):
        if self.panel.project is None or not self._options():
            return None
        from studio.train.inspect import augmented_samples  # torch-heavy: only when shown

        state = io.to_dict(self.panel.project)
        path = getattr(getattr(self.window(), "document", None), "path", None)
        root = Path(path).parent if path else None
        self.caption.setText("drawing samples…")
        return lambda: augmented_samples(io.from_dict(state, "<augment preview>"), root, samples=SAMPLES, draws=DRAWS)

    def _done(self, result) -> None:
        if not self._options():  # turned off meanwhile
            return
        originals, augmented = result
        self.shown = result
        images, captions = [], []
        for i, (image, draws) in enumerate(zip(originals, augmented)):
            images += [image] + list(draws)  # C×H×W: RGB in colour, others grey (`tensor_pixmap`)
            captions += [f"sample {i + 1} as stored"] + [f"sample {i + 1}, draw {k + 1}" for k in range(len(draws))]
        # one scale for the whole grid, 0 to 1 at least: a brightness draw shows as brighter
        span = (min(0.0, *(float(i.min()) for i in images)), max(1.0, *(float(i.max()) for i in images)))
        self.grid.show_images(images, captions, TILE, span)
        self.caption.setText(f"first column as stored, then as training reads them ({', '.join(self._options())})")

    def _failed(self, message: str) -> None:
        self.shown = None
        self.grid.show_images([], [])
        self.caption.setText(message)

    def wait(self) -> None:
        """Blocks until a running draw has finished."""
        self.runner.wait()
