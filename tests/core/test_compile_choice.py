"""On the CPU, ``training.compile`` keeps compiled steps only where they beat eager ones (`studio.train.compile_choice`).

The steps are real (forward, backward, SGD) on a tiny network compiled by
torch.compile with a cheap backend; which side is slower is made certain by
a sleep in the compiled code or in the eager code only.
"""

import time

import torch
from torch import nn
from torch.nn import functional as F

from studio.train import compile_choice
from studio.train.compile_choice import Always, CompileChoice
from studio.train.compiling import CompiledModel, mode_arguments

from tests.core.test_train_support import mlp, one_thread  # noqa: F401  (one_thread: an autouse fixture)

SLEEP_S = 0.01


class SlowWhenEager(nn.Module):
    """An MLP whose eager forward sleeps; dynamo folds ``is_compiling()`` to True, so the compiled one does not."""

    def __init__(self):
        super().__init__()
        self.net = mlp()

    def forward(self, x):
        if not torch.compiler.is_compiling():
            time.sleep(SLEEP_S)
        return self.net(x)


def slow_backend(gm, example_inputs):
    """A backend whose compiled forward sleeps: compiled code slower than eager."""
    def run(*args):
        time.sleep(SLEEP_S)
        return gm.forward(*args)
    return run


def train(model: CompiledModel, choice: CompileChoice, steps: int, size: int = 8) -> None:
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.detach()

    for _ in range(steps):
        choice.run(size, step, torch.randn(size, 4), torch.randint(0, 3, (size,)))


def test_slower_compiled_steps_give_way_to_eager_and_say_so():
    torch._dynamo.reset()
    said = []
    model = CompiledModel(mlp(), "default", [].append, backend=slow_backend)
    choice = CompileChoice([model], said.append, pairs=3)
    train(model, choice, 3 + 2 * 3 + 4)
    [line] = said
    assert "continues eager (the setting stays as saved)" in line and "3 timed pairs" in line, line
    assert choice.ratio < 0.8 and not model.use_compiled
    assert len(choice.times[True]) == len(choice.times[False]) == 3


def test_faster_compiled_steps_are_kept():
    torch._dynamo.reset()
    said = []
    model = CompiledModel(SlowWhenEager(), "default", [].append, backend="aot_eager")
    choice = CompileChoice([model], said.append, pairs=3)
    train(model, choice, 3 + 2 * 3 + 4)
    [line] = said
    assert "continues compiled." in line and choice.ratio > 1.2 and model.use_compiled, line


def test_a_batch_of_another_size_is_not_timed():
    """A smaller last batch compiles a graph of its own: its step would time the compiler."""
    torch._dynamo.reset()
    model = CompiledModel(mlp(), "default", [].append, backend="aot_eager")
    choice = CompileChoice([model], [].append, pairs=2)
    train(model, choice, 1)  # the first compiled warm-up step, batch 8
    train(model, choice, 1, size=5)
    assert len(choice.plan) == 2 + 2 * 2  # not counted: two warm-up steps are still to come
    train(model, choice, 3)
    train(model, choice, 1, size=5)
    assert len(choice.times[True]) + len(choice.times[False]) == 1
    train(model, choice, 3)
    assert choice.ratio is not None and len(choice.times[True]) == 2


def test_no_comparison_off_the_cpu_or_without_compiling():
    compiled = {"model": CompiledModel(mlp(), "default", [].append, backend="aot_eager")}
    assert isinstance(compile_choice.for_run(compiled, torch.device("cpu"), False, print), CompileChoice)
    assert isinstance(compile_choice.for_run(compiled, torch.device("cuda"), False, print), Always)
    assert isinstance(compile_choice.for_run(compiled, torch.device("cpu"), True, print), Always)
    assert isinstance(compile_choice.for_run({"model": mlp()}, torch.device("cpu"), False, print), Always)


def test_inductor_keeps_cpu_activations_contiguous():
    """Inductor's channels-last activations against contiguous weights made CPU steps 0.86x eager."""
    assert mode_arguments("default", mlp(), "inductor") == {"options": {"layout_optimization": False}}
    assert mode_arguments("max-autotune", mlp(), "inductor") == {"options": {
        "max_autotune": True, "coordinate_descent_tuning": True, "layout_optimization": False}}
    assert mode_arguments("reduce-overhead", mlp(), "aot_eager") == {"mode": "reduce-overhead"}
    assert mode_arguments("default", mlp(), "aot_eager") == {"mode": None}
    CompiledModel(mlp(), "max-autotune", [].append)  # torch.compile takes them (it compiles on the first call)
