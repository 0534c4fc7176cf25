"""The actor-critic recipe: advantage actor-critic (A2C, Mnih et al. 2016) in a gymnasium environment.

Roles: "policy" maps an observation to one logit per action, "value" maps it
to one number, V(s); each has its own optimizer and schedule built from the
one config. There is no dataset: ``num_envs`` copies of the ``env``
environment run side by side (seeds ``seed``, ``seed + 1``, ...), and one
training step is one rollout of ``rollout_steps`` steps in each, then one
update of both networks (``env_steps // (num_envs * rollout_steps)`` steps
per epoch). Along the rollout actions are sampled from the policy; the
n-step return R_t = r_t + γ r_{t+1} + ... + γ^k V(s_{t+k}) bootstraps from
the value network at the rollout's end (not past a termination; a time-limit
truncation adds γ V(final observation) to its reward). With the advantage
A_t = R_t − V(s_t) (no gradient through it):

    policy_loss = −mean(log π(a_t|s_t) A_t)
    value_loss  = mean((R_t − V(s_t))²)
    loss        = policy_loss − entropy_coef · entropy + value_coef · value_loss

``train_step`` returns ``[loss, policy_loss, value_loss, entropy]`` (epoch
metrics ``train_loss``, ``train_policy_loss``, ...). Evaluation plays one
greedy (argmax-logit) episode per validation seed, as the DQN recipe does,
and reports ``<prefix>return``; on validation also ``episode_return``,
``episode_returns`` and ``episodes`` (see `studio.train.rl_env.EpisodeLog`).
There is no epsilon: exploration is the policy's own sampling.

Checkpoints hold both networks (as every run's), both optimizers and
schedules, the update and step counters and the sampling RNG; the
environments' states are not saved (a resumed run starts fresh episodes).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from studio.train.recipes.base import RecipeContext
from studio.train.recipes.rl import EnvironmentRecipe, check_outputs
from studio.train.rl_env import make_env


def n_step_returns(rewards: torch.Tensor, dones: torch.Tensor, last_value: torch.Tensor,
                   discount: float) -> torch.Tensor:
    """Discounted returns ``(T, E)`` of a rollout, bootstrapped from ``last_value`` ``(E,)``.

    ``dones[t]`` is 1.0 where the episode ended at step t: nothing after it is added.
    """
    returns = torch.empty_like(rewards)
    running = last_value
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + discount * (1 - dones[t]) * running
        returns[t] = running
    return returns


class ActorCriticRecipe(EnvironmentRecipe):
    """A2C of roles "policy" and "value" (see the module docstring)."""

    name = "actor_critic"
    roles = ("policy", "value")
    data_role = "policy"
    loss_names = ("loss", "policy_loss", "value_loss", "entropy")

    def metric_names(self, data: Any) -> list[str]:
        return ["train_loss", "train_policy_loss", "train_value_loss", "train_entropy", "val_return",
                "episode_return", "lr", "samples_per_s"]

    def epoch_steps(self, config: Any) -> int:
        return max(1, config.env_steps // (config.num_envs * config.rollout_steps))

    def setup(self, ctx: RecipeContext) -> None:
        self.start(ctx)
        c = self.config
        self.policy, self.value = ctx.raw_models["policy"], ctx.raw_models["value"]
        self.envs = [make_env(c.env) for _ in range(c.num_envs)]
        self.obs_dim, self.actions = self.envs[0].observation_space.shape[0], int(self.envs[0].action_space.n)
        check_outputs(self.policy, self.obs_dim, self.actions, "policy", "one logit per action")
        check_outputs(self.value, self.obs_dim, 1, "value", "V(s), one number")
        self.learner(self.policy, ("opt_p", "sched_p"))  # the first: its rate is the one reported
        self.learner(self.value, ("opt_v", "sched_v"))
        self.updates = self.env_steps = 0
        self._seed: int | None = c.seed
        self._obs: torch.Tensor | None = None

    def _reset_all(self) -> None:
        obs = [env.reset(seed=self._seed + i)[0] for i, env in enumerate(self.envs)]
        self._seed = None
        self._obs = torch.as_tensor(np.stack(obs), dtype=torch.float32)
        self._returns = [0.0] * len(self.envs)

    def _v(self, obs: torch.Tensor) -> torch.Tensor:
        return self.value(obs.to(self.device)).reshape(-1)

    # --- training -----------------------------------------------------------------------

    def train_step(self, batch: Any) -> torch.Tensor:
        c = self.config
        if self._obs is None:
            self._reset_all()
        T, E = c.rollout_steps, len(self.envs)
        obs = torch.empty(T, E, self.obs_dim)
        actions = torch.empty(T, E, dtype=torch.long)
        rewards, dones = torch.zeros(T, E), torch.zeros(T, E)
        for t in range(T):
            obs[t] = self._obs
            with torch.no_grad():
                logits = self.policy(self._obs.to(self.device)).float().cpu()
            actions[t] = torch.multinomial(F.softmax(logits, -1), 1, generator=self.gen).squeeze(1)
            self._obs = self._step_envs(actions[t], t, rewards, dones)
        with torch.no_grad():
            last_value = self._v(self._obs).float().cpu()
        returns = n_step_returns(rewards, dones, last_value, c.discount).to(self.device)
        flat_obs, flat_actions = obs.reshape(T * E, -1).to(self.device), actions.reshape(-1).to(self.device)
        log_probs = F.log_softmax(self.policy(flat_obs).float(), -1)
        entropy = -(log_probs.exp() * log_probs).sum(-1).mean()
        values = self._v(flat_obs).float()
        advantage = returns.reshape(-1) - values.detach()
        policy_loss = -(log_probs.gather(1, flat_actions.unsqueeze(1)).squeeze(1) * advantage).mean()
        value_loss = (returns.reshape(-1) - values).pow(2).mean()
        loss = policy_loss - c.entropy_coef * entropy + c.value_coef * value_loss
        self.update(loss)
        self.updates += 1
        self.env_steps += T * E
        return torch.stack([loss, policy_loss, value_loss, entropy]).detach()

    def _step_envs(self, actions: torch.Tensor, t: int, rewards: torch.Tensor,
                   dones: torch.Tensor) -> torch.Tensor:
        """Step every environment; fills row ``t`` of rewards and dones; the next observations."""
        next_obs = []
        for i, env in enumerate(self.envs):
            obs, reward, terminated, truncated, _ = env.step(int(actions[i]))
            self._returns[i] += float(reward)
            if truncated and not terminated:  # the time limit: bootstrap from the last observation
                with torch.no_grad():
                    final = torch.as_tensor(obs, dtype=torch.float32).unsqueeze(0)
                    reward = float(reward) + self.config.discount * float(self._v(final)[0])
            rewards[t, i] = float(reward)
            if terminated or truncated:
                dones[t, i] = 1.0
                self.log.finished(self._returns[i])
                self._returns[i] = 0.0
                obs, _ = env.reset()
            next_obs.append(obs)
        return torch.as_tensor(np.stack(next_obs), dtype=torch.float32)

    def batch_size(self, batch: Any) -> int:
        return self.config.num_envs * self.config.rollout_steps

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "updates": self.updates, "env_steps": self.env_steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.updates, self.env_steps = int(state["updates"]), int(state["env_steps"])
        self._obs, self._seed = None, self.config.seed + self.env_steps  # fresh episodes

    # --- evaluation -----------------------------------------------------------------------

    def evaluate(self, loader: DataLoader, prefix: str = "val_",
                 with_samples: bool = False) -> dict[str, Any]:
        """Greedy return over one episode per seed of ``loader``; on validation the episode figures."""
        metrics = self.greedy_return(self.policy, loader, prefix)
        if with_samples:
            metrics.update(self.log.metrics(), updates=self.updates)
        return metrics
