"""Starting the GUI: `run(path)` opens the main window and returns the exit code.

`studio` shows the start page (offering back autosaved work if the last
session crashed); `studio FILE` opens FILE. The theme follows the saved
choice, else the system's colour scheme.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from studio.graph import warmup
from studio.ui import theme, wheel_guard
from studio.ui.collector import collect_in_gui_thread
from studio.ui.main_window import MainWindow
from studio.ui.start_page import settings


def make_window(path: Path | None = None) -> MainWindow:
    """The main window, themed, with `path` opened (or recovered work offered)."""
    app = QApplication.instance()
    collect_in_gui_thread()
    wheel_guard.install(app)
    theme.apply(app, str(settings().value("theme", "system")))
    window = MainWindow()
    if not window.offer_recovery() and path is not None:
        window.open_path(Path(path))
    return window


def run(path: Path | None = None) -> int:
    """Shows the main window (with the project at `path`, if any) until it closes."""
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Network Studio")
    app.setOrganizationName("NetworkStudio")
    collect_in_gui_thread()  # before the warm-up thread starts
    if path is None:
        warmup.start()  # torch's first shape analysis is slow; pay it while the start page shows
    window = make_window(path)
    window.show()
    return app.exec()
