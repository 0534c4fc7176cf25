"""Import keeps a torch.nn layer the catalog has no form for as one "Module" node of torch's own class,
wherever it is called, and runs it without asking for trust (torch's code is not the user's)."""

import textwrap

import pytest
import torch
from torch import nn

from studio.cli import main
from studio.errors import StudioError
from studio.export import export, import_from_path, import_module
from studio.graph import io
from studio.user_code import load_class
from tests.core.kept_code import assert_checkpoint_loads, own_trust_list  # noqa: F401 (autouse)

# Written as people write them: a ShuffleNet-style unit, space-to-depth at the stem, RMSNorm and a
# LayerNorm over a whole feature map (ConvNeXt/ViT papers' code), torch layers used in the root's forward.
SHUFFLE = textwrap.dedent('''
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class ShuffleUnit(nn.Module):
        def __init__(self, channels, groups=2):
            super().__init__()
            self.conv1 = nn.Conv2d(channels, channels, 1, groups=groups, bias=False)
            self.bn = nn.BatchNorm2d(channels)
            self.shuffle = nn.ChannelShuffle(groups)
            self.dw = nn.Conv2d(channels, channels, 3, padding=1, groups=channels)

        def forward(self, x):
            out = F.relu(self.bn(self.conv1(x)))
            return x + self.dw(self.shuffle(out))


    class TinyShuffleNet(nn.Module):
        def __init__(self, num_classes=5, width=8):
            super().__init__()
            self.space_to_depth = nn.PixelUnshuffle(2)
            self.stem = nn.Conv2d(12, width, 3, padding=1)
            self.stage = nn.Sequential(ShuffleUnit(width), ShuffleUnit(width))
            self.norm = nn.LayerNorm([width, 4, 4], bias=False)
            self.pool = nn.LPPool2d(2, 2)
            self.proj = nn.Linear(width * 4, 16)
            self.rms = nn.RMSNorm(16, eps=1e-5)
            self.fc = nn.Linear(16, num_classes)

        def forward(self, x):
            x = self.stem(self.space_to_depth(x))
            x = self.norm(self.stage(x))
            x = torch.flatten(self.pool(x), 1)
            return self.fc(self.rms(self.proj(x)))


    class CustomActivation(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, activation=F.silu, batch_first=True)

        def forward(self, x):
            return self.layer(x)
''')


@pytest.fixture
def shuffle(tmp_path):
    path = tmp_path / "shufflenet.py"
    path.write_text(SHUFFLE)
    return path


def kept(project) -> list[tuple[str, str, str]]:
    return sorted((n.name, n.params["target"], n.params["args"])
                  for net in project.all_networks() for n in net.nodes.values() if n.type == "Module")


def test_torch_layers_without_catalog_form_come_in_as_torch_modules_with_equal_outputs(shuffle):
    result = import_from_path(f"{shuffle}:TinyShuffleNet", input_shape=(3, 8, 8))
    assert kept(result.project) == [
        ("norm", "torch.nn:LayerNorm", '{"normalized_shape": [8, 4, 4], "bias": false}'),
        ("pool", "torch.nn:LPPool2d", '{"norm_type": 2, "kernel_size": 2}'),
        ("rms", "torch.nn:RMSNorm", '{"normalized_shape": [16], "eps": 1e-05}'),
        ("shuffle", "torch.nn:ChannelShuffle", '{"groups": 2}'),  # inside the unit: only the layer is kept
        ("space_to_depth", "torch.nn:PixelUnshuffle", '{"downscale_factor": 2}')]
    assert "ShuffleUnit" in result.project.blocks
    torch.manual_seed(1)
    module = load_class(f"{shuffle}:TinyShuffleNet")().eval()
    assert_checkpoint_loads(result, module, torch.randn(3, 3, 8, 8))


def test_a_project_with_only_torch_layers_kept_needs_no_trust_and_exports(shuffle, tmp_path, capsys):
    project = tmp_path / "net.json"
    assert main(["import", f"{shuffle}:TinyShuffleNet", "-o", str(project), "--input-shape", "3,8,8"]) == 0
    assert not (tmp_path / "trusted.json").exists() or "torch.nn" not in (tmp_path / "trusted.json").read_text()
    capsys.readouterr()
    assert main(["check", str(project)]) == 0, capsys.readouterr().err  # nothing trusted, nothing asked
    result = import_from_path(f"{shuffle}:TinyShuffleNet", input_shape=(3, 8, 8))
    for fmt, name in (("torchscript", "m.pt"), ("state_dict", "w.pt"), ("python", "m.py")):
        assert export(io.load(project), fmt, tmp_path / name, weights=result.state_dict).max_abs_diff < 1e-5
    source = (tmp_path / "m.py").read_text()
    assert "from torch.nn import" in source and "model_output_items" not in source  # torch's layers return tensors


def test_only_torch_nn_layer_classes_are_trusted_without_asking():
    from studio import trust

    assert trust.is_trusted(("torch.nn:PixelUnshuffle", '{"downscale_factor": 2}'))
    for target in ("torch.hub:load", "torch.nn:functional", "torch.nn:DataParallel", "torch.nn:Module.x",
                   "os:system"):
        assert not trust.is_trusted((target, "[]")), target


def test_a_torch_layer_whose_settings_cannot_be_read_back_is_refused_as_before(shuffle):
    with pytest.raises(StudioError, match=r"cannot import 'self.layer' \(TransformerEncoderLayer\): "
                                          r"TransformerEncoderLayer with an activation other than relu or gelu"):
        import_from_path(f"{shuffle}:CustomActivation", input_shape=(4, 16))


class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.gate = nn.Hardsigmoid()

    def forward(self, x):
        return x * self.gate(self.fc(x))


class CountPad(nn.Module):
    def __init__(self):
        super().__init__()
        self.pool = nn.AvgPool2d(2, padding=1, count_include_pad=False)

    def forward(self, x):
        return self.pool(x)


@pytest.mark.parametrize("module,shape,code", [
    (Gate(), (4,), ("torch.nn:Hardsigmoid", "{}")),  # refused by name before
    (CountPad(), (1, 4, 4), ("torch.nn:AvgPool2d",
                             '{"kernel_size": 2, "stride": 2, "padding": 1, "count_include_pad": false}')),
])
def test_a_layer_with_a_setting_or_type_the_catalog_lacks_is_kept_in_the_root(module, shape, code):
    x = torch.randn(2, *shape)
    result = import_module(module, x)
    (node,) = [n for n in result.project.network().nodes.values() if n.type == "Module"]
    assert (node.params["target"], node.params["args"]) == code
    assert result.max_abs_diff == 0
