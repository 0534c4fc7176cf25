"""`ExplainView`: the dock's "Explain" tab: a confusion-matrix cell's samples and where the network looked.

Clicking a cell of the confusion matrix (`ConfusionView.cell_clicked`) hands
the view the run's weights (`set_source`) and the cell (`show_cell`): the
validation samples of that true class predicted as that class appear as
thumbnails (in colour for RGB images); clicking one shows its explanation
(`studio.train.explain`, Captum) overlaid on it, by the method and, for
Grad-CAM, the convolution node chosen above.

Loading the trained network and its data, and each explanation, run in a
worker thread (`BackgroundJob`, on a snapshot of the project taken in
`set_source`), one job at a time, while a busy bar shows. The view keeps
only the newest request (the cell, and the sample / method / node wanted):
a result that arrives for an older one is dropped, and the newest request
runs next, so a slow answer never replaces a newer choice. The network is
loaded once per weights file and runs on the training device
(`Explainer`'s ``device``).

Signals:
    explained(object): an `Explanation` now on show.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QProgressBar, QSizePolicy, QVBoxLayout, QWidget,
)

from studio.errors import StudioError
from studio.graph import io
from studio.ui.background import BackgroundJob
from studio.ui.training.samples import to_pixmap

METHOD_LABELS = (("Grad-CAM", "gradcam"), ("Saliency", "saliency"), ("Integrated gradients", "integrated_gradients"))
THUMB = 56
_IDLE = "Click a cell of the confusion matrix to see its samples."


def _pil_pixmap(picture: Any) -> QPixmap:
    data = picture.convert("RGB").tobytes()
    image = QImage(data, picture.width, picture.height, 3 * picture.width, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(image.copy())


def _load_cell(explainer, args: tuple, true: int, pred: int) -> tuple:
    """The job of a cell (worker thread): the explainer (built once), the cell's samples and their images."""
    if explainer is None:
        from studio.train.explain import Explainer  # torch and Captum: only once asked

        state, path, root = args
        explainer = Explainer(io.from_dict(state, "<explain copy>"), path, root)
    indices = explainer.cell_samples(true, pred)
    return explainer, indices, [explainer.image(i) for i in indices]


class ExplainView(QWidget):
    """A confusion cell's validation samples and the explanation of the one clicked (see the module docstring)."""

    explained = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._source: tuple | None = None
        self._args: tuple | None = None
        self.explainer = None
        self.cell: tuple[int, int] | None = None
        self.explanation = None
        self._names: list[str] = []
        self._want_cell: tuple | None = None   # ("cell", source, true, pred): the newest cell asked for
        self._have_cell: tuple | None = None   # the cell whose samples are on show
        self._want: tuple | None = None        # ("explain", cell, sample, method, node): the newest explanation
        self._have: tuple | None = None
        self._running = False
        self.job: BackgroundJob | None = None
        self._build()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.title = QLabel(_IDLE)
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        layout.addWidget(self._sample_strip())
        layout.addLayout(self._choices())
        self.busy = QProgressBar()  # moves while the worker thread loads or explains
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(6)
        self.busy.hide()
        layout.addWidget(self.busy)
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.picture.setMinimumSize(160, 160)
        layout.addWidget(self.picture, 1)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.caption)

    def _sample_strip(self) -> QListWidget:
        """The cell's samples as one row of thumbnails; choosing one explains it."""
        self.samples = QListWidget()
        self.samples.setViewMode(QListWidget.ViewMode.IconMode)
        self.samples.setIconSize(QSize(THUMB, THUMB))
        self.samples.setFlow(QListWidget.Flow.LeftToRight)
        self.samples.setWrapping(False)
        self.samples.setMovement(QListWidget.Movement.Static)
        self.samples.setFixedHeight(THUMB + 2 * self.fontMetrics().height() + 16)
        self.samples.currentRowChanged.connect(self._explain_current)
        return self.samples

    def _choices(self) -> QHBoxLayout:
        """The explanation method and the layer it looks at; a change explains the sample again."""
        row = QHBoxLayout()
        self.method = QComboBox()
        for label, name in METHOD_LABELS:
            self.method.addItem(label, name)
        self.node = QComboBox()
        self.node.setMinimumContentsLength(8)
        row.addWidget(QLabel("Method"))
        row.addWidget(self.method, 1)
        row.addWidget(QLabel("at"))
        row.addWidget(self.node, 1)
        self.method.currentIndexChanged.connect(self._explain_current)
        self.node.currentIndexChanged.connect(self._explain_current)
        return row

    @property
    def working(self) -> bool:
        """Whether a load or an explanation runs in the worker thread now."""
        return self._running

    def set_source(self, project: Any, weights: str | Path, root: Path | None) -> None:
        """Explain ``project``'s network with ``weights`` (a snapshot of the project is taken now)."""
        path = Path(weights)
        source = (id(project), str(path), path.stat().st_mtime if path.exists() else 0, str(root))
        if source != self._source:
            self._source, self._args, self.explainer = source, (io.to_dict(project), path, root), None

    def show_cell(self, true: int, pred: int, names: list[str] | None = None) -> bool:
        """Lists the validation samples of class ``true`` predicted as ``pred`` once loaded; False without weights."""
        self.cell, self._names = (true, pred), list(names or [])
        self.samples.clear()
        self.picture.clear()
        self.caption.clear()
        self.explanation, self._want = None, None
        if self._source is None:
            self.title.setText("Cannot explain: no trained weights yet: train the network first")
            return False
        self._want_cell, self._have_cell = ("cell", self._source, true, pred), None
        self.title.setText(f"True {self._label(true)}, predicted {self._label(pred)}: loading the samples…")
        self._next()
        return True

    def _label(self, c: int) -> str:
        return self._names[c] if c < len(self._names) else str(c)

    @Slot()
    def _explain_current(self, *_args) -> None:
        method = self.method.currentData()
        self.node.setEnabled(method == "gradcam")
        item = self.samples.currentItem()
        if item is None or self._have_cell is None or self._have_cell != self._want_cell:
            return
        sample = item.data(Qt.ItemDataRole.UserRole)
        node = (self.node.currentText() or None) if method == "gradcam" else None
        self._want = ("explain", self._have_cell, sample, method, node)
        if self._want != self._have:
            self.caption.setText(f"Explaining sample #{sample}…")
        self._next()

    # --- the worker thread: one job at a time, the newest request next --------------------

    def _next(self) -> None:
        """Starts the job the newest request needs, unless one runs (its end calls this again)."""
        if self._running:
            return
        if self._want_cell is not None and self._want_cell != self._have_cell:
            _, _, true, pred = request = self._want_cell
            explainer, args = self.explainer, self._args
            self._run(request, lambda: _load_cell(explainer, args, true, pred))
        elif self._want is not None and self._want != self._have and self._want[1] == self._have_cell:
            _, _, sample, method, node = request = self._want
            explainer = self.explainer
            self._run(request, lambda: explainer.explain(sample, method, node))
        else:
            self.busy.hide()

    def _run(self, request: tuple, work: Callable[[], Any]) -> None:
        def job(progress):
            try:
                return request, work(), None
            except StudioError as exc:
                return request, None, str(exc)

        self._running = True
        self.busy.show()
        self.job = BackgroundJob(job, self)
        self.job.start()

    @Slot(str, float)
    def job_progress(self, step: str, fraction: float) -> None:
        pass

    @Slot(object)
    def job_done(self, result: tuple) -> None:
        self._running = False
        request, value, error = result
        if request[0] == "cell" and request[1] == self._source and value is not None and self.explainer is None:
            self._adopt(value[0])  # even a stale cell's job built the network of these weights: keep it
        if request == self._want_cell:
            self._show_cell(request, value, error)
        elif request == self._want and request[1] == self._have_cell:
            self._show_explanation(request, value, error)
        self._next()  # a stale result is dropped: the newest request runs now

    @Slot(str)
    def job_failed(self, message: str) -> None:
        self._running = False
        self.busy.hide()
        self.caption.setText(f"Cannot explain: {message}")

    # --- showing (GUI thread) ---------------------------------------------------------------

    def _adopt(self, explainer) -> None:
        self.explainer = explainer
        self.node.blockSignals(True)
        self.node.clear()
        self.node.addItems(list(explainer.convolutions))
        self.node.setCurrentIndex(self.node.count() - 1)  # the last convolution, Grad-CAM's usual choice
        self.node.blockSignals(False)

    def _show_cell(self, request: tuple, value, error: str | None) -> None:
        self._have_cell = request
        if error is not None:
            self.title.setText(f"Cannot explain: {error}")
            return
        _, indices, images = value
        true, pred = request[2:]
        self.title.setText(f"True {self._label(true)}, predicted {self._label(pred)}: {len(indices)} validation "
                           "sample(s)" + (" — click one to see where the network looked." if indices else "."))
        for i, image in zip(indices, images):
            item = QListWidgetItem(QIcon(to_pixmap(image).scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio)),
                                   f"#{i}")
            item.setData(Qt.ItemDataRole.UserRole, i)
            self.samples.addItem(item)

    def _show_explanation(self, request: tuple, result, error: str | None) -> None:
        self._have = request
        if error is not None:
            self.explanation = None
            self.picture.clear()
            self.caption.setText(f"Cannot explain: {error}")
            return
        self.explanation = result
        self.picture.setPixmap(_pil_pixmap(result.picture(side=224)))
        where = f" at {result.node}" if result.node else ""
        label = self.method.itemText(self.method.findData(result.method))
        self.caption.setText(f"Sample #{result.sample}: {label}{where}, explaining the predicted class "
                             f"{self._label(result.pred)} (true {self._label(result.true)}). Red: what weighed most.")
        self.explained.emit(result)

    def clear(self) -> None:
        """Forget the weights and the cell (a job still running finishes, its result unseen)."""
        self._source, self.explainer, self.cell, self.explanation = None, None, None, None
        self._want_cell = self._have_cell = self._want = self._have = None
        self.samples.clear()
        self.picture.clear()
        self.caption.clear()
        self.title.setText(_IDLE)

    def wait(self) -> None:
        """Blocks until the jobs have ended (the dock calls it before going)."""
        for job in self.findChildren(BackgroundJob):
            job.wait()
