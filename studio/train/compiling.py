"""``training.compile``: the model trains through `torch.compile`, falling back to eager code.

``compile`` is "off" (the default), or one of torch.compile's modes
(`studio.train.config.COMPILE_MODES`):
"default", "reduce-overhead" (CUDA graphs on a GPU), "max-autotune" (tries
kernel variants; a long first step). `compile_for_training` wraps each
training module in a `CompiledModel`, which runs the compiled module and, when
compiling fails (dynamo cannot trace a layer, inductor cannot lower it, or no C
compiler is there for inductor on the CPU), says so once through ``warn`` —
naming the layer when the error text names one — and trains on in eager code.
An error that is the model's own (a shape mismatch) is raised again by the
eager run with its usual message.

Measured (bench/train.py --compile, resnet18 on the 3×32×32 digits, batch
64, one CPU thread): the compiled epochs ran at 0.91× eager per CPU second
until inductor's CPU layout change was turned off (`mode_arguments`), 1.07×
since; LeNet-5's at 0.68× either way (small kernels: the compiled step's
fixed cost shows), so on the CPU `studio.train.compile_choice` times both
early in a run and keeps the faster. On an H200 (bench/gpu.py, ResNet-50 on the digits at 32×32,
batch 64, bf16 and channels-last) "reduce-overhead" (CUDA graphs) trained at
2.06× the plain fp32 eager loop, "default" at 1.07-1.34×, eager bf16 at
0.95-1.12× (small images: the GPU waits on kernel launches, which only CUDA
graphs remove). Graphs are static (``dynamic=False``): the dynamic graph that
torch 2.11 made for a smaller last batch failed there in convolution_backward.

torch.compile compiles lazily, so the first training step (and the first
evaluation, and each new batch size) pays the compile time. Parameters are
shared: checkpoints and final weights are the plain module's, with the same
names as without compiling. The exported files are not compiled: TorchScript,
``.pt2`` and ONNX are their own compiled forms; a loaded module can be passed
to torch.compile where it runs.
"""

from __future__ import annotations

import re
from typing import Any, Callable

import torch
from torch import nn



def compile_errors() -> tuple[type[BaseException], ...]:
    """The exceptions torch.compile raises when it cannot compile (not the model's own errors)."""
    from torch._dynamo.exc import TorchDynamoException

    kinds: list[type[BaseException]] = [TorchDynamoException]
    try:
        from torch._inductor.exc import CppCompileError, InvalidCxxCompiler, LoweringException
        kinds += [CppCompileError, InvalidCxxCompiler, LoweringException]
    except ImportError:  # an older torch: dynamo wraps them in BackendCompilerFailed anyway
        pass
    return tuple(kinds)


class CompiledModel(nn.Module):
    """``model`` run through torch.compile, or eagerly once compiling has failed.

    The eager module is the only registered child, so ``parameters()``,
    ``train()``/``eval()`` and the state_dict are the model's own.

    Args:
        model: the module to train (a plain module or its DDP wrapper).
        mode: a torch.compile mode ("default", "reduce-overhead", "max-autotune").
        warn: called once with a message when compiling fails.
        backend: torch.compile's backend ("inductor"; tests use cheaper ones).
    """

    def __init__(self, model: nn.Module, mode: str, warn: Callable[[str], None], backend: str = "inductor"):
        super().__init__()
        self.eager = model
        self.mode = mode
        self.failed: str | None = None
        self.use_compiled = True  # False: eager steps (`studio.train.compile_choice` times both)
        # dynamic=False: a smaller last batch gets a static graph of its own; the dynamic one that
        # torch 2.11 made for it on CUDA failed in convolution_backward (channels-last strides)
        compiled = torch.compile(model, backend=backend, dynamic=False, **mode_arguments(mode, model, backend))
        object.__setattr__(self, "compiled", compiled)  # not a child: no second copy of the names
        object.__setattr__(self, "_warn", warn)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if self.failed is not None or not self.use_compiled:
            return self.eager(*args, **kwargs)
        try:
            return self.compiled(*args, **kwargs)
        except compile_errors() as exc:
            self.failed = fallback_message(exc, self.eager, self.mode)
            self._warn(self.failed)
            return self.eager(*args, **kwargs)


def mode_arguments(mode: str, model: nn.Module, backend: str) -> dict[str, Any]:
    """torch.compile's ``mode``, or on the CPU inductor options: the mode's own, with activations kept contiguous.

    Inductor turns a CPU graph with convolutions channels-last (``layout_optimization``)
    while the weights stay contiguous, so every step converts them, forward and backward:
    resnet18 training ran at 0.86× eager per CPU second with it, 1.03-1.05× without
    (docs/architecture.md, "Known facts"). CUDA graphs do not apply on the CPU.
    """
    on_cpu = next(iter(model.parameters()), torch.empty(0)).device.type == "cpu"
    if not (on_cpu and backend == "inductor"):
        return {"mode": None if mode == "default" else mode}
    from torch._inductor import list_mode_options

    options = {k: v for k, v in list_mode_options(mode).items() if not k.startswith("triton.cudagraphs")}
    return {"options": {**options, "layout_optimization": False}}


def fallback_message(exc: BaseException, model: nn.Module, mode: str) -> str:
    """What failed, where (the layer the error names, when it names one) and what happens now."""
    layer = blamed_layer(str(exc), model)
    where = f" at layer '{layer}'" if layer else ""
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
    if len(first) > 200:
        first = first[:197] + "..."
    return (f"training.compile={mode}: torch.compile could not compile the model{where} "
            f"({type(exc).__name__}: {first}); training goes on without compiling. "
            f"Set compile to off to skip the attempt.")


def blamed_layer(text: str, model: nn.Module) -> str | None:
    """The first of the model's layers that the error text names (``self.conv1``, ``L['self'].conv1``)."""
    inner = getattr(model, "module", model)  # a DDP wrapper's model
    names = [name for name, _ in inner.named_modules() if name]
    for match in re.finditer(r"(?:self|\['self'\])\.([A-Za-z_][\w.]*)", text):
        found = match.group(1)
        while found and found not in names:
            found = found.rpartition(".")[0]
        if found:
            return found
    return None


def compile_for_training(models: dict[str, nn.Module], mode: str, warn: Callable[[str], None],
                         backend: str = "inductor") -> dict[str, nn.Module]:
    """Each module wrapped in a `CompiledModel` (``mode`` "off": the modules as they are)."""
    if mode == "off":
        return dict(models)
    return {role: CompiledModel(model, mode, warn, backend) for role, model in models.items()}
