"""Speed of the editor on a ResNet-152-sized graph (about 600 nodes), offscreen.

Prints one `name: value` line per figure:
    open_ms                 load the file, analyse, build the scene, first paint (after the
                            warm-up that `studio` runs while its start page shows)
    open_analysis_warm_ms   the core's full analysis alone, run again with torch warm (most of open_ms)
    move_frame_ms_p95       drag one node with mouse move events: time per move + repaint (95th percentile)
    param_edit_ms           set a Conv2d's out_channels in the last stage through the inspector's spin box,
                            until every wire label is current (analysis + scene + inspector + summary)
    param_edit_upstream_ms  the same for the first conv (everything downstream is re-analysed)
    undo_ms                 undo that last edit, until every label is current again
and, before those, the auto-layout's figures (studio/graph/layout.py) for lenet5, transformer,
inception_v3 (top level and its inception_a block) and a DenseNet imported from PyTorch code
(tests/core/thirdparty/densenet.py), each as `layout_<net>_<figure>`:
    back_edges              wires pointing against the flow (target 0)
    crossings               pairs of wires that cross
    overlaps                pairs of cards on top of each other (target 0)
and layout_600_nodes_ms (median of 5, with the spread, CPU time beside it; target <= 300 ms).
Targets on a 2-core machine: open <= 1500 ms, frames <= 16 ms p95, edit <= 100 ms.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("STUDIO_RECOVERY_DIR", tempfile.mkdtemp(prefix="studio-bench-"))

from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from studio.export.symbolic import symbolic_shape  # noqa: E402
from studio.graph import Project  # noqa: E402
from studio.graph import io as project_io  # noqa: E402
from studio.graph.layout import lay_out_project, layered  # noqa: E402
from studio.graph.layout_metrics import back_edges, crossings, overlaps  # noqa: E402

STAGES = ((3, 64), (8, 64), (46, 64), (3, 64))  # ResNet-152-like, a longer third stage for ~600 nodes; modest width


def resnet_like() -> Project:
    """A chain of Conv2d/BatchNorm2d/ReLU with a residual Add every three convs (about 600 nodes)."""
    project = Project("resnet_like")
    net = project.add_network("main")
    prev = net.add_node("Input", "image", {"shape": [3, 32, 32]})
    prev = _cbr(net, prev, 64)
    for blocks, width in STAGES:
        for _ in range(blocks):
            skip = prev
            for kernel in (1, 3, 1):
                prev = _cbr(net, prev, width, kernel)
            add = net.add_node("Add")
            net.connect(skip, "out", add, "a")
            net.connect(prev, "out", add, "b")
            prev = add
    for type_, params in (("GlobalAvgPool", {}), ("Linear", {"out_features": 1000}), ("Output", {})):
        node = net.add_node(type_, params=params)
        net.connect(prev, "out", node, "in")
        prev = node
    for nid, pos in layered(net).items():
        net.move(nid, pos)
    return project


def _densenet() -> Project:
    """The DenseNet the import tests trace from plain PyTorch code, imported as a user would."""
    from studio.export import import_from_path

    spec = Path(__file__).resolve().parents[1] / "tests/core/thirdparty/densenet.py"
    return import_from_path(f"{spec}:DenseNet", input_shape=(3, 32, 32)).project


def layout_figures() -> None:
    """Prints the layout's figures (see the module docstring)."""
    from studio.presets import resolve

    cases = []
    for name, nets in (("lenet5", ["main"]), ("transformer", ["main"]), ("inception_v3", ["main", "inception_a"])):
        project = project_io.load(resolve(name))
        lay_out_project(project)
        cases += [(f"{name}" + ("" if n == "main" else f"_{n}"), _net(project, n)) for n in nets]
    dense = _densenet()
    block = max(dense.blocks, key=lambda b: len(dense.blocks[b].network.nodes))  # a dense block: many joins
    cases += [("densenet_import", dense.network()), (f"densenet_import_{block}", dense.blocks[block].network)]
    for label, net in cases:
        print(f"layout_{label}_nodes: {len(net.nodes)}")
        print(f"layout_{label}_back_edges: {back_edges(net)}")
        print(f"layout_{label}_crossings: {crossings(net)}")
        print(f"layout_{label}_overlaps: {overlaps(net)}")
    big = resnet_like().network()
    walls, cpus = [], []
    for _ in range(5):
        w, c = time.perf_counter(), time.process_time()
        layered(big)
        walls.append((time.perf_counter() - w) * 1000)
        cpus.append((time.process_time() - c) * 1000)
    print(f"layout_600_nodes_count: {len(big.nodes)}")
    print(f"layout_600_nodes_ms: {statistics.median(walls):.0f} (min {min(walls):.0f}, max {max(walls):.0f})")
    print(f"layout_600_nodes_cpu_ms: {statistics.median(cpus):.0f}")


def _net(project: Project, name: str):
    return project.networks[name] if name in project.networks else project.blocks[name].network


def _cbr(net, prev, width, kernel=3):
    for type_, params in (("Conv2d", {"out_channels": width, "kernel_size": kernel, "padding": kernel // 2,
                                      "bias": False}), ("BatchNorm2d", {}), ("ReLU", {})):
        node = net.add_node(type_, params=params)
        net.connect(prev, "out", node, "in")
        prev = node
    return prev


def labels_current(window) -> bool:
    """True when every wire shows the shape the latest report gives its source."""
    report = window.editor.report
    for edge, item in window.editor.scene.edges.items():
        res = report.nodes[edge.src]
        want = symbolic_shape(res.outputs[edge.src_port]) if res.status == "ok" else ""
        if item.label != want:
            return False
    return True


def _edit_through_inspector(app, window, node_id: str, value: int) -> float:
    window.editor.scene.select_nodes([node_id])
    app.processEvents()
    spin = window.inspector.editors["out_channels"].spin
    t = time.perf_counter()
    spin.setValue(value)
    window.view.viewport().repaint()
    ms = (time.perf_counter() - t) * 1000
    assert window.editor.network.nodes[node_id].params["out_channels"] == value
    assert labels_current(window)
    return ms


def main() -> int:
    from PySide6.QtCore import QSettings

    settings_dir = tempfile.mkdtemp(prefix="studio-bench-settings-")  # keep the user's recent files clean
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, settings_dir)
    app = QApplication.instance() or QApplication(sys.argv)
    from studio.ui import theme
    from studio.ui.main_window import MainWindow

    theme.apply(app, "light")
    layout_figures()
    project = resnet_like()
    path = Path(tempfile.mkdtemp(prefix="studio-bench-")) / "resnet_like.json"
    project_io.save(project, path)
    n_nodes = len(project.network().nodes)

    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    app.processEvents()
    from studio.graph import Analyzer, warmup
    warmup.warm_up_analysis()  # as `studio` does in the background while its start page shows
    t = time.perf_counter()
    window.open_path(path)
    window.view.fit_all(min_zoom=0.6)
    window.view.viewport().repaint()
    open_ms = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    Analyzer(project_io.load(path)).analyse()  # the core's share of open_ms (torch now warm)
    analysis_ms = (time.perf_counter() - t) * 1000
    app.processEvents()

    # Drag one node: press on its title, move in steps, repaint after each move.
    ed = window.editor
    convs = [n.id for n in ed.network.iter_nodes() if n.type == "Conv2d"]
    target = convs[len(convs) // 2]
    item = ed.scene.nodes[target]
    window.view.centerOn(item)
    app.processEvents()
    vp = window.view.viewport()
    start = window.view.mapFromScene(item.mapToScene(QPointF(60, 12)))
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    frames = []
    for i in range(1, 61):
        t = time.perf_counter()
        QTest.mouseMove(vp, start + QPoint(i * 3, i * 2))
        vp.repaint()
        frames.append((time.perf_counter() - t) * 1000)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(180, 120))
    app.processEvents()
    p95 = statistics.quantiles(frames, n=20)[18]

    window.summary_dock.show()
    window.summary_dock.raise_()
    app.processEvents()
    upstream_ms = _edit_through_inspector(app, window, convs[1], 48)
    ed.undo_stack.undo()
    edit_ms = _edit_through_inspector(app, window, convs[-2], 48)
    t = time.perf_counter()
    ed.undo_stack.undo()
    window.view.viewport().repaint()
    undo_ms = (time.perf_counter() - t) * 1000
    assert labels_current(window)

    print(f"nodes: {n_nodes}")
    print(f"open_ms: {open_ms:.0f}")
    print(f"open_analysis_warm_ms: {analysis_ms:.0f}")
    print(f"move_frame_ms_p95: {p95:.1f}")
    print(f"param_edit_ms: {edit_ms:.0f}")
    print(f"param_edit_upstream_ms: {upstream_ms:.0f}")
    print(f"undo_ms: {undo_ms:.0f}")
    ed.undo_stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
