"""The `studio` command does not pass on what libraries log about themselves (`studio.library_logs`)."""

import subprocess
import sys

import pytest

NOISE = ("Failed to load", "_pytree")


def _train(tmp_path, *extra: str) -> str:
    run = subprocess.run([sys.executable, "-m", "studio.cli", "train", "mlp_xor", "--epochs", "1", "--set", "qat=int8",
                          "--out", str(tmp_path / "run"), *extra], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return run.stderr


def test_torchaos_loading_notes_show_only_with_debug(tmp_path):
    pytest.importorskip("torchao")
    assert any(n in _train(tmp_path, "--debug") for n in NOISE)  # the library does log them
    quiet = _train(tmp_path)
    assert not any(n in quiet for n in NOISE), quiet


def test_an_onnx_export_prints_only_what_studio_says(tmp_path):
    run = subprocess.run([sys.executable, "-m", "studio.cli", "export", "mlp_xor", "--format", "onnx", "-o",
                          str(tmp_path / "m.onnx")], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "torchvision" not in run.stderr and "LeafSpec" not in run.stderr, run.stderr
