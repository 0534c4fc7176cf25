"""The `studio` command, run as a subprocess on real files."""

import json
import os
import subprocess
import sys

import pytest

from studio.graph import io

from tests.core.helpers import lenet


def studio(*args, cwd=None):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "studio.cli", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env=env)


def test_presets_lists_the_shipped_presets():
    out = studio("presets")
    assert out.returncode == 0
    names = [line.split()[0] for line in out.stdout.splitlines()]
    assert {"lenet5", "mlp_xor"} <= set(names)


def test_check_exit_codes(tmp_path):
    assert studio("check", "lenet5").returncode == 0
    project = lenet()
    net = project.network()
    net.remove_node(net.by_name("relu2").id)
    path = tmp_path / "broken.json"
    io.save(project, path)
    out = studio("check", str(path))
    assert out.returncode == 1
    assert out.stdout.strip() == "main/pool2: MaxPool2d 'pool2': input 'in' is not connected"
    path.write_text('{"format": 1, "networks": {"main": ')
    out = studio("check", str(path))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert str(path) in out.stderr and "ends too early" in out.stderr
    assert len(out.stderr.strip().splitlines()) <= 2


def test_summary_table_and_json():
    out = studio("summary", "lenet5")
    assert out.returncode == 0
    assert "61,706" in out.stdout and "16×5×5" in out.stdout
    data = json.loads(studio("summary", "lenet5", "--json").stdout)
    main = data["networks"]["main"]
    assert data["total_params"] == main["total_params"] == main["trainable_params"] == 61706
    fc1 = next(layer for layer in main["layers"] if layer["name"] == "fc1")
    assert fc1 == {"name": "fc1", "type": "Linear", "status": "ok", "output_shape": [120],
                   "params": 48120, "flops": 2 * 400 * 120}
    assert main["flops"] == sum(layer["flops"] for layer in main["layers"])


def test_code_writes_runnable_source(tmp_path):
    target = tmp_path / "xor.py"
    out = studio("code", "mlp_xor", "-o", str(target))
    assert out.returncode == 0, out.stderr
    run = subprocess.run([sys.executable, str(target)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "MlpXor (2, 1)"


@pytest.mark.parametrize("args,message", [
    (("check", "no_such_preset"), "no preset of that name"),
    (("summary", "/nonexistent/p.json"), "no such file"),
    (("code", "lenet5", "-o", "/nonexistent/dir/x.py"), "could not write the generated code to /nonexistent/dir/x.py"),
])
def test_errors_are_plain_lines_never_tracebacks(args, message):
    out = studio(*args)
    assert out.returncode != 0
    assert message in out.stderr and "Traceback" not in out.stderr


def test_debug_shows_the_traceback():
    out = studio("check", "no_such_preset", "--debug")
    assert out.returncode != 0 and "Traceback" in out.stderr


def test_analysing_commands_do_not_import_the_compiler():
    # torch._dynamo costs ~1.2 s to import; shape analysis (relu, tanh, add and batch
    # norm on meta tensors, FLOPs counted) must not pull it in.
    script = ("import sys\nfrom studio.cli import main\n"
              "codes = [main(['check', 'lenet5']), main(['summary', 'resnet18']), main(['check', 'actor_critic'])]\n"
              "print(codes, 'torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "[0, 0, 0] False"
