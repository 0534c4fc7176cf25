"""Generated Python reads like hand-written PyTorch: a class per block definition, its arguments as parameters."""

import re
import subprocess
import sys

import torch

from studio.compile import compile_network, project_source
from studio.export import export, import_module
from studio.graph import io
from studio.presets import resolve
from tests.core.test_import_thirdparty import MODELS, inputs, original


def resnet_project():
    spec, args, shape, dtype = MODELS["resnet"]
    return import_module(original(spec, args), inputs(shape, dtype, 2), "ResNet")


def test_one_class_per_block_definition_with_its_arguments_as_parameters():
    result = resnet_project()
    source = project_source(result.project)
    classes = re.findall(r"^class (\w+)\(nn\.Module\):", source, re.M)
    assert classes == ["BasicBlock", "Downsample", "BasicBlock2", "Layer2", "ResNet"]
    assert "    def __init__(self, out_channels=16, in_channels=8):" in source  # Layer2: layer2, 3, 4 differ
    assert "self.layer3 = Layer2(out_channels=32, in_channels=16)" in source
    assert "self.layer1 = nn.Sequential(BasicBlock(), BasicBlock())" in source  # a repeated block
    assert "self.conv1 = nn.Conv2d(3, 8, 7, stride=2, padding=3, bias=False)" in source  # defaults left out


def test_no_fx_leftovers_unused_helpers_or_imports():
    source = project_source(resnet_project().project)
    assert not re.search(r"= None$", source, re.M) and "input_1 = input" not in source
    assert not re.search(r"\w \= \w[^\n]*\(\w+ = ", source)  # keywords as dim=1, not dim = 1
    assert "import math" not in source and "import operator" not in source and "typing" not in source
    assert "class Reshape" not in source and "def _pick_output" not in source  # studio modules it does not use
    transformer = project_source(io.load(resolve("transformer")))
    assert "torch.eq(source, other=0)" in transformer and "class DecoderLayer" in transformer
    assert "class RBM" not in transformer and "class Recurrent" not in transformer


def test_the_file_runs_without_studio_and_loads_the_exported_weights(tmp_path):
    result = resnet_project()
    exported = export(result.project, "python", tmp_path / "resnet.py", weights=result.state_dict)
    script = ("import sys, torch; sys.modules['studio'] = None\n"  # any import of studio fails
              "import runpy; ns = runpy.run_path(sys.argv[1])\n"
              "model = ns['ResNet'](); model.load_state_dict(torch.load(sys.argv[2], weights_only=True))\n"
              "print(tuple(model.eval()(torch.randn(1, 3, 32, 32)).shape))")
    out = subprocess.run([sys.executable, "-c", script, str(exported.path), str(tmp_path / "resnet.pt")],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("(1, 10)")
    model = compile_network(result.project)
    model.load_state_dict(result.state_dict)
    assert set(torch.load(tmp_path / "resnet.pt", weights_only=True)) == set(model.state_dict())
