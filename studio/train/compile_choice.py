"""On the CPU, ``training.compile`` keeps the compiled steps only where they are faster than eager ones.

Compiled training on a CPU is not always faster: on the 2-core test machine
LeNet-5's compiled steps ran at about 0.7× eager (per-step overhead dwarfs its
small kernels), resnet18's at 1.06-1.07× (bench/train.py --compile). So on the
CPU the first training steps of a run, the normal batches, are timed: two
compiled steps (the first compiles) and one eager step to warm up, then `PAIRS` pairs
of an eager and a compiled step, in alternating order, each pair of the same
batch size. The rest of the run trains with the faster of the two (compiled
when the paired median of eager time / compiled time is 1 or more) and one
`RunWarning` says which, with the ratio. The saved setting is not changed.

The comparison is skipped where it cannot pay or be fair: compile off, a GPU
(CUDA graphs and kernel fusion pay there, bench/gpu.py), or several processes
(each would wait on the others' steps). A model torch.compile could not
compile trains eagerly anyway (`studio.train.compiling`), and then nothing is
timed.
"""

from __future__ import annotations

import statistics
import time
from typing import Any, Callable, TypeVar

import torch
from torch import nn

from studio.train.compiling import CompiledModel

T = TypeVar("T")

# Timed pairs (eager, compiled) before choosing; bench/train.py sets 0 to time the compiled code alone.
PAIRS = 5
# Untimed steps first: the first compiled one compiles; the second still took 4x a later one
# (resnet18, measured); the eager one warms its allocations.
WARM_UP = (True, True, False)


class CompileChoice:
    """Runs training steps compiled or eager while timing both, then keeps the faster.

    Args:
        models: the run's compiled training modules (all switched together).
        say: called once with the line that tells what was chosen.
        pairs: timed pairs before choosing.
    """

    def __init__(self, models: list[CompiledModel], say: Callable[[str], None], pairs: int = PAIRS):
        self.models = models
        self.say = say
        self.pairs = pairs
        self.plan = list(WARM_UP) + [compiled for i in range(pairs) for compiled in _pair(i)]
        self.size: int | None = None  # the batch size every counted step shares
        self.times: dict[bool, list[float]] = {True: [], False: []}  # compiled? -> seconds per step
        self.ratio: float | None = None  # eager time / compiled time, once chosen

    def run(self, size: int, step: Callable[..., T], *args: Any) -> T:
        """``step(*args)``, one training step on a batch of ``size``, compiled or eager as the plan says."""
        if not self.plan:
            return step(*args)
        if any(model.failed is not None for model in self.models):
            self.plan = []  # compiling failed: the models train eagerly and the user was told
            return step(*args)
        compiled = self.plan[0]
        self._switch(compiled)
        start = time.perf_counter()
        result = step(*args)
        elapsed = time.perf_counter() - start
        self._record(compiled, size, elapsed)
        return result

    def _record(self, compiled: bool, size: int, elapsed: float) -> None:
        self.size = self.size or size  # the first step's: the size the warm-up compiled
        if size != self.size:  # another size compiles a graph of its own: do this step again on the next batch
            return
        if len(self.plan) <= 2 * self.pairs:  # past the warm-up
            self.times[compiled].append(elapsed)
        self.plan.pop(0)
        if not self.plan:
            self._choose()

    def _choose(self) -> None:
        ratios = [e / c for e, c in zip(self.times[False], self.times[True])]
        self.ratio = statistics.median(ratios)
        keep = self.ratio >= 1.0
        self._switch(keep)
        low, high = min(ratios), max(ratios)
        self.say(f"training.compile: compiled steps were {self.ratio:.2f}x the speed of eager ones on this CPU "
                 f"({len(ratios)} timed pairs, {low:.2f}-{high:.2f}); training continues "
                 + ("compiled." if keep else "eager (the setting stays as saved)."))

    def _switch(self, compiled: bool) -> None:
        for model in self.models:
            model.use_compiled = compiled


class Always:
    """No comparison: every step as it is (compile off, a GPU, several processes)."""

    @staticmethod
    def run(size: int, step: Callable[..., T], *args: Any) -> T:
        """``step(*args)``."""
        return step(*args)


def _pair(i: int) -> tuple[bool, bool]:
    """The i-th timed pair, eager first in even pairs: a machine speeding up or slowing down favours neither."""
    return (False, True) if i % 2 == 0 else (True, False)


def for_run(models: dict[str, nn.Module], device: torch.device, distributed: bool,
            say: Callable[[str], None]) -> CompileChoice | Always:
    """The comparison for a run's training ``models`` (`Always` where none is made; see the module doc)."""
    compiled = [m for m in models.values() if isinstance(m, CompiledModel)]
    if not compiled or device.type != "cpu" or distributed or PAIRS == 0:
        return Always()
    return CompileChoice(compiled, say, PAIRS)

