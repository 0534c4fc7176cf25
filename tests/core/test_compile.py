"""Compiling to torch.fx: same outputs as hand-written code, readable names, scriptable, standalone source."""

import gc
import threading
import subprocess
import sys

import pytest
import torch
from torch import nn

from studio.compile import CompileError, compile_network, project_source
from studio.graph import Project

from tests.core.helpers import chain, lenet, residual_block_project


class HandLeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.relu(self.fc1(x.flatten(1)))
        return self.fc3(torch.relu(self.fc2(x)))


def test_lenet_equals_hand_written_on_the_same_weights():
    gm = compile_network(lenet())
    gm.graph.lint()
    hand = HandLeNet()
    assert gm.load_state_dict(hand.state_dict()).missing_keys == []
    x = torch.randn(4, 1, 32, 32)
    torch.testing.assert_close(gm(x), hand(x))
    assert sum(p.numel() for p in gm.parameters()) == sum(p.numel() for p in hand.parameters()) == 61706
    assert "self.conv1" in gm.code and "self.fc3" in gm.code


def test_compiled_model_scripts_and_agrees():
    gm = compile_network(residual_block_project())
    gm.eval()
    scripted = torch.jit.script(gm)
    x = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(scripted(x), gm(x))


def test_blocks_are_inlined_with_nested_submodule_names():
    project = residual_block_project(repeat=2)
    gm = compile_network(project)
    # one graph: no module call per block, but the layers keep their place in the hierarchy
    assert not [m for m in gm.modules() if m is not gm and isinstance(m, torch.fx.GraphModule)]
    assert {"stage.0.conv1.weight", "stage.1.bn2.running_mean"} <= set(gm.state_dict())
    assert [n.target for n in gm.graph.nodes if n.op == "call_module"].count("stage.1.conv2") == 1
    x = torch.randn(2, 3, 8, 8)
    gm.eval()
    # the same computation written by hand from the compiled parts
    h = gm.stem(x)
    for b in (gm.get_submodule("stage.0"), gm.get_submodule("stage.1")):
        h = torch.relu(h + b.bn2(b.conv2(torch.relu(b.bn1(b.conv1(h))))))
    torch.testing.assert_close(gm(x), gm.fc(h.mean((2, 3))))


def test_multi_output_nodes_and_several_outputs():
    project = Project()
    net = project.add_network()
    x = net.add_node("Input", "x", {"shape": [6, 4]})
    ch = net.add_node("Chunk", "halves", {"chunks": 2, "dim": 1})
    net.connect(x, "out", ch, "in")
    mul = net.add_node("Multiply", "gate")
    net.connect(ch, "out0", mul, "a")
    net.connect(ch, "out1", mul, "b")
    net.connect(mul, "out", net.add_node("Output", "y"), "in")
    net.connect(ch, "out0", net.add_node("Output", "first"), "in")
    gm = compile_network(project)
    t = torch.randn(2, 6, 4)
    y, first = gm(t)
    torch.testing.assert_close(y, t[:, :3] * t[:, 3:])
    torch.testing.assert_close(first, t[:, :3])
    torch.jit.script(gm)


def test_no_collection_starts_while_compiling():
    # A full collection walks every object it can see; torch's alone are hundreds of
    # thousands, so compiling a large network made compile time grow faster than its size.
    project = lenet()
    collections = []

    def note(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    def compile_often_collecting():
        threshold = gc.get_threshold()
        gc.set_threshold(50)  # collect often, so that compiling LeNet-5 would see collections
        try:
            compile_network(project)
        finally:
            gc.set_threshold(*threshold)

    gc.callbacks.append(note)
    try:
        compile_often_collecting()
        assert len(collections) <= 2  # at most one on the way in and one on the way out
        threads = [threading.Thread(target=compile_network, args=(project,)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        gc.callbacks.remove(note)
    assert gc.isenabled()  # handed back once the last compile ended
    collections.clear()
    gc.callbacks.append(note)
    try:
        threshold = gc.get_threshold()
        gc.set_threshold(50)
        cycles = [[[]] for _ in range(2000)]  # the same threshold outside a compile does collect
        gc.set_threshold(*threshold)
    finally:
        gc.callbacks.remove(note)
    assert len(collections) > 5 and cycles


def test_a_network_with_problems_does_not_compile():
    project = lenet()
    net = project.network()
    net.remove_node(net.by_name("relu2").id)
    with pytest.raises(CompileError, match="input 'in' is not connected"):
        compile_network(project)
    assert gc.isenabled()


def test_node_names_that_clash_with_python_become_legal_attributes():
    project = Project()
    chain(project.add_network(), [("Input", "input", {"shape": [3]}), ("Linear", "forward", {}),
                                  ("ReLU", "training", {}), ("Output", "return_", {})])
    gm = compile_network(project)
    assert isinstance(gm.forward_, nn.Linear)
    assert gm(torch.randn(2, 3)).shape == (2, 10)


def test_code_runs_without_studio_installed(tmp_path):
    project = residual_block_project()
    gm = compile_network(project)
    path = tmp_path / "model.py"
    path.write_text(project_source(project))
    assert "studio" not in path.read_text().replace("Network Studio", "")
    # Block `studio` imports in the child, then load the weights of the compiled model into the generated class.
    torch.save(gm.state_dict(), tmp_path / "w.pt")
    x = torch.randn(2, 3, 8, 8)
    torch.save(x, tmp_path / "x.pt")
    gm.eval()
    torch.save(gm(x), tmp_path / "y.pt")
    script = (f"import sys; sys.modules['studio'] = None; sys.path.insert(0, {str(tmp_path)!r})\n"
              "import torch, model\n"
              f"m = model.Res(); m.load_state_dict(torch.load({str(tmp_path / 'w.pt')!r})); m.eval()\n"
              f"y = m(torch.load({str(tmp_path / 'x.pt')!r}))\n"
              f"print(float((y - torch.load({str(tmp_path / 'y.pt')!r})).abs().max()))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout.strip()) < 1e-6
