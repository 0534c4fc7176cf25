"""``training.compile``: the model trains through torch.compile, and falls back to eager code with a warning.

Inductor takes over a minute to compile even a tiny model on the shared test
machines, so the compiled path is checked with torch's ``aot_eager`` backend
(dynamo and AOT autograd, no code generation); bench/train.py --compile times
the real thing.
"""

import pytest
import torch

from studio.compile import compile_network
from studio.errors import TrainingError
from studio.train import RunFinished, Trainer
from studio.train.compiling import CompiledModel, blamed_layer, compile_for_training
from studio.train.config import TrainConfig
from studio.train.events import RunWarning

from tests.core.helpers import lenet
from tests.core.test_train_support import (  # one_thread: an autouse fixture
    one_thread,  # noqa: F401
    Recorder, assert_same_params, classification_splits, mlp, params_of,
)

TRAINING = {"epochs": 2, "batch_size": 16, "lr": 0.05, "optimizer": "sgd", "device": "cpu", "seed": 5}


def test_the_setting_takes_torch_compile_modes_and_refuses_others():
    assert TrainConfig().compile == "off"
    assert TrainConfig.from_dict({"compile": "max-autotune"}).compile == "max-autotune"
    with pytest.raises(TrainingError, match="training.compile: unknown value 'fast'; allowed: off, default"):
        TrainConfig.from_dict({"compile": "fast"})


def test_a_compiled_model_runs_compiled_and_matches_eager():
    from torch._dynamo.utils import counters

    torch._dynamo.reset()
    counters.clear()
    model, twin = mlp(), mlp()
    warnings = []
    compiled = compile_for_training({"model": model}, "default", warnings.append, backend="aot_eager")["model"]
    assert isinstance(compiled, CompiledModel)
    assert list(compiled.state_dict()) == [f"eager.{k}" for k in model.state_dict()]  # no second copy
    x = torch.randn(8, 4)
    compiled(x).square().sum().backward()
    twin(x).square().sum().backward()
    assert counters["stats"]["unique_graphs"] >= 1 and not warnings and compiled.failed is None
    for (name, a), b in zip(model.named_parameters(), twin.parameters()):
        torch.testing.assert_close(a.grad, b.grad, msg=name)
    assert compile_for_training({"model": model}, "off", warnings.append)["model"] is model


def test_a_smaller_last_batch_gets_a_static_graph_of_its_own():
    """Dynamic recompiles for the last batch failed in convolution_backward on CUDA (bench/gpu.py)."""
    torch._dynamo.reset()
    graphs = []

    def recording(gm, example_inputs):
        graphs.append([n.meta.get("example_value") for n in gm.graph.nodes if n.op == "placeholder"])
        return gm.forward

    compiled = CompiledModel(mlp(), "default", [].append, backend=recording)
    for n in (16, 16, 5):
        compiled(torch.randn(n, 4)).sum().backward()
    assert len(graphs) == 2
    sizes = [[tuple(v.shape) if isinstance(v, torch.Tensor) else v for v in graph] for graph in graphs]
    assert (16, 4) in sizes[0] and (5, 4) in sizes[1], sizes
    assert all(type(n) is int for graph in sizes for shape in graph for n in shape), sizes  # no SymInt: static


def test_a_layer_that_cannot_compile_is_named_and_the_eager_error_follows():
    torch._dynamo.reset()
    warnings = []
    model = CompiledModel(compile_network(lenet()), "default", warnings.append, backend="aot_eager")
    with pytest.raises(RuntimeError, match="cannot be multiplied"):  # 28×28 where LeNet wants 32×32
        model(torch.randn(2, 1, 28, 28))
    [message] = warnings
    assert "at layer 'fc1'" in message and "training goes on without compiling" in message


def test_blamed_layer_reads_dynamo_and_fx_source_lines():
    model = compile_network(lenet())
    assert blamed_layer("from user code:\n  conv2 = self.conv2(pool1)", model) == "conv2"
    assert blamed_layer("L['self'].fc3.weight", model) == "fc3"
    assert blamed_layer("nothing here", model) is None


def test_without_a_c_compiler_the_run_warns_and_trains_eagerly(monkeypatch):
    import torch._inductor.config as inductor_config

    torch._dynamo.reset()
    monkeypatch.setattr(inductor_config.cpp, "cxx", ("/nowhere/no-such-cc",))  # a machine without gcc
    model, recorder = mlp(), Recorder()
    result = Trainer({"model": model}, classification_splits(64), {**TRAINING, "compile": "default"},
                     callback=recorder).run()
    assert isinstance(result, RunFinished) and result.reason == "completed"
    [warning] = recorder.of(RunWarning)
    assert "No working C++ compiler" in warning.message and "Set compile to off" in warning.message
    eager = mlp()
    Trainer({"model": eager}, classification_splits(64), TRAINING).run()
    assert_same_params(params_of(model), params_of(eager), atol=1e-6)
