"""Importing plain PyTorch modules: same outputs, readable nodes, refusals that name the call, and a round trip."""

import argparse
import os
import stat
import sys
import importlib.util
import textwrap

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from studio.compile import compile_network, project_source
from studio.cli import main
from studio.errors import InputError, StudioError
from studio.export import export, import_from_path, import_module
from studio.export.cli import add_import_arguments, parse_shapes, run_import
from studio.export.module_loader import load_class
from studio.graph import io


class Basic(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + x)  # residual add


class HandNet(nn.Module):
    """A residual stage and a concatenation, with functional calls and a view(x.size(0), -1)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 5, stride=2, padding=2)
        self.layer1 = nn.Sequential(Basic(8), Basic(8))
        self.side = nn.Conv2d(3, 4, 1, stride=2)
        self.drop = nn.Dropout(0.25)
        self.fc = nn.Linear(12, 6)

    def forward(self, x):
        y = self.layer1(F.relu(self.stem(x)))
        z = torch.cat([y, self.side(x)], dim=1)
        z = F.max_pool2d(z, 2)
        z = self.drop(z.mean((2, 3)))
        return F.log_softmax(self.fc(z.view(z.size(0), -1)), dim=1)


def hand_net() -> HandNet:
    torch.manual_seed(0)
    m = HandNet()
    for bn in m.modules():
        if isinstance(bn, nn.BatchNorm2d):
            bn.running_mean.normal_()
            bn.running_var.uniform_(0.5, 2.0)
    return m


def graph_of(project):
    """Node types and params in order, and edges by node name: what "the same graph" means."""
    net = project.network()
    name = {n.id: n.name for n in net.nodes.values()}
    return ([(n.name, n.type, n.params) for n in net.iter_nodes()],
            sorted((name[e.src], e.src_port, name[e.dst], e.dst_port) for e in net.edges))


def outputs_of(project, state, x):
    model = compile_network(project)
    model.load_state_dict(state)
    with torch.no_grad():
        return model.eval()(x)


def test_import_gives_the_same_outputs_and_readable_nodes():
    module = hand_net()
    x = torch.randn(4, 3, 16, 16)
    result = import_module(module, torch.randn(2, 3, 16, 16), "hand")
    project = result.project
    project.check()
    assert module.training  # left in the mode it had
    with torch.no_grad():
        torch.testing.assert_close(outputs_of(project, result.state_dict, x), module.eval()(x))
    assert result.max_abs_diff < 1e-5
    net = project.network()
    nodes = {n.name: n for n in net.nodes.values()}
    assert nodes["x"].type == "Input" and nodes["x"].params == {"shape": [3, 16, 16], "dtype": "float"}
    assert nodes["stem"].params == {"out_channels": 8, "kernel_size": 5, "stride": 2, "padding": 2}
    assert nodes["layer1"].params == {"block": "Basic", "repeat": 2}  # nn.Sequential(Basic(8), Basic(8))
    basic = {n.name: n for n in project.block("Basic").network.nodes.values()}
    assert basic["conv1"].params == {"out_channels": 8, "padding": 1, "bias": False}
    assert basic["bn2"].type == "BatchNorm2d" and basic["add"].type == "Add"
    assert basic["relu2"].type == "ReLU"  # a weightless layer called twice: two nodes
    assert nodes["drop"].params == {"p": 0.25} and nodes["cat"].type == "Concat"
    assert nodes["mean"].type == "GlobalAvgPool" and nodes["flatten"].type == "Flatten"
    assert nodes["log_softmax"].params == {"dim": 1} and nodes["max_pool2d"].type == "MaxPool2d"
    # the module's own state_dict keys: the repeated block compiles to layer1.0, layer1.1
    assert "layer1.0.conv1.weight" in result.state_dict and "layer1.1.bn2.running_var" in result.state_dict
    assert all(k == v for k, v in result.original_keys.items())
    assert io.loads(io.dumps(project)).network().nodes.keys() == net.nodes.keys()


def test_round_trip_through_generated_python(tmp_path):
    module = hand_net().eval()
    first = import_module(module, torch.randn(2, 3, 16, 16), "hand")
    path = tmp_path / "generated.py"
    path.write_text(project_source(first.project))
    spec = importlib.util.spec_from_file_location("generated_hand", path)
    generated = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generated)
    regenerated = generated.Hand()
    regenerated.load_state_dict(first.state_dict)
    x = torch.randn(3, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(regenerated.eval()(x), module(x))
    second = import_module(regenerated, torch.randn(2, 3, 16, 16), "hand")
    assert graph_of(second.project) == graph_of(first.project)
    assert second.state_dict.keys() == first.state_dict.keys()
    torch.testing.assert_close(outputs_of(second.project, second.state_dict, x), module(x))


class Erf(nn.Module):
    def forward(self, x):
        return torch.erf(x)


class Shared(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(self.fc(x))


class Direct(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(4, 4))

    def forward(self, x):
        return x @ self.w


class Branchy(nn.Module):
    def forward(self, x):
        return x if x.sum() > 0 else -x


@pytest.mark.parametrize("module,shape,message", [
    (Erf(), (4,), r"cannot import 'torch.erf' at .*test_import.py:\d+: no catalog entry"),
    (Shared(), (4,), r"'self.fc' \(Linear\): a layer with weights called twice"),
    (Direct(), (4,), r"'operator.matmul' at .*: a parameter or buffer used directly in forward in a way"),
    (Branchy(), (4,), r"cannot trace .*Branchy"),
])
def test_unsupported_calls_are_refused_by_name(module, shape, message):
    with pytest.raises(StudioError, match=message):
        import_module(module, torch.randn(2, *shape), "bad")


class Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 8)
        self.lstm = nn.LSTM(8, 16, batch_first=True)
        self.norm = nn.LayerNorm(16)
        self.head = nn.Linear(16, 3)

    def forward(self, ids):
        out, _ = self.lstm(self.emb(ids))
        return self.head(self.norm(out)[:, -1])


def test_sequence_model_with_lstm_and_embedding():
    module = Seq()
    ids = torch.randint(0, 20, (2, 7))
    result = import_module(module, ids, "seq")
    nodes = {n.name: n for n in result.project.network().nodes.values()}
    assert nodes["ids"].params == {"shape": [7], "dtype": "long"}
    assert nodes["lstm"].type == "LSTM" and nodes["lstm"].params == {"hidden_size": 16}
    assert nodes["select"].type == "Select" and nodes["select"].params == {}  # dim 1, index -1: the defaults
    assert "lstm.rnn.weight_ih_l0" in result.state_dict
    torch.testing.assert_close(outputs_of(result.project, result.state_dict, ids), module.eval()(ids))


def test_import_from_path_with_arguments(tmp_path):
    source = tmp_path / "mymodel.py"
    source.write_text(textwrap.dedent("""
        import torch
        from torch import nn

        class Net(nn.Module):
            def __init__(self, hidden, classes=2):
                super().__init__()
                self.fc1 = nn.Linear(6, hidden)
                self.fc2 = nn.Linear(hidden, classes)

            def forward(self, x):
                return self.fc2(torch.tanh(self.fc1(x)))

        def net_small(classes=2):  # model zoos build models with functions
            return Net(4, classes)

        VERSION = 1
    """))
    result = import_from_path(f"{source}:Net", {"hidden": 5, "classes": 3}, (6,))
    nodes = {n.name: n for n in result.project.network().nodes.values()}
    assert result.project.name == "Net"
    assert nodes["fc1"].params == {"out_features": 5} and nodes["fc2"].params == {"out_features": 3}
    assert nodes["tanh"].type == "Tanh"
    built = import_from_path(f"{source}:net_small", {"classes": 3}, (6,))
    assert built.project.name == "net_small" and built.max_abs_diff < 1e-5
    assert {n.name: n.params for n in built.project.network().nodes.values()}["fc1"] == {"out_features": 4}
    with pytest.raises(StudioError, match="not a class or a function"):
        import_from_path(f"{source}:VERSION", [], (6,))
    linear = import_from_path("torch.nn:Linear", [4, 3], [(4,)], project_name="lin")
    assert [n.type for n in linear.project.network().iter_nodes()] == ["Input", "Linear", "Output"]
    for spec, message in (("nocolon", "does not name a class"), (f"{tmp_path}/none.py:Net", "no such file"),
                          ("torch.nn:Nope", "has no 'Nope'"), (f"{source}:Net", "cannot build")):
        with pytest.raises(StudioError, match=message):
            import_from_path(spec, [], (6,))


def test_cli_import_then_export_with_the_weights(tmp_path, capsys):
    source = tmp_path / "m.py"
    source.write_text("from torch import nn\n\nclass M(nn.Sequential):\n"
                      "    def __init__(self, n):\n        super().__init__(nn.Conv2d(3, n, 3), nn.ReLU(), nn.Flatten())\n")
    parser = argparse.ArgumentParser()
    add_import_arguments(parser)
    project_file = tmp_path / "m.json"
    args = parser.parse_args([f"{source}:M", "-o", str(project_file), "--args", "[4]", "--input-shape", "3,8,8"])
    assert run_import(args) == 0
    out = capsys.readouterr().out
    assert f"wrote {project_file}" in out and f"wrote {tmp_path / 'm.pt'}" in out and "max difference" in out
    project = io.load(project_file)
    assert [n.name for n in project.network().iter_nodes()] == ["input_1", "conv2d_0", "relu_1", "flatten_2", "out"]
    saved = torch.load(tmp_path / "m.pt", weights_only=True)
    assert sorted(saved) == ["0.bias", "0.weight"]  # the module's own keys: it loads them back
    module = load_class(f"{source}:M")(4)
    module.load_state_dict(saved)
    result = export(project, "pt2", tmp_path / "m.pt2", weights=tmp_path / "m.pt")
    assert result.max_abs_diff < 1e-5 and not result.notes
    assert parse_shapes("3,32,32;10") == [(3, 32, 32), (10,)]
    with pytest.raises(StudioError, match="not a shape"):
        parse_shapes("3,a")
    bad = parser.parse_args([f"{source}:M", "-o", str(project_file), "--args", "{oops", "--input-shape", "3,8,8"])
    with pytest.raises(StudioError, match="--args is not valid JSON"):
        run_import(bad)


def test_a_setting_the_catalog_does_not_hold_is_caught_by_the_output_check():
    x = torch.randn(2, 5, 8)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
    result = import_module(layer, x, "enc")
    assert [n.type for n in result.project.network().iter_nodes()] == ["Input", "TransformerEncoderLayer", "Output"]
    assert result.project.network().by_name("transformerencoderlayer").params == {"nhead": 2, "dim_feedforward": 16}
    odd = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True, layer_norm_eps=0.5)
    with pytest.raises(StudioError, match="computes something else than .*TransformerEncoderLayer "
                                          r"\(largest difference .*Nothing was imported"):
        import_module(odd, x, "enc")


def test_a_file_imports_its_siblings_as_python_would(tmp_path, monkeypatch):
    models = tmp_path / "models"
    models.mkdir()
    (models / "thirdparty.py").write_text("from torch import nn\n\nWIDTH = 4\n\n"
                                          "def block(c_in, c_out):\n"
                                          "    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU())\n")
    (models / "seeded.py").write_text(textwrap.dedent("""
        from torch import nn
        from thirdparty import WIDTH, block

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = block(3, WIDTH)

            def forward(self, x):
                return self.body(x).flatten(1)
    """))
    monkeypatch.chdir(tmp_path)
    before = list(sys.path)
    result = import_from_path("models/seeded.py:Net", [], (3, 4, 4))
    body = result.project.block("Body").network
    assert [n.type for n in body.iter_nodes()][1:3] == ["Conv2d", "ReLU"]
    assert sys.path == before  # the folder is on the path only while the file loads
    (models / "thirdparty.py").write_text((models / "thirdparty.py").read_text().replace("WIDTH = 4", "WIDTH = 6"))
    again = import_from_path("models/seeded.py:Net", [], (3, 4, 4))  # the edited sibling is read again
    assert again.project.block("Body").network.by_name("conv2d_0").params["out_channels"] == 6


class Tagger(nn.Module):
    """Token ids -> embedding -> LSTM, as a tagger is usually written."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.rnn = nn.LSTM(4, 6, batch_first=True)

    def forward(self, ids):
        return self.rnn(self.emb(ids))[0]


class Viewing(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(12, 2)

    def forward(self, x):
        return self.fc(x.view(-1, 12))


@pytest.mark.parametrize("module,shape,dtype,message", [
    (hand_net(), (1, 16, 16), "float", r"^the input shape 1,16,16 \(float\) does not fit HandNet: layer 'stem' "
                                       r"\(Conv2d\) expects 3 channels, got 1; give the input shape 3,16,16$"),
    (nn.Sequential(nn.Linear(8, 2)), (5,), "float", r"layer '0' \(Linear\) expects 8 features in the last "
                                                    r"dimension, got 5; give the input shape 8$"),
    (hand_net(), (3, 16, 16), "long", r"layer 'stem' \(Conv2d\) takes float values, got token ids; give the dtype float$"),
    (Tagger(), (7,), "float", r"layer 'emb' \(Embedding\) takes token ids, got float values; give the dtype long$"),
    (Viewing(), (5,), "float", r"does not fit Viewing: .*test_import.py:\d+ fails: shape '\[-1, 12\]' is invalid"),
])
def test_inputs_that_do_not_fit_say_what_the_module_expected(module, shape, dtype, message):
    x = torch.randint(0, 2, (2, *shape)) if dtype == "long" else torch.randn(2, *shape)
    with pytest.raises(InputError, match=message) as caught:
        import_module(module, x, "bad")
    assert "\n" not in str(caught.value)


def test_cli_input_shape_that_does_not_fit_is_one_line_exit_2(tmp_path, capsys):
    source = tmp_path / "m.py"
    source.write_text("from torch import nn\n\nclass M(nn.Sequential):\n"
                      "    def __init__(self):\n        super().__init__(nn.Conv2d(3, 4, 3), nn.Flatten())\n")
    code = main(["import", f"{source}:M", "-o", str(tmp_path / "m.json"), "--input-shape", "1,8,8"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == ("studio: the input shape 1,8,8 (float) does not fit M: layer '0' (Conv2d) expects 3 channels, "
                   "got 1; give the input shape 3,8,8\n")
    assert not (tmp_path / "m.json").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_imported_files_get_the_mode_the_umask_gives(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("from torch import nn\n\nclass M(nn.Sequential):\n"
                      "    def __init__(self):\n        super().__init__(nn.Linear(3, 2))\n")
    parser = argparse.ArgumentParser()
    add_import_arguments(parser)
    old = os.umask(0o022)
    try:
        assert run_import(parser.parse_args([f"{source}:M", "-o", str(tmp_path / "m.json"), "--input-shape", "3"])) == 0
        os.umask(0o027)
        io.save(io.load(tmp_path / "m.json"), tmp_path / "again.json")
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir() if p.suffix != ".py"}
    assert modes == {"m.json": 0o644, "m.pt": 0o644, "again.json": 0o640}
