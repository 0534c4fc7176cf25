"""Exports: every format round-trips with equal outputs; a failed or disagreeing export leaves nothing behind."""

import errno
import importlib.util
import re
import tomllib
from pathlib import Path

import pytest
import torch

import studio.export.onnx as onnx_format
from studio.compile import compile_network, example_inputs
from studio.export import FORMATS, ExportError, export
from studio.export.cli import add_export_arguments, run_export
from studio.graph import Project, io

from tests.core.helpers import chain

SUFFIX = {"torchscript": "m.pt", "pt2": "m.pt2", "onnx": "m.onnx", "python": "m.py", "state_dict": "w.pt"}


def small_project() -> Project:
    """Conv-BN-ReLU with a residual Add and a Concat, pooled to 5 classes."""
    project = Project("small net")
    net = project.add_network("main")
    x = net.add_node("Input", "image", {"shape": [3, 8, 8]})
    a = chain(net, [("Conv2d", "conv1", {"out_channels": 4, "kernel_size": 3, "padding": 1}),
                    ("BatchNorm2d", "bn1", {}), ("ReLU", "relu1", {})], start=x)
    side = chain(net, [("Conv2d", "side", {"out_channels": 4, "kernel_size": 1})], start=x)
    add = net.add_node("Add", "add")
    net.connect(a, "out", add, "a")
    net.connect(side, "out", add, "b")
    cat = net.add_node("Concat", "cat", {"dim": 1})
    net.connect(add, "out", cat, "in0")
    net.connect(side, "out", cat, "in1")
    chain(net, [("GlobalAvgPool", "pool", {}), ("Linear", "fc", {"out_features": 5}), ("Output", "logits", {})],
          start=cat)
    return project


def trained_state(project: Project) -> dict:
    """Weights unlike a fresh init (BN running statistics moved too)."""
    torch.manual_seed(1)
    model = compile_network(project)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
        model.bn1.running_mean.normal_()
        model.bn1.running_var.uniform_(0.5, 2.0)
    return model.state_dict()


def live(project, state):
    model = compile_network(project)
    model.load_state_dict(state)
    return model.eval()


def reload(fmt: str, result, project):
    """The exported file opened with the format's own loader, independently of the exporter."""
    path = str(result.path)
    if fmt == "torchscript":
        return torch.jit.load(path)
    if fmt == "pt2":
        return torch.export.load(path).module()
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        return lambda x: torch.from_numpy(session.run(None, {session.get_inputs()[0].name: x.numpy()})[0])
    if fmt == "python":
        spec = importlib.util.spec_from_file_location("exported_small", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        model = mod.SmallNet()
        model.load_state_dict(torch.load(result.path.with_suffix(".pt"), weights_only=True))
        return model.eval()
    model = compile_network(project)
    model.load_state_dict(torch.load(path, weights_only=True))
    return model.eval()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_each_format_round_trips_with_equal_outputs(fmt, tmp_path):
    project = small_project()
    before = io.dumps(project)
    state = trained_state(project)
    steps = []
    result = export(project, fmt, tmp_path / SUFFIX[fmt], weights=state, progress=lambda s, f: steps.append(f))
    assert result.format == fmt and result.path == tmp_path / SUFFIX[fmt] and result.files[0] == result.path
    assert all(f.is_file() for f in result.files)
    assert result.max_abs_diff <= 1e-5
    assert steps[0] == 0.0 and steps[-1] == 1.0
    assert not [n for n in leftovers(tmp_path) if n.startswith(".")], "staging folder left behind"
    model = live(project, state)
    loaded = reload(fmt, result, project)
    x = torch.randn(3, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), rtol=1e-4, atol=1e-5)
        # and the trained weights were exported, not a fresh init
        assert not torch.allclose(compile_network(project).eval()(x), model(x))
    assert io.dumps(project) == before


def test_python_export_writes_weights_beside_the_source(tmp_path):
    result = export(small_project(), "python", tmp_path / "net.py")
    names = [f.name for f in result.files]
    assert names[:2] == ["net.py", "net.pt"]
    if importlib.util.find_spec("safetensors"):
        assert "net.safetensors" in names
    assert any("untrained" in n for n in result.notes)
    with pytest.raises(ExportError, match="ending in .py"):
        export(small_project(), "python", tmp_path / "net.txt")


@pytest.mark.parametrize("fmt", ["pt2", "onnx"])
def test_dynamic_batch(fmt, tmp_path):
    project = small_project()
    result = export(project, fmt, tmp_path / SUFFIX[fmt])
    loaded = reload(fmt, result, project)
    for batch in (1, 7):
        assert loaded(torch.randn(batch, 3, 8, 8)).shape == (batch, 5)


class _PlusOne(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, *args):
        return self.inner(*args) + 1


def _disagree(monkeypatch, fmt):
    if fmt == "torchscript":
        real = torch.jit.load
        monkeypatch.setattr(torch.jit, "load", lambda *a, **k: _PlusOne(real(*a, **k)))
    elif fmt == "pt2":
        real = torch.export.load

        class Program:
            def __init__(self, p):
                self.p = p

            def module(self):
                return _PlusOne(self.p.module())

        monkeypatch.setattr(torch.export, "load", lambda *a, **k: Program(real(*a, **k)))
    elif fmt == "onnx":
        import onnxruntime

        real = onnxruntime.InferenceSession.run
        monkeypatch.setattr(onnxruntime.InferenceSession, "run",
                            lambda self, *a, **k: [o + 1 for o in real(self, *a, **k)])
    else:  # python, state_dict: the weights read back are not those written
        real = torch.load

        def bad_load(*a, **k):
            state = real(*a, **k)
            return {n: t + 1 if t.is_floating_point() else t for n, t in state.items()}

        monkeypatch.setattr(torch, "load", bad_load)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_disagreeing_export_fails_and_leaves_no_file(fmt, tmp_path, monkeypatch):
    _disagree(monkeypatch, fmt)
    with pytest.raises(ExportError, match="disagrees with the network.*Nothing was written"):
        export(small_project(), fmt, tmp_path / SUFFIX[fmt])
    assert leftovers(tmp_path) == []


def test_a_failed_export_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "m.pt"
    target.write_bytes(b"old")
    _disagree(monkeypatch, "torchscript")
    with pytest.raises(ExportError):
        export(small_project(), "torchscript", target)
    assert target.read_bytes() == b"old" and leftovers(tmp_path) == ["m.pt"]


def _full_disk(path, *args, **kwargs):
    if hasattr(path, "write"):  # a file object (or a buffer) the writer was given
        path.write(b"partial")
    else:
        Path(str(path)).write_bytes(b"partial")
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("fmt,patch", [
    ("torchscript", (torch.jit, "save")),
    ("pt2", (torch.export, "save")),
    ("onnx", (torch.onnx.ONNXProgram, "save")),
    ("python", (torch, "save")),  # after the .py is written: that must go too
    ("state_dict", (torch, "save")),
])
def test_a_full_disk_leaves_no_partial_file(fmt, patch, tmp_path, monkeypatch):
    owner, name = patch
    if owner is torch.onnx.ONNXProgram:
        monkeypatch.setattr(owner, name, lambda self, path, **k: _full_disk(path))
    else:
        monkeypatch.setattr(owner, name, lambda obj, path, *a, **k: _full_disk(path))
    with pytest.raises(ExportError) as info:
        export(small_project(), fmt, tmp_path / SUFFIX[fmt])
    message = str(info.value)
    assert str(tmp_path / SUFFIX[fmt].replace("m.py", "m.pt")) in message or str(tmp_path) in message
    assert "No space left on device" in message and "free some disk space" in message
    assert leftovers(tmp_path) == []


def test_unwritable_places(tmp_path, monkeypatch):
    with pytest.raises(ExportError, match="does not exist; create it first"):
        export(small_project(), "torchscript", tmp_path / "missing" / "m.pt")
    (tmp_path / "taken").mkdir()
    with pytest.raises(ExportError, match="could not write .*taken"):
        export(small_project(), "torchscript", tmp_path / "taken")
    assert leftovers(tmp_path) == ["taken"] and leftovers(tmp_path / "taken") == []

    def denied(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("tempfile.mkdtemp", denied)
    with pytest.raises(ExportError, match="Permission denied; choose a folder you may write to"):
        export(small_project(), "pt2", tmp_path / "m.pt2")
    assert leftovers(tmp_path) == ["taken"]


def test_an_operator_the_format_cannot_take_is_reported(tmp_path, monkeypatch):
    def refuse(*a, **k):
        raise RuntimeError("unsupported operator aten::frobnicate\nlong trace")

    monkeypatch.setattr(torch.onnx, "export", refuse)
    with pytest.raises(ExportError, match="ONNX cannot take network 'main': unsupported operator aten::frobnicate. "
                                          "Export to .pt2 or TorchScript instead"):
        export(small_project(), "onnx", tmp_path / "m.onnx")
    assert leftovers(tmp_path) == []


def test_torchscript_falls_back_to_tracing_and_says_so(tmp_path, monkeypatch):
    def refuse(*a, **k):
        raise RuntimeError("Python builtin <built-in function frob> is currently not supported in Torchscript")

    monkeypatch.setattr(torch.jit, "script", refuse)
    result = export(small_project(), "torchscript", tmp_path / "m.pt")
    assert any("traced instead" in n and "frob" in n for n in result.notes)
    assert result.max_abs_diff <= 1e-5


def test_onnx_without_its_packages_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(onnx_format, "missing_packages", lambda: ["onnxscript"])
    with pytest.raises(ExportError, match=r"needs the package\(s\) onnxscript.*pip install"):
        export(small_project(), "onnx", tmp_path / "m.onnx")
    assert leftovers(tmp_path) == []


def test_the_plain_install_brings_what_every_export_format_needs():
    # `pip install -e .`, the README's launch command: the File menu offers ONNX, and Python
    # exports write .safetensors beside the .pt when the package is there.
    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    required = {re.match(r"[\w.-]+", dep)[0].lower() for dep in pyproject["project"]["dependencies"]}
    assert {*onnx_format.PACKAGES, "safetensors"} <= required


def test_unknown_format_and_network(tmp_path):
    with pytest.raises(ExportError, match="unknown export format 'tflite'"):
        export(small_project(), "tflite", tmp_path / "m")
    with pytest.raises(Exception, match="no network 'gen'"):
        export(small_project(), "pt2", tmp_path / "m.pt2", network="gen")


def test_weights_from_a_run_checkpoint(tmp_path):
    project = small_project()
    state = trained_state(project)
    ckpt = tmp_path / "last.pt"
    torch.save({"format": "studio-checkpoint", "version": 1, "epoch": 3, "models": {"model": state},
                "optimizers": {"model": {"state": {}, "param_groups": []}}}, ckpt)
    out = tmp_path / "out"
    out.mkdir()
    result = export(project, "state_dict", out / "w.pt", weights=ckpt)
    exported = torch.load(result.path, weights_only=True)
    assert exported.keys() == state.keys() and all(torch.equal(exported[k], state[k]) for k in state)
    assert not result.notes


def test_wrong_weights_are_refused_before_anything_is_written(tmp_path):
    project = small_project()
    state = trained_state(project)
    state["fc.weight"] = torch.zeros(7, 8)
    with pytest.raises(ExportError, match="fc.weight: the network has shape \\(5, 8\\), the file \\(7, 8\\)"):
        export(project, "torchscript", tmp_path / "m.pt", weights=state)
    assert leftovers(tmp_path) == []


def test_cli_run_export_prints_files_and_difference(tmp_path, capsys):
    import argparse

    parser = argparse.ArgumentParser()
    add_export_arguments(parser)
    args = parser.parse_args(["--format", "pt2", "-o", str(tmp_path / "m.pt2")])
    assert run_export(small_project(), args) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'm.pt2'}" in out and "max difference" in out
    with pytest.raises(SystemExit):
        parser.parse_args(["--format", "tflite"])


def test_sample_inputs_are_reproducible_and_leave_the_global_rng_alone():
    from studio.export.formats import sample_inputs

    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    a = sample_inputs(small_project(), "main")
    assert torch.equal(torch.rand(3), expected)
    b = sample_inputs(small_project(), "main")
    assert torch.equal(a[0][0], b[0][0]) and torch.equal(a[1][0], b[1][0])
    assert [t[0].shape[0] for t in a] == [2, 3]
    assert a[0][0].shape == example_inputs(small_project())[0].shape
