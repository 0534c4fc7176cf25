"""What the reinforcement-learning recipes share: environments, a replay buffer, greedy evaluation.

An RL recipe (``dqn``, ``actor_critic``) trains on an environment, not on a
dataset. `environment_data` stands in for the `DataSplits` a supervised run
gets: ``train`` is None (the recipe makes each epoch's steps itself, through
its ``batches``), ``val`` holds the seeds of the greedy evaluation episodes
(one per item, so the validation "loader" the trainer builds hands the recipe
those seeds), ``input_shape`` is the observation shape and ``num_classes``
the number of actions; ``task`` is ``"reinforcement"``.

Environments are gymnasium's classic-control ones (pure Python and numpy,
nothing downloaded). `ReplayBuffer` is a ring of preallocated tensors holding
``(obs, action, reward, next_obs, done, next_action)`` transitions; ``done``
is termination only (a time-limit truncation still bootstraps), and
``next_action`` is the action the behaviour policy chose in ``next_obs``
(SARSA targets need it). `greedy_return` plays one episode with the argmax
action from a fixed seed: the same weights and seed give the same return.
`BestWeights` keeps a copy of the weights whose greedy return was best so
far, for a recipe that ends its run with them (value-based RL on CartPole
is known to forget a solved task late in training).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.data import TensorDataset

from studio.errors import TrainingError

# Evaluation episodes use seeds from here on, away from the training seeds.
EVAL_SEED_BASE = 1_000_000
# The greedy checks that pick the weights a run ends with use seeds from here on,
# away from the validation seeds, so val_return stays an independent figure.
BEST_SEED_BASE = 2_000_000


@dataclass
class EnvironmentData:
    """The `DataSplits` stand-in of an RL run (see the module docstring)."""

    train: Any
    val: TensorDataset
    test: Any
    input_shape: tuple[int, ...]
    task: str
    num_classes: int
    class_names: list[str] | None
    mean: Any = None
    std: Any = None
    env: str = "CartPole-v1"


def make_env(name: str) -> Any:
    """A gymnasium environment with a Box observation and discrete actions.

    Raises:
        TrainingError: gymnasium is missing, or the environment does not fit.
    """
    try:
        import gymnasium as gym
    except ImportError:  # pragma: no cover - gymnasium is a dependency
        raise TrainingError("training.env: the RL recipes need gymnasium; pip install gymnasium") from None
    env = gym.make(name)
    if not hasattr(env.action_space, "n") or len(env.observation_space.shape or ()) != 1:
        env.close()
        raise TrainingError(f"training.env: {name} needs a vector observation and discrete actions")
    return env


def environment_data(training: dict[str, Any]) -> EnvironmentData:
    """The data of an RL run with ``training`` settings: evaluation seeds and the env's shapes."""
    from studio.train.config import TrainConfig

    name = training.get("env", TrainConfig.env)
    episodes = int(training.get("eval_episodes", TrainConfig.eval_episodes))
    seed = int(training.get("seed", TrainConfig.seed))
    env = make_env(name)
    try:
        shape, actions = tuple(env.observation_space.shape), int(env.action_space.n)
    finally:
        env.close()
    seeds = torch.arange(episodes, dtype=torch.long) + EVAL_SEED_BASE + 1000 * seed
    return EnvironmentData(train=None, val=TensorDataset(seeds), test=None, input_shape=shape,
                           task="reinforcement", num_classes=actions,
                           class_names=[f"action {i}" for i in range(actions)], env=name)


@contextmanager
def one_cpu_thread(device: torch.device) -> Iterator[None]:
    """On the CPU, run the block with one intra-op thread, then restore the count.

    RL networks are tiny and act one observation at a time: extra threads only
    contend (measured here: 1.7 ms per DQN update with one thread, 65 ms with two
    on a busy two-core machine).
    """
    if torch.device(device).type != "cpu":
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class ReplayBuffer:
    """A fixed-size ring of transitions; `sample` draws uniformly with a torch generator."""

    def __init__(self, capacity: int, obs_dim: int, device: torch.device | str = "cpu"):
        self.capacity, self.size, self.pos = capacity, 0, 0
        self.obs = torch.zeros(capacity, obs_dim, device=device)
        self.next_obs = torch.zeros(capacity, obs_dim, device=device)
        self.actions = torch.zeros(capacity, dtype=torch.long, device=device)
        self.next_actions = torch.zeros(capacity, dtype=torch.long, device=device)
        self.rewards = torch.zeros(capacity, device=device)
        self.dones = torch.zeros(capacity, device=device)

    def __len__(self) -> int:
        return self.size

    def push(self, obs: Any, action: int, reward: float, next_obs: Any, done: bool,
             next_action: int) -> None:
        """Store one transition, overwriting the oldest once full."""
        i = self.pos
        self.obs[i] = torch.as_tensor(obs, dtype=torch.float32)
        self.next_obs[i] = torch.as_tensor(next_obs, dtype=torch.float32)
        self.actions[i], self.next_actions[i] = action, next_action
        self.rewards[i], self.dones[i] = float(reward), float(done)
        self.pos = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch: int, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """``batch`` transitions drawn uniformly with replacement, as a dict of tensors."""
        if self.size == 0:
            raise ValueError("ReplayBuffer.sample: the buffer is empty")
        idx = torch.randint(self.size, (batch,), generator=generator).to(self.obs.device)
        return {"obs": self.obs[idx], "actions": self.actions[idx], "rewards": self.rewards[idx],
                "next_obs": self.next_obs[idx], "dones": self.dones[idx],
                "next_actions": self.next_actions[idx]}


@torch.no_grad()
def greedy_return(policy: Callable[[torch.Tensor], torch.Tensor], env: Any, seed: int,
                  device: torch.device | str = "cpu") -> float:
    """The return of one episode from ``env.reset(seed=seed)`` taking the argmax of ``policy``'s scores."""
    obs, _ = env.reset(seed=int(seed))
    total, done = 0.0, False
    while not done:
        scores = policy(torch.as_tensor(obs, dtype=torch.float32, device=device).unsqueeze(0))
        obs, reward, terminated, truncated, _ = env.step(int(scores.argmax(-1)[0]))
        total += float(reward)
        done = terminated or truncated
    return total


def evaluate_greedy(model: nn.Module, env_name: str, seeds: list[int],
                    device: torch.device | str = "cpu") -> list[float]:
    """Greedy returns of ``model`` over one episode per seed (the model in eval mode meanwhile)."""
    env = make_env(env_name)
    was_training = model.training
    model.eval()
    try:
        with one_cpu_thread(torch.device(device)):
            return [greedy_return(model, env, s, device) for s in seeds]
    finally:
        model.train(was_training)
        env.close()


class EpisodeLog:
    """Returns of the episodes that finished this epoch, and of the last one ever finished."""

    def __init__(self) -> None:
        self.returns: list[float] = []
        self.last: float = 0.0
        self.count = 0

    def begin_epoch(self) -> None:
        self.returns = []

    def finished(self, value: float) -> None:
        self.returns.append(float(value))
        self.last = float(value)
        self.count += 1

    def metrics(self) -> dict[str, Any]:
        """``episode_return`` (mean of this epoch's episodes; the last finished one when none did)
        and ``episode_returns`` (this epoch's, in order)."""
        mean = sum(self.returns) / len(self.returns) if self.returns else self.last
        return {"episode_return": mean, "episode_returns": list(self.returns), "episodes": self.count}


class BestWeights:
    """A copy of a model's weights with the best score offered so far.

    A tie replaces the kept copy: the later weights have trained longer on a
    lower exploration rate and score the same on the checks.
    """

    def __init__(self) -> None:
        self.value: float | None = None
        self.step = 0
        self.weights: dict[str, torch.Tensor] | None = None

    def offer(self, value: float, model: nn.Module, step: int) -> bool:
        """Keep ``model``'s weights if ``value`` is at least the best so far; whether it did."""
        if self.value is not None and value < self.value:
            return False
        self.value, self.step = float(value), int(step)
        self.weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
        return True

    def restore(self, model: nn.Module) -> bool:
        """Load the kept weights into ``model``; False when nothing was kept."""
        if self.weights is None:
            return False
        model.load_state_dict(self.weights)
        return True

    def state_dict(self) -> dict[str, Any]:
        return {"value": self.value, "step": self.step, "weights": self.weights}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.value = None if state["value"] is None else float(state["value"])
        self.step, self.weights = int(state["step"]), state["weights"]
