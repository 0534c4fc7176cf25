"""The DQN recipe: a Q-network learns action values in a gymnasium environment (Mnih et al. 2015).

Role "model" is the Q-network (the project's first network): it maps an
observation to one value per action. There is no dataset: one training step
is one environment step (``batches`` yields ``env_steps`` of them per epoch;
an episode runs on across epochs). Each step acts epsilon-greedily (epsilon
falls linearly from ``epsilon_start`` to ``epsilon_end`` over
``epsilon_decay_steps`` steps), stores the transition in a replay buffer and,
every ``train_every`` steps once the buffer holds ``learning_starts``
transitions (and at least a batch), takes one optimizer step on a batch drawn
from it: the Huber loss (``loss`` "auto"; "mse" also allowed) between
Q(s, a) and the target `td_targets` computes from a target network. The
target network is a copy of the Q-network, copied again every
``target_update`` steps, or moved towards it by ``target_tau`` after every
update when that is above 0 (Polyak averaging). ``td_target`` picks the target:

- ``q_learning``: r + γ Q_target(s', g), g = argmax_a' Q_target(s', a')
- ``sarsa``: r + γ Q_target(s', a'), a' the action the behaviour policy took in s'
- ``expected_sarsa``: r + γ [(1 − ε) Q_target(s', g) + ε mean_a' Q_target(s', a')]

(no bootstrap after a termination; a time-limit truncation still bootstraps).
With ``double_dqn`` (van Hasselt et al. 2016) the greedy action g is the
online network's argmax instead, valued by the target network: the max of
noisy estimates no longer biases the targets upwards. SARSA has no greedy
action, so it ignores the setting. Gradients are clipped to ``grad_clip``.

With ``restore_best`` the recipe plays ``best_eval_episodes`` greedy episodes
(their own seeds, apart from the validation ones) every ``best_eval_every``
steps and after the run's last step, keeps a copy of the weights with the
best mean return (`rl_env.BestWeights`; a tie keeps the later ones) and, at
that last step, loads them back into the Q-network and the target network:
DQN on CartPole often reaches the maximum return and then forgets it, and
the weights a run ends with (the last epoch's evaluation, final.pt, the last
checkpoint) should be its best. A run stopped part way keeps its current
weights.

On the CPU the steps run with one intra-op thread (`rl_env.one_cpu_thread`).
``train_step`` returns the step's loss, 0 for a step without an update.

Evaluation plays one greedy episode per seed of the validation "split" (see
`studio.train.rl_env`) and reports ``<prefix>return``, their mean; on
validation also ``episode_return`` (mean return of the training episodes that
finished this epoch; the last finished one when none did), ``episode_returns``,
``episodes`` (finished so far), ``epsilon``, ``updates`` and, with
``restore_best``, ``best_return`` (the best greedy check so far).

Checkpoints hold the Q-network (as every run's), the optimizer and schedule,
the target network, the step and update counters (epsilon follows from the
step), the exploration RNG and the best weights kept so far. The replay
buffer and the environment's state are not saved: a resumed run refills the
buffer (no updates until it holds ``learning_starts`` transitions again) and
starts a fresh episode.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from studio.errors import TrainingError
from studio.train.recipes.base import RecipeContext
from studio.train.recipes.rl import EnvironmentRecipe, check_outputs
from studio.train.rl_env import BEST_SEED_BASE, BestWeights, ReplayBuffer, evaluate_greedy, make_env


def td_targets(kind: str, rewards: torch.Tensor, dones: torch.Tensor, next_q: torch.Tensor,
               next_actions: torch.Tensor, discount: float, epsilon: float = 0.0,
               online_next_q: torch.Tensor | None = None) -> torch.Tensor:
    """One-step TD targets for a batch.

    Args:
        kind: "q_learning", "sarsa" or "expected_sarsa".
        rewards: ``(B,)`` rewards.
        dones: ``(B,)`` 1.0 where the episode terminated (no bootstrap).
        next_q: ``(B, A)`` target-network values of the next observations.
        next_actions: ``(B,)`` actions the behaviour policy chose there (SARSA).
        discount: γ.
        epsilon: the behaviour policy's epsilon (expected SARSA).
        online_next_q: ``(B, A)`` online-network values of the next observations:
            when given, its argmax is the greedy action (Double DQN), valued by ``next_q``.
    """
    chooser = next_q if online_next_q is None else online_next_q
    greedy = next_q.gather(1, chooser.argmax(1, keepdim=True)).squeeze(1)
    if kind == "q_learning":
        bootstrap = greedy
    elif kind == "sarsa":
        bootstrap = next_q.gather(1, next_actions.long().unsqueeze(1)).squeeze(1)
    elif kind == "expected_sarsa":
        bootstrap = (1 - epsilon) * greedy + epsilon * next_q.mean(1)
    else:
        raise TrainingError(f"training.td_target: unknown value {kind!r}; allowed: q_learning, sarsa, "
                            f"expected_sarsa")
    return rewards + discount * (1 - dones) * bootstrap


def linear_epsilon(step: int, start: float, end: float, decay_steps: int) -> float:
    """Epsilon after ``step`` environment steps: linear from ``start`` to ``end``, then flat."""
    return end + (start - end) * max(0.0, 1.0 - step / decay_steps)


class DqnRecipe(EnvironmentRecipe):
    """Deep Q-learning of role "model" in the ``env`` environment (see the module docstring)."""

    name = "dqn"
    roles = ("model",)
    loss_names = ("loss",)

    def metric_names(self, data: Any) -> list[str]:
        return ["train_loss", "val_return", "episode_return", "epsilon", "lr", "samples_per_s"]

    def epoch_steps(self, config: Any) -> int:
        return config.env_steps

    def setup(self, ctx: RecipeContext) -> None:
        self.start(ctx)
        c = self.config
        if c.loss not in ("auto", "mse"):
            raise TrainingError(f"training.loss: the dqn recipe uses the Huber loss (\"auto\") or \"mse\", "
                                f"not {c.loss!r}")
        self.loss_fn = F.mse_loss if c.loss == "mse" else F.smooth_l1_loss
        self.q = ctx.raw_models["model"]
        self.env = make_env(c.env)
        self.obs_dim, self.actions = self.env.observation_space.shape[0], int(self.env.action_space.n)
        check_outputs(self.q, self.obs_dim, self.actions, "model", "one value per action")
        self.target = copy.deepcopy(self.q).requires_grad_(False)
        learner = self.learner(self.q, ("optimizer", "schedule"))
        self.optimizer, self.schedule = learner.optimizer, learner.schedule  # as a one-optimizer recipe's
        self.buffer = ReplayBuffer(c.replay_size, self.obs_dim, self.device)
        self.step = self.updates = 0
        self.total_steps = c.epochs * ctx.steps_per_epoch
        self.best = BestWeights()
        self._best_seeds = [BEST_SEED_BASE + 1000 * c.seed + i for i in range(c.best_eval_episodes)]
        self._reset_seed: int | None = c.seed
        self._obs: Any = None
        self._zero = torch.zeros((), device=self.device)

    # --- acting -----------------------------------------------------------------------

    @property
    def epsilon(self) -> float:
        c = self.config
        return linear_epsilon(self.step, c.epsilon_start, c.epsilon_end, c.epsilon_decay_steps)

    def _act(self, obs: Any) -> int:
        if float(torch.rand((), generator=self.gen)) < self.epsilon:
            return int(torch.randint(self.actions, (), generator=self.gen))
        with torch.no_grad():
            q = self.q(torch.as_tensor(obs, dtype=torch.float32, device=self.device).unsqueeze(0))
        return int(q.argmax(1)[0])

    def _new_episode(self) -> None:
        self._obs, _ = self.env.reset(seed=self._reset_seed)
        self._reset_seed = None  # later resets continue the environment's own RNG
        self._action = self._act(self._obs)
        self._return = 0.0

    # --- training -----------------------------------------------------------------------

    def train_step(self, batch: Any) -> torch.Tensor:
        if self._obs is None:
            self._new_episode()
        obs, action = self._obs, self._action
        next_obs, reward, terminated, truncated, _ = self.env.step(action)
        self.step += 1
        self._return += float(reward)
        next_action = self._act(next_obs)
        self.buffer.push(obs, action, reward, next_obs, terminated, next_action)
        if terminated or truncated:
            self.log.finished(self._return)
            self._new_episode()
        else:
            self._obs, self._action = next_obs, next_action
        c = self.config
        loss = self._zero
        if len(self.buffer) >= max(c.learning_starts, c.batch_size) and self.step % c.train_every == 0:
            loss = self._update()
        if c.target_tau == 0 and self.step % c.target_update == 0:
            self.target.load_state_dict(self.q.state_dict())
        if c.restore_best:
            self._keep_best()
        return loss

    def _keep_best(self) -> None:
        """Offer the weights to `self.best` every ``best_eval_every`` steps; load the best at the end."""
        c, last = self.config, self.step == self.total_steps
        if self.step % c.best_eval_every == 0 or last:
            returns = evaluate_greedy(self.q, c.env, self._best_seeds, self.device)
            self.best.offer(sum(returns) / len(returns), self.q, self.step)
        if last and self.best.restore(self.q):
            self.target.load_state_dict(self.q.state_dict())

    def _update(self) -> torch.Tensor:
        c = self.config
        b = self.buffer.sample(c.batch_size, self.gen)
        q = self.q(b["obs"]).gather(1, b["actions"].unsqueeze(1)).squeeze(1)
        with torch.no_grad():
            online = self.q(b["next_obs"]) if c.double_dqn and c.td_target != "sarsa" else None
            target = td_targets(c.td_target, b["rewards"], b["dones"], self.target(b["next_obs"]),
                                b["next_actions"], c.discount, self.epsilon, online)
        loss = self.loss_fn(q, target)
        self.update(loss)
        self.updates += 1
        if c.target_tau > 0:
            with torch.no_grad():
                for t, p in zip(self.target.parameters(), self.q.parameters()):
                    t.lerp_(p, c.target_tau)
        return loss.detach()

    def batch_size(self, batch: Any) -> int:
        return 1

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "target": self.target.state_dict(), "step": self.step,
                "updates": self.updates, "best": self.best.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.target.load_state_dict(state["target"])
        self.step, self.updates = int(state["step"]), int(state["updates"])
        if "best" in state:  # checkpoints written before restore_best lack it
            self.best.load_state_dict(state["best"])
        self._obs, self._reset_seed = None, self.config.seed + self.step  # a fresh episode

    # --- evaluation -----------------------------------------------------------------------

    def evaluate(self, loader: DataLoader, prefix: str = "val_",
                 with_samples: bool = False) -> dict[str, Any]:
        """Greedy return over one episode per seed of ``loader``; on validation the episode figures."""
        metrics = self.greedy_return(self.q, loader, prefix)
        if with_samples:
            metrics.update(self.log.metrics(), epsilon=self.epsilon, updates=self.updates)
            if self.config.restore_best and self.best.value is not None:
                metrics["best_return"] = self.best.value
        return metrics
