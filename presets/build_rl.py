"""Reinforcement-learning presets: DQN and an advantage actor-critic (A2C) on CartPole-v1.

Loaded by `presets/build.py`, which writes every maker of `PRESETS` to
`presets/<name>.json`. These projects train in gymnasium's CartPole-v1 (the
training setting ``env``), not on a dataset: their "data" section is empty.
An epoch is ``env_steps`` environment steps; ``val_return`` is the mean return
of the greedy policy over ``eval_episodes`` seeded episodes.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build import Builder, new_project

OBS, ACTIONS = 4, 2  # CartPole-v1: cart position and velocity, pole angle and angular velocity; left, right
RL_TRAINING = {"env": "CartPole-v1", "early_stop_metric": "val_return", "early_stop_mode": "max",
               "eval_episodes": 5}


def mlp(b, width, activation, out, out_name):
    for i in (1, 2):
        b.add("Linear", f"fc{i}", {"out_features": width})
        b.add(activation, f"{activation.lower()}{i}")
    b.add("Linear", "fc_out", {"out_features": out})
    b.add("Output", out_name)


def dqn_cartpole():
    p = new_project("dqn_cartpole", "DQN on CartPole",
                    "Mnih et al. 2015: a Q-network trained with a replay buffer and a target network on CartPole-v1.",
                    "Deep Q-learning learns the value of each action in each state and acts greedily on it. "
                    "Transitions go into a replay buffer and updates use random batches from it, so consecutive, "
                    "correlated steps do not dominate; targets come from a target network, a copy of the Q-network "
                    "moved a little towards it after every update (target_tau; with 0, copied every target_update "
                    "steps), so the network does not chase itself. With double_dqn the Q-network picks the next "
                    "action and the target network values it (Double DQN), which curbs overestimation. "
                    "Exploration is epsilon-greedy with epsilon falling linearly; the loss is Huber and gradients "
                    "are clipped (grad_clip). td_target picks Q-learning (the greedy next action), SARSA (the "
                    "action actually taken next) or expected SARSA targets. DQN on CartPole tends to forget a "
                    "solved task late in training: with restore_best the greedy policy is checked every "
                    "best_eval_every steps on best_eval_episodes episodes and the run ends with the best weights. "
                    "An epoch is env_steps environment steps; CartPole counts as solved at a mean return of 475.",
                    [OBS], {},
                    {"recipe": "dqn", **RL_TRAINING, "optimizer": "adam", "lr": 0.0005, "epochs": 50,
                     "batch_size": 64, "grad_clip": 10.0, "env_steps": 1000, "discount": 0.99,
                     "td_target": "q_learning", "replay_size": 50000, "learning_starts": 1000,
                     "train_every": 1, "target_update": 500, "target_tau": 0.005, "epsilon_start": 1.0,
                     "epsilon_end": 0.02, "epsilon_decay_steps": 10000, "double_dqn": True,
                     "restore_best": True, "best_eval_every": 1000, "best_eval_episodes": 10},
                    task="reinforcement")
    b = Builder(p.add_network("q_network"))
    b.add("Input", "observation", {"shape": [OBS]})
    mlp(b, 128, "ReLU", ACTIONS, "q_values")
    return p


def actor_critic():
    p = new_project("actor_critic", "Advantage actor-critic on CartPole",
                    "Mnih et al. 2016 (A2C): a policy network and a value network trained on n-step returns on CartPole-v1.",
                    "An actor-critic method learns a policy (the actor) directly and a state-value function (the "
                    "critic) beside it. Several environments run side by side for rollout_steps steps; the n-step "
                    "return minus the critic's value is the advantage, which scales the policy gradient (actions "
                    "that did better than expected become likelier), while the critic regresses onto the n-step "
                    "return. An entropy bonus (entropy_coef) keeps the policy exploring. The two networks are "
                    "named after their roles, policy (action logits) and value (one number).",
                    [OBS], {},
                    {"recipe": "actor_critic", **RL_TRAINING, "optimizer": "adam", "lr": 0.001, "epochs": 50,
                     "grad_clip": 0.5, "env_steps": 4000, "discount": 0.99, "num_envs": 8, "rollout_steps": 5,
                     "entropy_coef": 0.01, "value_coef": 0.5},
                    task="reinforcement")
    b = Builder(p.add_network("policy"))
    b.add("Input", "observation", {"shape": [OBS]})
    mlp(b, 64, "Tanh", ACTIONS, "logits")
    b = Builder(p.add_network("value"))
    b.add("Input", "observation", {"shape": [OBS]})
    mlp(b, 64, "Tanh", 1, "value")
    return p


PRESETS = [dqn_cartpole, actor_critic]
