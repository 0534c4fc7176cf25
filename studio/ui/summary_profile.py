"""The summary's Profile button: measured forward / backward time, activation memory and share per layer.

`ProfileButton` sits above the `SummaryTable`. A click profiles the network
on show (`studio.train.layer_profile.profile_network`, the same figures as
`studio summary --profile`) on a snapshot of the project in a worker thread
(`BackgroundJob`), then adds four columns to the table: fwd ms, bwd ms,
act. memory and share. The next edit (the table refills) takes them away
again, since the figures no longer describe the network. The project comes
from the window's editor, so the table needs no extra wiring; a block
opened on its own is not profiled (a block instance is, as one row of its
network).
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QPushButton, QStyledItemDelegate, QTableWidgetItem

from studio.graph import io
from studio.ui.background import BackgroundJob

HEADERS = ("fwd ms", "bwd ms", "act. memory", "share")
KEYS = ("forward_ms", "backward_ms", "activation_bytes", "share")
SHARE = Qt.ItemDataRole.UserRole + 1  # a share cell's fraction, drawn as a bar under its text


class ShareBars(QStyledItemDelegate):
    """Draws each cell's `SHARE` as a bar from the left, so the layers that take the time stand out."""

    def paint(self, painter, option, index) -> None:
        share = index.data(SHARE)
        if isinstance(share, float) and share > 0:
            colour = QColor(option.palette.highlight().color())
            colour.setAlpha(90)
            r = QRectF(option.rect).adjusted(1, 3, -1, -3)
            painter.fillRect(QRectF(r.left(), r.top(), r.width() * min(share, 1.0), r.height()), colour)
        super().paint(painter, option, index)


class ProfileButton(QPushButton):
    """Profiles the network on show and adds its figures to `table` (a `SummaryTable`)."""

    def __init__(self, table, parent=None):
        super().__init__("Profile", parent)
        self.table = table
        self.job: BackgroundJob | None = None
        self.rows: dict | None = None
        self.bars = ShareBars(self)
        self.setToolTip("Measure forward and backward time and activation memory per layer "
                        "(a batch of 8 on the training device)")
        self.clicked.connect(self.start)

    @Slot()
    def start(self) -> None:
        """Profiles the editor's network in a worker thread."""
        editor = getattr(self.window(), "editor", None)
        if editor is None or (self.job is not None and self.job.running):
            return
        if editor.in_block():
            self.table.totals.setText("  open the network to profile it: a block is profiled as part of it")
            return
        from studio.train.layer_profile import profile_network  # torch-heavy: only when asked

        state, network = io.to_dict(editor.project), editor.network.name
        self.setEnabled(False)
        self.setText("Profiling…")
        self.job = BackgroundJob(lambda progress: profile_network(io.from_dict(state, "<profile copy>"), network),
                                 self)
        self.job.start()

    @Slot(str, float)
    def job_progress(self, step: str, fraction: float) -> None:
        pass

    @Slot(object)
    def job_done(self, rows: dict) -> None:
        self._idle()
        self.show_rows(rows)

    @Slot(str)
    def job_failed(self, message: str) -> None:
        self._idle()
        self.table.totals.setText(f"  could not profile: {message}")

    def _idle(self) -> None:
        self.setEnabled(True)
        self.setText("Profile")

    def show_rows(self, rows: dict) -> None:
        """Adds the profile columns, one cell per row whose node was measured."""
        from studio.train.layer_profile import cell

        self.rows = rows
        t = self.table.table
        base = t.columnCount() - len(HEADERS) if t.columnCount() > 5 else t.columnCount()
        t.setColumnCount(base + len(HEADERS))
        t.setHorizontalHeaderLabels([t.horizontalHeaderItem(c).text() for c in range(base)] + list(HEADERS))
        for r in range(t.rowCount()):
            figures = rows.get(t.item(r, 0).data(Qt.ItemDataRole.UserRole), {})
            for c, key in enumerate(KEYS):
                item = QTableWidgetItem(cell(key, figures[key]) if key in figures else "")
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if key == "share" and key in figures:
                    item.setData(SHARE, float(figures[key]))
                t.setItem(r, base + c, item)
        t.setItemDelegateForColumn(base + KEYS.index("share"), self.bars)

    def clear(self, columns: int) -> None:
        """Takes the profile columns away (the table keeps its first `columns`)."""
        if self.rows is not None:
            self.rows = None
            self.table.table.setColumnCount(columns)

    def wait(self) -> None:
        """Blocks until a running profile has finished."""
        if self.job is not None:
            self.job.wait()
