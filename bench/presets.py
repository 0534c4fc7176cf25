"""Per preset: load+analyse time, compile time, and forward time of the compiled model over hand-written code.

Prints `NAME_summary_ms`, `NAME_compile_ms` and, for presets with a hand-written
reference in bench/reference_models.py, `NAME_forward_ratio` (compiled over
hand-written, batch 8, same weights, at the preset's training input size so the
run fits a 2-core machine; target <= 1.03), and `resnet152_open_in_editor_ms`
(target < 1500).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference_models import REFERENCES, copy_weights  # noqa: E402

from studio.compile import compile_network  # noqa: E402
from studio.graph import Analyzer, io  # noqa: E402
from studio.presets import list_presets  # noqa: E402


def _ms(fn) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def forward_ratio(name: str, project, repeats: int = 21) -> float:
    """Median compiled time over median hand-written time, measured interleaved (alternating who goes first)."""
    net = project.network()
    image = next(n for n in net.nodes.values() if n.type == "Input")
    shape = project.training.get("input_shape", image.params["shape"])
    net.set_params(image.id, {"shape": shape})
    compiled = compile_network(project).eval()
    reference = REFERENCES[name]().eval()
    copy_weights(compiled, reference)
    x = torch.randn(8, *shape)
    with torch.inference_mode():
        torch.testing.assert_close(compiled(x), reference(x), rtol=1e-4, atol=1e-4)
        times = {"c": [], "r": []}
        for i in range(repeats):
            for key in ("cr" if i % 2 else "rc"):
                times[key].append(_ms(lambda: (compiled if key == "c" else reference)(x)))
    return statistics.median(times["c"]) / statistics.median(times["r"])


def open_in_editor_ms(path) -> float:
    """Time to open a project in the editor window and paint it (offscreen, after the launch warm-up)."""
    import os
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):  # keep the user's recent files clean
        QSettings.setPath(fmt, QSettings.Scope.UserScope, tempfile.mkdtemp(prefix="studio-bench-settings-"))
    app = QApplication.instance() or QApplication([])
    from studio.graph import warmup
    from studio.ui.main_window import MainWindow

    warmup.warm_up_analysis()  # as `studio` does while its start page shows
    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    app.processEvents()
    start = time.perf_counter()
    window.open_path(path)
    window.view.viewport().repaint()
    ms = (time.perf_counter() - start) * 1000
    window.editor.undo_stack.setClean()
    window.close()
    return ms


def main() -> None:
    # One thread: what the ratio measures is per-call overhead, and OpenMP threads that wait
    # for each other at every kernel make a shared 2-core machine's timings swing by 30 %.
    torch.set_num_threads(1)
    for preset in list_presets():
        project = None

        def load():
            nonlocal project
            project = io.load(preset.path)
            Analyzer(project).analyse()

        print(f"{preset.name}_summary_ms: {_ms(load):.0f}")
        print(f"{preset.name}_compile_ms: {_ms(lambda: compile_network(project)):.0f}")
        if preset.name in REFERENCES:
            print(f"{preset.name}_forward_ratio: {forward_ratio(preset.name, project):.3f}")
    opened = open_in_editor_ms(next(p.path for p in list_presets() if p.name == "resnet152"))
    print(f"resnet152_open_in_editor_ms: {opened:.0f}")


if __name__ == "__main__":
    main()
