"""``training.qat``: quantization-aware training through torchao (Linear layers), converted at the end."""

import json
import sys

import pytest
import torch
from torch import nn

from studio.errors import TrainingError
from studio.graph import io
from studio.train import RunFinished, Trainer, qat
from studio.train.config import TrainConfig

from tests.core.test_cli import studio
from tests.core.test_evaluate import mlp as mlp_project
from tests.core.test_train_support import (  # one_thread: an autouse fixture
    one_thread,  # noqa: F401
    classification_splits, mlp, small_cnn,
)

pytest.importorskip("torchao")

TRAINING = {"epochs": 2, "batch_size": 16, "lr": 0.05, "device": "cpu", "seed": 1, "qat": "int8"}


def test_the_setting_is_off_by_default_and_refuses_other_values():
    assert TrainConfig().qat == "off"
    with pytest.raises(TrainingError, match="training.qat: unknown value 'int4'; allowed: off, int8"):
        TrainConfig.from_dict({"qat": "int4"})


def test_a_qat_run_fake_quantizes_linear_layers_and_saves_plain_and_converted_weights(tmp_path):
    from torchao.quantization.qat import FakeQuantizedLinear

    model = mlp()
    result = Trainer({"model": model}, classification_splits(64), TRAINING, out_dir=tmp_path).run()
    assert isinstance(result, RunFinished) and result.reason == "completed"
    assert [type(m) for m in model if not isinstance(m, nn.ReLU)] == [FakeQuantizedLinear] * 2
    # final.pt keeps the float weights under their own names: a plain network loads them strictly.
    plain = mlp()
    plain.load_state_dict(torch.load(tmp_path / "final.pt", weights_only=True))
    x = classification_splits(64).val.tensors[0]
    with torch.no_grad():
        fake = model(x)
        int8 = qat.converted(model)(x)
        assert (fake - plain(x)).abs().max() > 0  # the fake-quant forward rounds
    torch.testing.assert_close(int8, fake, atol=1e-4, rtol=1e-4)
    saved = torch.load(tmp_path / qat.CONVERTED_FILE, weights_only=True)
    assert type(saved["0.weight"]).__name__ != "Tensor"  # int8 weights in torchao's tensor subclass
    assert torch.equal(saved["0.weight"].dequantize(), qat.converted(model)[0].weight.dequantize())


def test_a_network_without_linear_layers_or_without_torchao_is_refused_naming_the_setting(monkeypatch):
    cnn = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
    with pytest.raises(TrainingError, match="training.qat: the network has no Linear layer"):
        qat.prepare({"model": cnn}, "int8")
    monkeypatch.setitem(sys.modules, "torchao.quantization", None)  # as if torchao were not installed
    with pytest.raises(TrainingError, match="training.qat: .*needs the torchao package"):
        qat.prepare({"model": small_cnn()}, "int8")
    qat.prepare({"model": small_cnn()}, "off")  # off needs nothing


def test_convolutions_train_in_float_beside_fake_quantized_linear_layers():
    model = small_cnn()
    qat.prepare({"model": model}, "int8")
    assert type(model[0]) is nn.Conv2d and type(model[-1]).__name__ == "FakeQuantizedLinear"


def test_the_cli_trains_with_qat_and_compress_quantizes_its_final_weights(tmp_path):
    io.save(mlp_project(), tmp_path / "mlp.json")
    out = studio("train", str(tmp_path / "mlp.json"), "--epochs", "1", "--set", "qat=int8",
                 "--out", str(tmp_path / "run"))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "run" / qat.CONVERTED_FILE).exists()
    out = studio("compress", str(tmp_path / "mlp.json"), "--weights", str(tmp_path / "run" / "final.pt"),
                 "--method", "quantize", "-o", str(tmp_path / "mlp.onnx"), "--json")
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout)
    assert figures["after"]["size_bytes"] < figures["before"]["size_bytes"]
