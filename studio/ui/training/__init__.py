"""The training dock: settings, a background run and a live dashboard.

    dock = TrainingDock(main_window)
    dock.set_project(project, path)      # the settings panel edits project.training / .data
    main_window.addDockWidget(Qt.BottomDockWidgetArea, dock)
    dock.status_message.connect(main_window.statusBar().showMessage)
    ...
    if not dock.request_close(): event.ignore()   # in closeEvent

Modules, one job each:

- `controller`: `TrainingController`, the Qt adapter around a Qt-free
  `studio.train.Trainer` running in a child process (`studio.train.process`);
  its events arrive as queued signals in the GUI thread.
- `runs`: where a run writes (`runs/<name>-<n>` beside the project file) and
  `RunRecord`, what the dashboard keeps of each run.
- `config_panel`: `ConfigPanel`, the form over the "training" and "data" sections.
- `dashboard`: `Dashboard`, live curves of every run (pyqtgraph).
- `confusion`: the confusion matrix and the per-class precision/recall/F1 table.
- `samples`: the grid of sample predictions.
- `task_views`: the task tabs (metric key → view table: text samples, generated
  images, GAN losses, word map, attention...); `task_plots`, `point_plots` and
  `attention_plots` hold their plots.
- `dock`: `TrainingDock`, all of it put together, with Train / Pause / Stop.
"""

from studio.ui.training.controller import TrainingController
from studio.ui.training.dock import TrainingDock

__all__ = ["TrainingController", "TrainingDock"]
