"""Opening a project whose "Module" node names code asks first; declining runs nothing, accepting is remembered."""

import textwrap

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from studio.graph import io as project_io
from studio.graph.project import Project


@pytest.fixture(autouse=True)
def own_trust_list(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_TRUST_FILE", str(tmp_path / "trusted.json"))
    monkeypatch.delenv("STUDIO_TRUSTED_CODE", raising=False)
    monkeypatch.delenv("STUDIO_TRUST_ALL_CODE", raising=False)


def shared_project(tmp_path):
    """A project from someone else: an Input, their Module (whose file leaves a mark when it runs), an Output."""
    code = tmp_path / "theirs.py"
    code.write_text(textwrap.dedent(f'''
        from torch import nn
        open({str(tmp_path / "ran")!r}, "w").close()

        class Twice(nn.Module):
            def forward(self, x):
                return 2 * x
    '''))
    project = Project("shared")
    net = project.add_network()
    x = net.add_node("Input", "x", {"shape": [4]})
    twice = net.add_node("Module", "twice", {"target": f"{code}:Twice"})
    net.connect(x, "out", twice, "in")
    net.connect(twice, "out", net.add_node("Output", "out"), "in")
    path = tmp_path / "shared.json"
    project_io.save(project, path)
    return path, code


def answer(button, asked: list, tries: int = 100) -> None:
    """Clicks `button` on the next message box, noting its text (the box is real and modal)."""
    def click(left=tries):
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            asked.append(box.text())
            box.button(button).click()
        elif left:
            QTimer.singleShot(20, lambda: click(left - 1))
    QTimer.singleShot(0, click)


def test_opening_a_project_that_runs_code_asks_first(window, tmp_path, qtbot):
    path, code = shared_project(tmp_path)
    asked = []
    answer(QMessageBox.StandardButton.No, asked)
    assert not window.open_path(path)
    assert len(asked) == 1 and f"{code}:Twice" in asked[0]
    assert window.editor is None and not (tmp_path / "ran").exists()  # declined: nothing opened, nothing ran

    answer(QMessageBox.StandardButton.Yes, asked)
    assert window.open_path(path)
    assert len(asked) == 2 and (tmp_path / "ran").exists()
    item = window.editor.scene.nodes[window.editor.network.by_name("twice").id]
    assert f"runs code from {code}:Twice" in item.toolTip() and item.look.status == "ok"

    assert window.open_path(path, asked=True)  # remembered: no second question
    qtbot.wait(50)
    assert len(asked) == 2
