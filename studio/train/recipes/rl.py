"""What the reinforcement-learning recipes (dqn, actor_critic) share.

They load no dataset (``environment = True``): the trainer iterates
`batches` and each step acts in a gymnasium environment. Each trained network
has its own optimizer and schedule (`Learner`), named in checkpoints by the
keys the recipe gives (so old checkpoints still load); one update is
`update`. Evaluation plays one greedy episode per validation seed
(`greedy_return`); the episode log, the sampling generator and the learners
go into `state_dict` beside what the recipe adds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from studio.errors import TrainingError
from studio.train.optim import Schedule, build_optimizer
from studio.train.recipes.base import RecipeContext
from studio.train.rl_env import EpisodeLog, evaluate_greedy, one_cpu_thread


def check_outputs(model: nn.Module, obs_dim: int, count: int, role: str, what: str) -> None:
    """Refuse a network whose output is not ``count`` numbers per observation."""
    with torch.no_grad():
        out = model(torch.zeros(1, obs_dim, device=next(model.parameters()).device))
    if tuple(out.shape[1:]) != (count,):
        raise TrainingError(f"network '{role}' outputs {tuple(out.shape[1:])} per observation; the "
                            f"environment needs {count} ({what}): set its last Linear to {count} outputs")


@dataclass
class Learner:
    """One trained network with its optimizer and schedule; ``keys`` name the two in checkpoints."""

    model: nn.Module
    optimizer: Any
    schedule: Schedule
    keys: tuple[str, str]


class EnvironmentRecipe:
    """The parts of an RL recipe that do not depend on the algorithm.

    A subclass sets ``name``, calls `start` first in its ``setup`` and
    `learner` for each network it trains.
    """

    name = ""
    tasks = ("reinforcement",)
    environment = True

    def start(self, ctx: RecipeContext) -> None:
        """Refuse several processes; keep the config, device, steps, a seeded generator and a log."""
        if ctx.world_size > 1:
            raise TrainingError(f"the {self.name} recipe trains in one process; use --nproc 1")
        self.config, self.device, self.steps = ctx.config, ctx.device, ctx.steps_per_epoch
        self.watch_mode = ctx.watch_mode
        self.gen = torch.Generator().manual_seed(ctx.config.seed)
        self.log = EpisodeLog()
        self.learners: list[Learner] = []

    def learner(self, model: nn.Module, keys: tuple[str, str]) -> Learner:
        """An optimizer and schedule for ``model``'s trainable parameters, kept in `learners`."""
        optimizer = build_optimizer([p for p in model.parameters() if p.requires_grad], self.config)
        schedule = Schedule(optimizer, self.config, self.steps, plateau_mode=self.watch_mode)
        self.learners.append(Learner(model, optimizer, schedule, keys))
        return self.learners[-1]

    def batches(self, epoch: int) -> Iterator[int]:
        """The epoch's step numbers; on the CPU they run with one intra-op thread."""
        with one_cpu_thread(self.device):
            yield from range(self.steps)

    def begin_epoch(self, epoch: int) -> None:
        for learner in self.learners:
            learner.model.train()
        self.log.begin_epoch()

    def update(self, loss: torch.Tensor) -> None:
        """One step of every learner on ``loss``: backward, clipping per network, optimizers, schedules."""
        for learner in self.learners:
            learner.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.grad_clip:
            for learner in self.learners:
                torch.nn.utils.clip_grad_norm_(learner.model.parameters(), self.config.grad_clip)
        for learner in self.learners:
            learner.optimizer.step()
        for learner in self.learners:
            learner.schedule.after_batch()

    def end_epoch(self, epoch: int, watched: float | None) -> None:
        for learner in self.learners:
            learner.schedule.after_epoch(epoch, watched)

    @property
    def lr(self) -> float:
        return self.learners[0].schedule.lr

    def greedy_return(self, model: nn.Module, loader: DataLoader, prefix: str) -> dict[str, Any]:
        """``<prefix>return``: the mean greedy return over one episode per seed of ``loader``."""
        seeds = [int(s) for batch in loader for s in batch[0].reshape(-1).tolist()]
        returns = evaluate_greedy(model, self.config.env, seeds, self.device)
        return {prefix + "return": sum(returns) / max(len(returns), 1)}

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"episodes": self.log.count, "last_return": self.log.last,
                                 "rng": self.gen.get_state()}
        for learner in self.learners:
            state[learner.keys[0]] = learner.optimizer.state_dict()
            state[learner.keys[1]] = learner.schedule.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for learner in self.learners:
            learner.optimizer.load_state_dict(state[learner.keys[0]])
            learner.schedule.load_state_dict(state[learner.keys[1]])
        self.log.count, self.log.last = int(state["episodes"]), float(state["last_return"])
        self.gen.set_state(state["rng"])
