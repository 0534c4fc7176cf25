"""Import keeps a submodule it cannot express as one opaque "Module" node; a project naming code runs it only once trusted."""

import json
import os
import textwrap

import pytest
import torch

from studio.cli import main
from studio.compile import compile_network, project_source
from studio.compile.weights import load_weights, apply_weights
from studio.errors import StudioError
from studio.export import import_from_path
from studio.graph import Analyzer, io
from studio.graph.code_nodes import project_code
from tests.core.kept_code import own_trust_list  # noqa: F401 (autouse)

# Written as people write them: a filter in the frequency domain, a clamp that looks at the values,
# a custom autograd Function, each inside a submodule of an ordinary network.
MODELS = textwrap.dedent('''
    import torch
    from torch import nn


    class SpectralGate(nn.Module):
        """Keeps the low frequencies of each channel, each weighted by a learned gain."""

        def __init__(self, channels, bins=5):
            super().__init__()
            self.bins = bins
            self.gain = nn.Parameter(torch.linspace(0.5, 1.5, channels * bins).reshape(channels, bins))

        def forward(self, x):
            spec = torch.fft.rfft(x, dim=-1)
            spec = spec[..., :self.bins] * self.gain
            return torch.fft.irfft(spec, n=x.shape[-1], dim=-1)


    class Normalise(nn.Module):
        def forward(self, x):
            peak = x.abs().max()
            if peak > 1:            # branches on the data: torch.fx cannot trace it
                x = x / peak
            return x


    class RoundSTE(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return torch.round(x)

        @staticmethod
        def backward(ctx, grad):
            return grad


    class Quantise(nn.Module):
        def __init__(self, levels: int = 4):
            super().__init__()
            self.levels = levels

        def forward(self, x):
            return RoundSTE.apply(x * self.levels) / self.levels


    class Stage(nn.Module):
        def __init__(self, channels):
            super().__init__()
            self.conv = nn.Conv1d(channels, channels, 3, padding=1)
            self.gate = SpectralGate(channels, bins=4)

        def forward(self, x):
            return torch.relu(self.gate(self.conv(x))) + x


    class Net(nn.Module):
        def __init__(self, channels=4, length=16, classes=3):
            super().__init__()
            self.stem = nn.Conv1d(1, channels, 3, padding=1)
            self.stage = Stage(channels)
            self.norm = Normalise()
            self.quant = Quantise(levels=8)
            self.head = nn.Linear(channels * length, classes)

        def forward(self, x):
            x = self.stage(torch.relu(self.stem(x)))
            x = self.quant(self.norm(x))
            return self.head(x.flatten(1))


    class TopLevel(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(9, 2)

        def forward(self, x):
            return self.fc(torch.fft.rfft(x, dim=-1).abs())
''')


@pytest.fixture
def models(tmp_path):
    path = tmp_path / "models" / "spectral.py"
    path.parent.mkdir()
    path.write_text(MODELS)
    return path


def original(models, name="Net"):
    from studio.user_code import load_class

    torch.manual_seed(0)
    return load_class(f"{models}:{name}")().eval()


def test_submodules_without_catalog_form_become_opaque_nodes_with_the_same_outputs_and_keys(models):
    result = import_from_path(f"{models}:Net", input_shape=(1, 16))
    project = result.project
    kept = sorted((n.name, n.params["target"].rsplit(":", 1)[1], n.params["args"])
                  for net in project.all_networks() for n in net.nodes.values() if n.type == "Module")
    assert kept == [("gate", "SpectralGate", '{"channels": 4, "bins": 4}'), ("norm", "Normalise", "{}"),
                    ("quant", "Quantise", '{"levels": 8}')]
    module = original(models)
    assert set(result.original_keys.values()) == set(module.state_dict())
    # the module's own checkpoint loads into the imported network, which then computes the same
    model = compile_network(project)
    apply_weights(model, load_weights(project, module.state_dict()))
    model.eval()
    x = torch.randn(5, 1, 16) * 3
    with torch.no_grad():
        torch.testing.assert_close(model(x), module(x), rtol=0, atol=1e-6)


def test_a_failure_in_the_root_forward_is_still_refused_with_its_message(models):
    with pytest.raises(StudioError, match=r"cannot import 'torch.fft.rfft' at .*spectral.py:\d+: no catalog entry"):
        import_from_path(f"{models}:TopLevel", input_shape=(16,))


def test_a_kept_module_with_arguments_that_are_not_plain_values_is_refused_saying_so(tmp_path):
    path = tmp_path / "odd.py"
    path.write_text(textwrap.dedent('''
        import torch
        from torch import nn

        class Filter(nn.Module):
            def __init__(self, activation):
                super().__init__()
                self.activation = activation

            def forward(self, x):
                return self.activation(torch.fft.irfft(torch.fft.rfft(x), n=x.shape[-1]))

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.win = Filter(nn.Tanh())

            def forward(self, x):
                return self.win(x)
    '''))
    with pytest.raises(StudioError, match=r"no catalog entry.*'self.win' \(Filter\) cannot be kept as it is: its "
                                          r"constructor arguments are not plain values"):
        import_from_path(f"{path}:Net", input_shape=(8,))


def cli(*args) -> int:
    return main([str(a) for a in args])


def test_the_cli_runs_an_imported_project_here_and_refuses_one_it_does_not_trust(models, tmp_path, capsys,
                                                                                 monkeypatch):
    project = tmp_path / "net.json"
    assert cli("import", f"{models}:Net", "-o", project, "--input-shape", "1,16") == 0
    assert cli("check", project) == 0  # created by studio import on this machine: trusted
    capsys.readouterr()
    assert cli("summary", project, "--json") == 0
    layers = json.loads(capsys.readouterr().out)["networks"]["main"]["layers"]
    assert [layer["type"] for layer in layers].count("Module") == 2  # norm, quant; the gate is inside the stage

    (tmp_path / "trusted.json").unlink()  # another machine, or another user:
    monkeypatch.delenv("STUDIO_TRUSTED_CODE")  # nor did this process import it
    assert cli("check", project) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "runs code from" in err[0] and "spectral.py:SpectralGate" in err[0], err
    assert "--trust-code" in err[0]
    for command in (["summary", project], ["export", project, "--format", "state_dict", "-o", tmp_path / "w.pt"]):
        assert cli(*command) == 2
    assert cli("check", project, "--trust-code") == 0


def test_editing_the_code_a_project_names_needs_trust_again(models, tmp_path, capsys):
    project = tmp_path / "net.json"
    assert cli("import", f"{models}:Net", "-o", project, "--input-shape", "1,16") == 0
    models.write_text(MODELS + "\nimport os  # changed since it was trusted\n")
    assert cli("check", project) == 2
    assert "runs code from" in capsys.readouterr().err


def test_an_untrusted_project_builds_nothing_even_past_the_cli(models, tmp_path, monkeypatch):
    result = import_from_path(f"{models}:Net", input_shape=(1, 16))
    monkeypatch.delenv("STUDIO_TRUSTED_CODE")  # the import allowed its own code for this process
    text = io.dumps(result.project)
    marker = tmp_path / "ran"
    models.write_text(MODELS + f"\nopen({str(marker)!r}, 'w').close()\n")
    report = Analyzer(io.loads(text)).analyse()
    assert not marker.exists()
    assert any("runs code from" in p.message for p in report.problems)


def test_python_export_imports_the_original_class_and_says_it_is_needed(models):
    result = import_from_path(f"{models}:Net", input_shape=(1, 16))
    source = project_source(result.project)
    assert "from spectral import SpectralGate, " not in source
    assert "from spectral import SpectralGate  # " in source and "from spectral import Quantise" in source
    assert "# Not generated: this file imports and runs these classes (your own code" in source
    assert "self.quant = Quantise(levels=8)" in source
    assert sorted(c[0].rsplit(":", 1)[1] for c in project_code(result.project)) == ["Normalise", "Quantise",
                                                                                   "SpectralGate"]


def test_a_kept_module_returning_two_tensors_exports_where_its_code_traces(tmp_path):
    from studio.export import export

    path = tmp_path / "pair.py"
    path.write_text(textwrap.dedent('''
        import torch
        from torch import nn

        class Spectrum(nn.Module):
            def __init__(self, k):
                super().__init__()
                self.k = k

            def forward(self, x):
                s = torch.fft.rfft(x, dim=-1)
                return s.real[..., :self.k], s.imag[..., :self.k]

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.spectrum = Spectrum(4)
                self.fc = nn.Linear(8, 2)

            def forward(self, x):
                re, im = self.spectrum(x)
                return self.fc(torch.cat([re, im], dim=-1))
    '''))
    result = import_from_path(f"{path}:Net", input_shape=(16,))
    kept = result.project.network().by_name("spectrum")
    assert kept.type == "Module" and kept.params["outputs"] == 2
    for fmt, name in (("torchscript", "m.pt"), ("pt2", "m.pt2")):
        done = export(result.project, fmt, tmp_path / name, weights=result.state_dict)
        assert done.max_abs_diff < 1e-5


def test_a_module_node_dropped_from_the_palette_asks_for_its_class_first():
    from studio.graph.project import Project

    project = Project("p")
    net = project.add_network()
    x = net.add_node("Input", "x", {"shape": [4]})
    mine = net.add_node("Module", "mine", {})
    net.connect(x, "out", mine, "in")
    net.connect(mine, "out", net.add_node("Output", "y"), "in")
    (problem,) = Analyzer(project).analyse().problems
    assert "name the class it runs in 'target'" in problem.message


def test_editing_a_sibling_module_the_kept_code_imports_needs_trust_again(tmp_path, capsys):
    folder = tmp_path / "proj"
    (folder / "layers").mkdir(parents=True)
    (folder / "filters.py").write_text(textwrap.dedent('''
        import torch
        from torch import nn

        import windows
        from layers.norm import SCALE

        class LowPass(nn.Module):
            def forward(self, x):
                spec = torch.fft.rfft(x * windows.hann(x.shape[-1]), dim=-1)
                return torch.fft.irfft(spec[..., :4], n=x.shape[-1], dim=-1) * SCALE
    '''))
    (folder / "windows.py").write_text("import torch\n\ndef hann(n):\n    return torch.hann_window(n)\n")
    (folder / "layers" / "__init__.py").write_text("")
    (folder / "layers" / "norm.py").write_text("SCALE = 2.0\n")
    (folder / "notes.py").write_text("# not imported by the model\n")
    (folder / "net.py").write_text(textwrap.dedent('''
        from torch import nn
        from filters import LowPass

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(16, 16)
                self.low = LowPass()

            def forward(self, x):
                return self.low(self.fc(x))
    '''))
    project = tmp_path / "net.json"
    assert cli("import", f"{folder / 'net.py'}:Net", "-o", project, "--input-shape", "16") == 0
    assert io.load(project).network().by_name("low").params["target"] == f"{folder / 'filters.py'}:LowPass"
    os.environ.pop("STUDIO_TRUSTED_CODE")  # as in a later session: only the trust list counts
    assert cli("check", project) == 0
    (folder / "notes.py").write_text("# edited, but the kept code does not import it\n")
    assert cli("check", project) == 0
    for sibling in (folder / "windows.py", folder / "layers" / "norm.py", folder / "layers" / "__init__.py"):
        before = sibling.read_text()
        sibling.write_text(before + "\nimport os  # changed after it was trusted\n")
        capsys.readouterr()
        assert cli("check", project) == 2, sibling
        assert "filters.py:LowPass" in capsys.readouterr().err
        sibling.write_text(before)
        assert cli("check", project) == 0
