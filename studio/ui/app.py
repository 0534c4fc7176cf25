"""Starting the GUI: `run(path)` opens the main window and returns the exit code."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow


def run(path: Path | None = None) -> int:
    """Shows the main window (with the project at `path`, if any) until it closes."""
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("Network Studio")
    window = QMainWindow()
    window.setWindowTitle(f"Network Studio — {path.name}" if path else "Network Studio")
    label = QLabel("The editor is not built yet.\nUse the studio command line: presets, check, summary, code.")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    window.setCentralWidget(label)
    window.resize(900, 600)
    window.show()
    return app.exec()
